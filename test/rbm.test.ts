/**
 * The Boltzmann-machine family (nodes/rbm/): the free energy is the hidden units summed out;
 * AIS agrees with the exactly enumerated log Z of a tiny RBM; a short run of rbm-mnist (CD-1
 * and PCD side by side): the CD-1 RBM's AIS held-out NLL, upper end of its 95% interval
 * included, meets a bar that independent pixels fail, and PCD beats CD-1 at the same budget;
 * the PCD chains are node state; the free energy exports as
 * an energy target and the Gibbs sampler as one ONNX Loop, both equal to tfjs to 1e-4.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { Rng } from '../src-main/data/rng';
import { aisLogZ } from '../src-main/eval/ais';
import { evaluateRun } from '../src-main/eval/evaluate';
import { exportOnnx, formatParityReport, listTargets, parityCheck } from '../src-main/export/exportModel';
import { decodeModel } from '../src-main/export/onnxGraph';
import { initBackend } from '../src-main/runtime/backend';
import type { Trainer, DataFeed } from '../src-main/runtime/Trainer';
import { freeEnergy, type RbmFn } from '../nodes/rbm/rbmOps';
import { independentPixelsNll } from './baselines';
import { trainTemplate } from './trainTemplate';

/** training rounds of the short run (the template trains 3000) and its bar (nats per image) */
const STEPS = 300;
const BAR = 180;

let trainer: Trainer;
let feeds: Map<string, DataFeed>;
let metrics: Record<string, number>;
let program: ReturnType<typeof trainTemplate>['program'];



/** a random tiny RBM (D visible, H hidden) with weights of scale s */
function tinyRbm(D: number, H: number, s: number, seed: number) {
  const rng = new Rng(seed);
  const W = Array.from({ length: D * H }, () => s * rng.normal());
  const b = Array.from({ length: D }, () => 0.5 * rng.normal());
  const c = Array.from({ length: H }, () => 0.5 * rng.normal());
  return { D, H, W, b, c };
}

/** log sum over all 2^D visible vectors of exp(-F(v)), in float64 */
function exactLogZ({ D, H, W, b, c }: ReturnType<typeof tinyRbm>): number {
  const terms: number[] = [];
  for (let m = 0; m < 2 ** D; m++) {
    let t = 0;
    for (let i = 0; i < D; i++) if ((m >> i) & 1) t += b[i]!;
    for (let j = 0; j < H; j++) {
      let a = c[j]!;
      for (let i = 0; i < D; i++) if ((m >> i) & 1) a += W[i * H + j]!;
      t += Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
    }
    terms.push(t);
  }
  const max = Math.max(...terms);
  return max + Math.log(terms.reduce((s, t) => s + Math.exp(t - max), 0));
}

describe('RBM maths', () => {
  it('F(v) is -log sum_h exp(-E(v, h)), the hidden units summed out (brute force over h)', () => {
    const r = tinyRbm(5, 4, 1, 1);
    const ops = new TfjsOps({ seed: 1 });
    tf.tidy(() => {
      const fn = { W: tf.tensor2d(r.W, [5, 4]), b: tf.tensor1d(r.b), c: tf.tensor1d(r.c) } as unknown as RbmFn<tf.Tensor>;
      const vs = [[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]];
      const F = freeEnergy(ops, fn, tf.tensor2d(vs)).dataSync();
      vs.forEach((v, n) => {
        let s = 0;
        for (let m = 0; m < 16; m++) {
          const h = [0, 1, 2, 3].map((j) => (m >> j) & 1);
          let negE = 0;
          v.forEach((vi, i) => (negE += vi * r.b[i]!));
          h.forEach((hj, j) => (negE += hj * r.c[j]!));
          v.forEach((vi, i) => h.forEach((hj, j) => (negE += vi * hj * r.W[i * 4 + j]!)));
          s += Math.exp(negE);
        }
        expect(F[n]).toBeCloseTo(-Math.log(s), 4);
      });
    });
  });

  it('AIS log Z of a tiny RBM agrees with exact enumeration within 0.1 nats', () => {
    const r = tinyRbm(12, 8, 1.5, 2);
    const exact = exactLogZ(r);
    const W = tf.tensor2d(r.W, [12, 8]);
    const b = tf.tensor1d(r.b);
    const c = tf.tensor1d(r.c);
    const bA = tf.zeros([12]) as tf.Tensor1D;
    const good = aisLogZ(W, b, c, bA, { betas: 2000, chains: 200, seed: 3 });
    console.log(`tiny RBM log Z: exact ${exact.toFixed(4)}, AIS ${good.logZ.toFixed(4)} +- ${good.logZSE.toFixed(4)}`);
    tf.dispose([W, b, c, bA]);
    expect(Math.abs(good.logZ - exact)).toBeLessThan(0.1);
    expect(good.logZSE).toBeGreaterThan(0);
    expect(good.logZSE).toBeLessThan(0.1);
  });
});

