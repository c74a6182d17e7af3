/**
 * The Gaussian-Bernoulli RBM (nodes/rbm/gaussianRbm.ts): its free energy is the hidden units
 * summed out of E(v, h); its mixture density integrates to one and equals exp(-F(v)) / Z;
 * block Gibbs sampling reaches the mixture's moments; gbrbm-8gaussians trained by CD-1 meets
 * its exact held-out NLL bar, which a Gaussian fit fails, and AIS (binary visible units only)
 * reports nothing for it.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DistValue } from '../nodes/core/values';
import { gaussianRbmMixture } from '../nodes/rbm/gaussianRbm';
import { rbm } from '../nodes/rbm/index';
import { freeEnergy, gibbsStep, type RbmFn } from '../nodes/rbm/rbmOps';
import { Rng } from '../src-main/data/rng';
import { evaluateRun } from '../src-main/eval/evaluate';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { fitGaussian } from './baselines';
import { trainTemplate } from './trainTemplate';

let ops: TfjsOps;
beforeAll(async () => {
  await initBackend('cpu');
  ops = new TfjsOps({ seed: 0 });
});

/** a random Gaussian-Bernoulli RBM with D = 2 visible and H hidden units */
function tiny(H: number, seed: number) {
  const rng = new Rng(seed);
  const D = 2;
  const W = Array.from({ length: D * H }, () => 0.8 * rng.normal());
  const b = Array.from({ length: D }, () => 0.5 * rng.normal());
  const c = Array.from({ length: H }, () => 0.5 * rng.normal());
  const logSigma = Array.from({ length: D }, () => -0.5 + 0.3 * rng.normal());
  const fn: RbmFn<tf.Tensor> = {
    kind: 'Fn',
    owner: 'rbm',
    in: [D],
    out: [1],
    timeConditioned: false,
    visible: D,
    hidden: H,
    W: tf.tensor2d(W, [D, H]),
    b: tf.tensor1d(b),
    c: tf.tensor1d(c),
    logSigma: tf.tensor1d(logSigma),
    call: (v) => tf.reshape(freeEnergy(ops, fn, v), [-1, 1]),
  };
  return { fn, W, b, c, logSigma, D, H };
}

/** -log sum_h exp(-E(v, h)) by brute force, E(v, h) = sum (v - b)^2 / (2 sigma^2) - c.h - (v / sigma) W h */
function bruteF(t: ReturnType<typeof tiny>, v: number[]): number {
  const terms: number[] = [];
  for (let m = 0; m < 2 ** t.H; m++) {
    let e = 0;
    for (let i = 0; i < t.D; i++) e += (v[i]! - t.b[i]!) ** 2 / (2 * Math.exp(2 * t.logSigma[i]!));
    for (let j = 0; j < t.H; j++) {
      if (!((m >> j) & 1)) continue;
      e -= t.c[j]!;
      for (let i = 0; i < t.D; i++) e -= (v[i]! / Math.exp(t.logSigma[i]!)) * t.W[i * t.H + j]!;
    }
    terms.push(-e);
  }
  const max = Math.max(...terms);
  return -(max + Math.log(terms.reduce((s, x) => s + Math.exp(x - max), 0)));
}

describe('Gaussian-Bernoulli RBM maths', () => {
  it('F(v) is -log sum_h exp(-E(v, h)) (brute force over h)', () => {
    const t = tiny(4, 1);
    const rng = new Rng(2);
    const vs = Array.from({ length: 6 }, () => [2 * rng.normal(), 2 * rng.normal()]);
    const got = Array.from(freeEnergy(ops, t.fn, tf.tensor2d(vs)).dataSync());
    vs.forEach((v, k) => expect(got[k]).toBeCloseTo(bruteF(t, v), 3));
  });

  it('its mixture over the 2^H patterns integrates to one and is exp(-F(v)) / Z', () => {
    const t = tiny(3, 3);
    const p = gaussianRbmMixture(ops, t.fn, [2]) as DistValue<tf.Tensor>;
    // a grid over [-L, L]^2 wide enough for every component (means b + sigma W h, |.| < 4)
    const n = 400;
    const L = 8;
    const h = (2 * L) / n;
    const pts: number[][] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) pts.push([-L + (i + 0.5) * h, -L + (j + 0.5) * h]);
    const grid = tf.tensor2d(pts);
    const lp = p.logProb(grid).dataSync();
    let mass = 0;
    for (const l of lp) mass += Math.exp(l) * h * h;
    expect(mass).toBeCloseTo(1, 3);
    // log p(v) + F(v) = -log Z: the same at every point
    const some = tf.tensor2d(pts.filter((_, k) => k % 20011 === 0));
    const sum = Array.from(tf.add(p.logProb(some), freeEnergy(ops, t.fn, some)).dataSync());
    for (const s of sum) expect(s).toBeCloseTo(sum[0]!, 3);
  });

  it('block Gibbs sampling reaches the mixture: means and covariance of 4000 chains after 300 steps', () => {
    const t = tiny(3, 4);
    const p = gaussianRbmMixture(ops, t.fn, [2]) as DistValue<tf.Tensor>;
    let v: tf.Tensor = tf.zeros([4000, 2]);
    for (let s = 0; s < 300; s++) {
      const next = tf.tidy(() => gibbsStep(ops, t.fn, v).v);
      v.dispose();
      v = next;
    }
    const exact = p.sample(200000);
    const moments = (x: tf.Tensor) =>
      tf.tidy(() => {
        const m = tf.mean(x, 0);
        const e = tf.sub(x, m);
        return [...m.dataSync(), ...tf.div(tf.matMul(e, e, true, false), x.shape[0]!).dataSync()];
      });
    const a = moments(v);
    const b = moments(exact);
    const scale = Math.sqrt(Math.max(b[2]!, b[5]!));
    // standard error of 4000 draws is about scale / 63; allow 4 of them
    a.forEach((x, k) => expect(Math.abs(x - b[k]!), `moment ${k}`).toBeLessThan((4 * scale * (k < 2 ? 1 : scale)) / 63));
  });
});

describe('gbrbm-8gaussians (wasm)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('CD-1 for the template steps: exact held-out NLL meets the bar that a Gaussian fit fails; AIS reports nothing', () => {
    const bar = rbm.templates.find((x) => x.name === 'gbrbm-8gaussians')!.bars[0]!;
    const { trainer, program, feeds, doc } = trainTemplate('gbrbm-8gaussians', { steps: 0 });
    for (let i = 0; i < doc.meta.training.steps; i++) trainer.round(false);
    const m = evaluateRun(trainer, program, feeds as never, {});
    expect(m['rbm.nll']).toBeLessThanOrEqual(bar.bound);
    expect(Object.keys(m).some((k) => k.startsWith('cd.ais'))).toBe(false);
    expect(m['exact.modes']).toBe(8);
    const feed = feeds.get('data')!;
    expect(fitGaussian(feed).nll(feed.heldOut(2000))).toBeGreaterThan(bar.bound);
    trainer.dispose();
  }, 120_000);
});
