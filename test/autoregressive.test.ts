/**
 * The autoregressive family (nodes/autoregressive/): the density p(x1) p(x2 | x1) integrates
 * to one, its sampler draws from that density (moments against the density on a grid), and
 * both templates meet their held-out bars where a moment-matched Gaussian fails them.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { autoregressive } from '../nodes/autoregressive/index';
import type { DistValue } from '../nodes/core/values';
import { loadProgramOrThrow } from '../src-main/compile/loadProgram';
import { evaluateRun } from '../src-main/eval/evaluate';
import { initBackend } from '../src-main/runtime/backend';
import { createFeeds } from '../src-main/runtime/feeds';
import { Trainer } from '../src-main/runtime/Trainer';
import { fitGaussian } from './baselines';
import { loadTemplate } from './trainTemplate';

function trainerFor(template: string, overrides?: Record<string, Record<string, unknown>>) {
  const doc = loadTemplate(template, overrides);
  const { program } = loadProgramOrThrow(doc, (m) => new Error(m));
  const feeds = createFeeds(program, { seed: 0 });
  return { trainer: new Trainer(program, feeds, { seed: 0, batchSize: doc.meta.training.batchSize }), program, feeds, steps: doc.meta.training.steps as number };
}

const density = (t: Trainer) => t.runner.evaluate([{ node: 'ar', port: 'p' }], { batchSize: 1, mode: 'sample' })[0] as DistValue<tf.Tensor>;

beforeAll(async () => {
  await initBackend('wasm');
});

describe('autoregressive mixture density', () => {
  it('integrates to one, and its samples have the moments of the density', () => {
    // a few training steps move every conditional away from its initial values
    const { trainer } = trainerFor('ar-8gaussians', { ar: { hidden: [16], components: 4 } });
    for (let i = 0; i < 30; i++) trainer.round(false);
    const p = density(trainer);
    const h = 0.04;
    const grid: number[] = [];
    for (let a = -7; a < 7; a += h) for (let b = -7; b < 7; b += h) grid.push(a + h / 2, b + h / 2);
    const lp = Float32Array.from(tf.tidy(() => p.logProb(tf.tensor2d(grid, [grid.length / 2, 2]))).dataSync());
    let mass = 0;
    const m = [0, 0];
    lp.forEach((l, i) => {
      const w = Math.exp(l) * h * h;
      mass += w;
      m[0]! += w * grid[2 * i]!;
      m[1]! += w * grid[2 * i + 1]!;
    });
    expect(mass).toBeCloseTo(1, 2);
    const s = Float32Array.from(tf.tidy(() => p.sample(40000)).dataSync());
    const sm = [0, 1].map((d) => s.filter((_, i) => i % 2 === d).reduce((a, b) => a + b, 0) / 20000 / 2);
    sm.forEach((v, d) => expect(Math.abs(v - m[d]! / mass), `mean of x${d + 1}`).toBeLessThan(0.05));
    // the conditional: E[x2 | x1 > 0] from samples and from the density
    let num = 0;
    let den = 0;
    lp.forEach((l, i) => {
      if (grid[2 * i]! > 0) {
        num += Math.exp(l) * grid[2 * i + 1]!;
        den += Math.exp(l);
      }
    });
    const pos = Array.from({ length: 20000 }, (_, i) => [s[2 * i]!, s[2 * i + 1]!]).filter(([a]) => a! > 0);
    expect(Math.abs(pos.reduce((a, [, b]) => a + b!, 0) / pos.length - num / den)).toBeLessThan(0.06);
    trainer.dispose();
  }, 60_000);

  for (const t of autoregressive.templates) {
    it(`${t.name}: held-out NLL within the bar; a moment-matched Gaussian fails it`, () => {
      const { trainer, program, feeds, steps } = trainerFor(t.name);
      for (let i = 0; i < steps; i++) trainer.round(false);
      const b = t.bars[0]!;
      expect(evaluateRun(trainer, program, feeds, { n: 2000 })[b.metric]).toBeLessThanOrEqual(b.bound);
      const feed = feeds.get('data')!;
      expect(fitGaussian(feed).nll(feed.heldOut(2000))).toBeGreaterThan(b.bound);
      trainer.dispose();
    }, 240_000);
  }
});