describe('rbm-mnist', () => {
  beforeAll(async () => {
    await initBackend('wasm');
    const t0 = Date.now();
    const run = trainTemplate('rbm-mnist', { steps: STEPS, seed: 0 });
    trainer = run.trainer;
    feeds = run.feeds as Map<string, DataFeed>;
    program = run.program;
    const t1 = Date.now();
    metrics = evaluateRun(trainer, program, feeds, { n: 2000, ais: { betas: 1000, chains: 32 } });
    console.log(`rbm-mnist: ${STEPS} rounds in ${((t1 - t0) / 1000).toFixed(1)} s, evaluation in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  }, 240_000);

  afterAll(() => trainer?.dispose());

  it(`after ${STEPS} rounds the AIS held-out NLL (upper end of its 95% interval) beats independent pixels (<= ${BAR} nats), and PCD beats CD-1`, () => {
    const baseline = independentPixelsNll(feeds.get('data')!, 1000);
    const f = (k: string) => `${metrics[`${k}.aisNll`]!.toFixed(2)} +- ${(1.96 * metrics[`${k}.aisNllSE`]!).toFixed(2)} (log Z ${metrics[`${k}.logZ`]!.toFixed(2)})`;
    console.log(`held-out NLL: CD-1 ${f('cd')}, PCD ${f('pcd')}; independent pixels ${baseline.toFixed(2)}`);
    expect(baseline).toBeGreaterThan(BAR);
    for (const k of ['cd', 'pcd']) {
      expect(metrics[`${k}.aisNllSE`]).toBeGreaterThan(0);
      expect(metrics[`${k}.aisNllSE`]).toBeLessThan(10);
    }
    expect(metrics['cd.aisNllUpper95']).toBeLessThanOrEqual(BAR);
    // same budget and optimiser (SGD with momentum): PCD better than CD-1, the 95% intervals apart
    expect(metrics['pcd.aisNllUpper95']).toBeLessThan(metrics['cd.aisNll']! - 1.96 * metrics['cd.aisNllSE']!);
  });

  it('keeps the PCD chains as node state (binary, changed by training) and CD-1 keeps none', () => {
    const names = [...trainer.store.vars.keys()];
    expect(names).toContain('state/negPcd/chains');
    expect(names.some((n) => n.startsWith('state/negCd/'))).toBe(false);
    const chains = trainer.store.vars.get('state/negPcd/chains')!.dataSync();
    expect(chains.length).toBe(100 * 784);
    expect(Array.from(chains).every((x) => x === 0 || x === 1)).toBe(true);
  });

  it('offers the free energies and the Gibbs samplers as export targets', () => {
    expect(listTargets(program).map((t) => t.id)).toEqual(['energy:rbmCd', 'energy:rbmPcd', 'sampler:sampleCd', 'sampler:samplePcd']);
  });

  it('exports the free energy F(v) with parity <= 1e-4', async () => {
    const r = await parityCheck(program, trainer.store.snapshot(), 'energy:rbmPcd', { n: 16, seed: 7 });
    expect(r.problems, formatParityReport(r)).toEqual([]);
    expect(r.pass, formatParityReport(r)).toBe(true);
    expect(r.maxError).toBeLessThanOrEqual(1e-4);
  }, 60_000);

  it('exports the Gibbs sampler (1000 steps) as one ONNX Loop, equal to tfjs to 1e-4 with the noise as inputs', async () => {
    const weights = trainer.store.snapshot();
    const model = exportOnnx(program, weights, 'sampler:samplePcd', { noise: 'inputs' });
    const loops = decodeModel(model.bytes).graph!.node!.filter((n) => n.opType === 'Loop');
    expect(loops).toHaveLength(1);
    const r = await parityCheck(program, weights, 'sampler:samplePcd', { noise: 'inputs', model, n: 8, seed: 7 });
    expect(r.problems, formatParityReport(r)).toEqual([]);
    expect(r.pass, formatParityReport(r)).toBe(true);
    expect(r.maxError).toBeLessThanOrEqual(1e-4);
  }, 120_000);
});
