/**
 * The matMul gradient with explicit transposes (tfjsGradients.ts) against tfjs's own
 * (transposed matMul kernels): training steps of templates, the two gradients registered in
 * turn and interleaved in one run (rounds of `STEPS` steps each), median of per-round ratios.
 */
import * as tf from '@tensorflow/tfjs';
import { loadProgramOrThrow } from '../src-main/compile/loadProgram';
import { readTemplate } from '../src-main/document/templates';
import { createFeeds } from '../src-main/runtime/feeds';
import { batchMatMulGrad, tfjsBatchMatMulGrad } from '../src-main/runtime/tfjsGradients';
import { Trainer } from '../src-main/runtime/Trainer';

const ROUNDS = 5;
const STEPS = 10;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface MatMulGradRow {
  template: string;
  fastMs: number;
  tfjsMs: number;
  /** median over rounds of tfjs / fast */
  speedup: number;
}

export function benchMatMulGrad(templates: string[]): MatMulGradRow[] {
  if (!tfjsBatchMatMulGrad) throw new Error('tfjs registers no BatchMatMul gradient');
  const rows: MatMulGradRow[] = [];
  try {
    for (const name of templates) {
      const doc = readTemplate(name) as any;
      const { program } = loadProgramOrThrow(doc, (m) => new Error(`${name}: ${m}`));
      const feeds = createFeeds(program, { seed: 0 });
      const trainer = new Trainer(program, feeds, { seed: 0, batchSize: doc.meta.training.batchSize });
      const time = (g: tf.GradConfig) => {
        tf.registerGradient(g);
        trainer.round(false); // warm
        const t0 = performance.now();
        for (let i = 0; i < STEPS; i++) trainer.round(false);
        return (performance.now() - t0) / STEPS;
      };
      const fast: number[] = [];
      const slow: number[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const f = time(batchMatMulGrad);
        const s = time(tfjsBatchMatMulGrad);
        fast.push(f);
        slow.push(s);
        ratios.push(s / f);
      }
      trainer.dispose();
      rows.push({ template: name, fastMs: median(fast), tfjsMs: median(slow), speedup: median(ratios) });
    }
  } finally {
    tf.registerGradient(batchMatMulGrad);
  }
  return rows;
}
