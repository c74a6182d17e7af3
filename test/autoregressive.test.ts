/**
 * The autoregressive family (nodes/autoregressive/): the density p(x1) p(x2 | x1) integrates
 * to one, its sampler draws from that density (moments against the density on a grid), and
 * both templates meet their held-out bars where a moment-matched Gaussian fails them. MADE:
 * its masks make p(x) sum to one over all binary vectors (any ordering), its loop sampler
 * draws each pattern with its probability, and made-mnist beats independent pixels.
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
import { made } from '../nodes/autoregressive/made';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { applyNode, randomiseStore } from './specHarness';
import { independentPixelsNll } from './baselines';

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

  for (const t of autoregressive.templates.filter((x) => x.name !== 'made-mnist')) {
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

describe('MADE', () => {
  /** a MADE over D bits with random weights, as a Dist */
  const tiny = (D: number, params: Record<string, unknown>) => {
    const ops = new TfjsOps({ seed: 5 });
    const r = applyNode(made, { x: tf.zeros([4, D]) }, params, ops);
    randomiseStore(r.store, 0.8, 3);
    return r.outputs.p as DistValue<tf.Tensor>;
  };
  const patterns = (D: number) => Array.from({ length: 2 ** D }, (_, k) => Array.from({ length: D }, (_, d) => (k >> d) & 1));

  it('sums to one over all 2^D binary vectors, in natural and random order, with one and two hidden layers', () => {
    for (const params of [{ hidden: [16] }, { hidden: [12, 10], ordering: 'random', seed: 4 }, { hidden: [9], ordering: 'random', seed: 1 }, { hidden: [10], ordering: 'random', seed: 3, direct: true }]) {
      const D = 8;
      const p = tiny(D, params);
      const all = patterns(D);
      const lp = tf.tidy(() => p.logProb(tf.tensor2d(all)).dataSync());
      const total = Array.from(lp).reduce((a, l) => a + Math.exp(l), 0);
      expect(total, JSON.stringify(params)).toBeCloseTo(1, 4);
    }
  });

  it('categorical (K codes per position): sums to one over all K^D code vectors and its sampler draws each with its probability', () => {
    const D = 3;
    const K = 3;
    const p = tiny(D, { hidden: [12], ordering: 'random', seed: 5, categories: K, direct: true });
    const all = Array.from({ length: K ** D }, (_, k) => Array.from({ length: D }, (_, d) => Math.floor(k / K ** d) % K));
    const probs = Array.from(tf.tidy(() => p.logProb(tf.tensor2d(all)).dataSync())).map(Math.exp);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    const n = 20000;
    const s = tf.tidy(() => p.sample(n).dataSync());
    const counts = new Array(all.length).fill(0);
    for (let i = 0; i < n; i++) {
      let k = 0;
      for (let d = 0; d < D; d++) k += s[i * D + d]! * K ** d;
      counts[k]++;
    }
    const tv = 0.5 * counts.reduce((a, c, k) => a + Math.abs(c / n - probs[k]!), 0);
    expect(tv).toBeLessThan(0.025);
  });

  it('categorical draws pick exactly one code also when the logits are large', () => {
    const ops = new TfjsOps({ seed: 5 });
    const r = applyNode(made, { x: tf.zeros([4, 3]) }, { hidden: [8], categories: 4 }, ops);
    randomiseStore(r.store, 40, 3);
    const s = tf.tidy(() => (r.outputs.p as DistValue<tf.Tensor>).sample(2000).dataSync());
    // every drawn code is one of 0..3 (no draw leaves a position at "no code", read as 0 for all)
    expect(Array.from(s).every((v) => Number.isInteger(v) && v >= 0 && v <= 3)).toBe(true);
    const counts = [0, 1, 2, 3].map((k) => Array.from(s).filter((v) => v === k).length);
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1);
    const lp = tf.tidy(() => (r.outputs.p as DistValue<tf.Tensor>).logProb(tf.tensor2d(Array.from({ length: 2000 }, (_, i) => [s[3 * i]!, s[3 * i + 1]!, s[3 * i + 2]!]))).dataSync());
    // with weights of scale 40 the conditionals are near deterministic: the drawn codes are the likely ones
    expect(Array.from(lp).reduce((a, b) => a + b, 0) / 2000).toBeGreaterThan(-0.5);
  });

  it('its loop sampler draws every pattern with its probability', () => {
    const D = 4;
    const p = tiny(D, { hidden: [12], ordering: 'random', seed: 2 });
    const all = patterns(D);
    const probs = Array.from(tf.tidy(() => p.logProb(tf.tensor2d(all)).dataSync())).map(Math.exp);
    const n = 20000;
    const s = tf.tidy(() => p.sample(n).dataSync());
    const counts = new Array(all.length).fill(0);
    for (let i = 0; i < n; i++) {
      let k = 0;
      for (let d = 0; d < D; d++) k += s[i * D + d]! << d;
      counts[k]++;
    }
    const tv = 0.5 * counts.reduce((a, c, k) => a + Math.abs(c / n - probs[k]!), 0);
    expect(tv).toBeLessThan(0.02);
  });

  it('made-mnist, a short run: held-out NLL far below independent pixels', () => {
    const { trainer, program, feeds } = trainerFor('made-mnist');
    for (let i = 0; i < QUICK_STEPS; i++) trainer.round(false);
    const nll = evaluateRun(trainer, program, feeds, { n: 1000 })['made.nll']!;
    const pixels = independentPixelsNll(feeds.get('data')!, 1000);
    expect(pixels).toBeGreaterThan(QUICK_BAR + 40);
    expect(nll).toBeLessThanOrEqual(QUICK_BAR);
    trainer.dispose();
  }, 300_000);
});

/** the quick made-mnist run (the template trains 5000 steps) and its bar */
const QUICK_STEPS = 800;
const QUICK_BAR = 160;
