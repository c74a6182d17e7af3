/**
 * Every log-density a node computes, against closed forms in float64 (symbols):
 *   log N(x; 0, I), log N(x; mu, diag sigma^2), log Bern(x; sigmoid(l)),
 *   log p_X(x) = log p_Z(f^-1(x)) + log|det df^-1/dx| through analytic bijections;
 * the diagonal-diagonal KL; beta in the ELBO (it weighs the KL only); and the samplers of
 * these distributions (moments), including the Bernoulli decoder's draws.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyticKl, bernoulli, diagNormal, standardNormal, transformed } from '../nodes/core/dists';
import type { BijectorValue, DistValue, FnValue, LossValue } from '../nodes/core/values';
import { diagonalGaussian } from '../nodes/common/diagonalGaussian';
import { nll } from '../nodes/common/nll';
import { oneShot } from '../nodes/common/oneShot';
import { standardNormal as standardNormalNode } from '../nodes/common/standardNormal';
import { actnorm } from '../nodes/flow/actnorm';
import { transformedDist } from '../nodes/flow/transformedDist';
import { bernoulliDecoder } from '../nodes/vae/bernoulliDecoder';
import { elbo } from '../nodes/vae/elbo';
import { gaussianDecoder } from '../nodes/vae/gaussianDecoder';
import { gaussianEncoder } from '../nodes/vae/gaussianEncoder';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { applyNode, arr, logNormal, maxAbsDiff, randomiseStore } from './specHarness';

beforeAll(async () => {
  await initBackend('cpu');
});

const B = 32;
const D = 3;

/** a seeded [rows, cols] matrix of N(mean, std^2) entries as nested arrays */
function matrix(rows: number, cols: number, seed: number, std = 1, mean = 0): number[][] {
  const t = tf.randomNormal([rows, cols], mean, std, 'float32', seed);
  const a = arr(t);
  t.dispose();
  return Array.from({ length: rows }, (_, i) => a.slice(i * cols, (i + 1) * cols));
}

const rowSums = (m: number[][], f: (v: number, i: number, j: number) => number) => m.map((r, i) => r.reduce((acc, v, j) => acc + f(v, i, j), 0));
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const column = (data: ArrayLike<number>, cols: number, j: number) => Array.from({ length: data.length / cols }, (_, i) => data[i * cols + j]!);
const std = (a: number[]) => {
  const m = mean(a);
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1));
};

describe('Gaussian log-densities', () => {
  it('standard normal: log N(x; 0, I) = sum_j -x_j^2 / 2 - log(2 pi) / 2 (core dist and prior node)', () => {
    const ops = new TfjsOps({ seed: 1 });
    const x = matrix(B, D, 11, 1.7, 0.4);
    const want = rowSums(x, (v) => logNormal(v, 0, 1));
    expect(maxAbsDiff(arr(standardNormal(ops, [D]).logProb(tf.tensor2d(x))), want)).toBeLessThan(1e-4);
    const node = applyNode(standardNormalNode, {}, { dim: D }, ops);
    expect(maxAbsDiff(arr((node.outputs.p as DistValue<tf.Tensor>).logProb(tf.tensor2d(x))), want)).toBeLessThan(1e-4);
  });

  it('diagonal Gaussian: log N(x; mu, diag sigma^2) with mu, sigma different per row and dimension', () => {
    const ops = new TfjsOps({ seed: 2 });
    const x = matrix(B, D, 21, 1.5);
    const mu = matrix(B, D, 22, 1);
    const logStd = matrix(B, D, 23, 0.8);
    const want = rowSums(x, (v, i, j) => logNormal(v, mu[i]![j]!, Math.exp(logStd[i]![j]!)));
    const q = diagNormal(ops, tf.tensor2d(mu), tf.tensor2d(logStd), [D]);
    expect(maxAbsDiff(arr(q.logProb(tf.tensor2d(x))), want)).toBeLessThan(1e-3);
  });

  it('the learned diagonal Gaussian prior node: log-density with its (random) mu and sigma, and samples with those moments', () => {
    const ops = new TfjsOps({ seed: 3 });
    const run = applyNode(diagonalGaussian, {}, { dim: 2 }, ops, { batch: 20000 });
    run.store.vars.get('n/mu')!.assign(tf.tensor1d([1.5, -0.5]));
    run.store.vars.get('n/logStd')!.assign(tf.tensor1d([-0.7, 0.4]));
    const p = applyNode(diagonalGaussian, {}, { dim: 2 }, ops, { batch: 20000, store: run.store }).outputs;
    const x = matrix(B, 2, 31, 1.3);
    const want = rowSums(x, (v, _i, j) => logNormal(v, [1.5, -0.5][j]!, Math.exp([-0.7, 0.4][j]!)));
    expect(maxAbsDiff(arr((p.p as DistValue<tf.Tensor>).logProb(tf.tensor2d(x))), want)).toBeLessThan(1e-4);
    const z = (p.z as tf.Tensor).dataSync();
    for (const j of [0, 1]) {
      expect(mean(column(z, 2, j))).toBeCloseTo([1.5, -0.5][j]!, 1);
      expect(std(column(z, 2, j)) / Math.exp([-0.7, 0.4][j]!)).toBeGreaterThan(0.97);
      expect(std(column(z, 2, j)) / Math.exp([-0.7, 0.4][j]!)).toBeLessThan(1.03);
    }
    run.store.dispose();
  });

  it('the Gaussian encoder: q(z|x) has the log-density of N(mu(x), sigma(x)^2), and its z has those moments', () => {
    const ops = new TfjsOps({ seed: 4 });
    const x = tf.tensor2d(matrix(B, 5, 41));
    const first = applyNode(gaussianEncoder, { x }, { hidden: [16], latentDim: 3 }, ops);
    randomiseStore(first.store, 0.5, 400);
    const { q } = applyNode(gaussianEncoder, { x }, { hidden: [16], latentDim: 3 }, ops, { store: first.store }).outputs as { q: DistValue<tf.Tensor> };
    const mu = arr(q.params.mu!);
    const ls = arr(q.params.logStd!);
    expect(Math.max(...ls.map(Math.abs))).toBeGreaterThan(0.1); // a non-trivial scale
    const zq = matrix(B, 3, 42);
    const want = rowSums(zq, (v, i, j) => logNormal(v, mu[i * 3 + j]!, Math.exp(ls[i * 3 + j]!)));
    expect(maxAbsDiff(arr(q.logProb(tf.tensor2d(zq))), want)).toBeLessThan(1e-3);
    // rsample: z = mu + sigma eps, so (z - mu) / sigma is N(0, 1) over many draws
    const u: number[] = [];
    for (let k = 0; k < 200; k++) {
      const z = arr(q.rsample!(0));
      z.forEach((v, i) => u.push((v - mu[i]!) / Math.exp(ls[i]!)));
    }
    expect(Math.abs(mean(u))).toBeLessThan(0.03);
    expect(std(u)).toBeGreaterThan(0.97);
    expect(std(u)).toBeLessThan(1.03);
    first.store.dispose();
  });

  it('the Gaussian decoder: p(x|z) = N(mu(z), diag sigma^2) with its learned sigma; its Fn samples that Gaussian', () => {
    const ops = new TfjsOps({ seed: 5 });
    const z = tf.tensor2d(matrix(B, 2, 51));
    const params = { hidden: [16], dataDim: D, initLogStd: -0.6 };
    const first = applyNode(gaussianDecoder, { z }, params, ops);
    randomiseStore(first.store, 0.5, 500, (n) => !n.endsWith('logStd'));
    first.store.vars.get('n/logStd')!.assign(tf.tensor1d([-0.6, 0.3, -1.2]));
    const out = applyNode(gaussianDecoder, { z }, params, ops, { store: first.store }).outputs;
    const px = out.px as DistValue<tf.Tensor>;
    const fn = out.fn as FnValue<tf.Tensor>;
    const mu = arr(fn.call(z));
    const sig = [-0.6, 0.3, -1.2].map(Math.exp);
    const x = matrix(B, D, 52, 1.2);
    const want = rowSums(x, (v, i, j) => logNormal(v, mu[i * D + j]!, sig[j]!));
    expect(maxAbsDiff(arr(px.logProb(tf.tensor2d(x))), want)).toBeLessThan(1e-3);
    const u: number[][] = [[], [], []];
    for (let k = 0; k < 300; k++) arr(fn.sample!(z)).forEach((v, i) => u[i % D]!.push((v - mu[i]!) / sig[i % D]!));
    for (const c of u) {
      expect(Math.abs(mean(c))).toBeLessThan(0.05);
      expect(std(c)).toBeGreaterThan(0.95);
      expect(std(c)).toBeLessThan(1.05);
    }
    first.store.dispose();
  });
});

describe('Bernoulli log-density and samples', () => {
  const sigmoid = (l: number) => 1 / (1 + Math.exp(-l));
  const logBern = (x: number, l: number) => x * Math.log(sigmoid(l)) + (1 - x) * Math.log(1 - sigmoid(l));

  it('log Bern(x; sigmoid(l)) = x log p + (1 - x) log(1 - p), for binary and grey-level x', () => {
    const ops = new TfjsOps({ seed: 6 });
    const logits = matrix(B, 6, 61, 2.5);
    const xs = [matrix(B, 6, 62).map((r) => r.map((v) => (v > 0 ? 1 : 0))), matrix(B, 6, 63).map((r) => r.map((v) => sigmoid(v)))];
    const d = bernoulli(ops, tf.tensor2d(logits), [6]);
    for (const x of xs) {
      const want = rowSums(x, (v, i, j) => logBern(v, logits[i]![j]!));
      expect(maxAbsDiff(arr(d.logProb(tf.tensor2d(x))), want)).toBeLessThan(1e-3);
    }
    expect(maxAbsDiff(arr(d.mean!()), logits.flat().map(sigmoid))).toBeLessThan(1e-6);
  });

  it('its sample draws 0/1 values with P(x = 1) = sigmoid(l)', () => {
    const ops = new TfjsOps({ seed: 7 });
    const row = [-2.5, -0.5, 0, 0.7, 2, 4];
    const n = 20000;
    const d = bernoulli(ops, tf.tile(tf.tensor2d([row]), [n, 1]), [6]);
    const x = d.sample(n).dataSync();
    const nonBinary = Array.from(x).filter((v) => v !== 0 && v !== 1).length;
    expect(nonBinary).toBeLessThanOrEqual(2);
    row.forEach((l, j) => expect(Math.abs(mean(column(x, 6, j)) - sigmoid(l))).toBeLessThan(0.015));
  });

  it('the Bernoulli decoder: p(x|z) has that log-density at the network logits; its Fn calls the mean and samples 0/1 pixels', () => {
    const ops = new TfjsOps({ seed: 8 });
    const params = { hidden: [16], dataDim: 6 };
    const z1 = tf.tensor2d(matrix(B, 3, 81));
    const first = applyNode(bernoulliDecoder, { z: z1 }, params, ops);
    randomiseStore(first.store, 0.8, 800);
    const out = applyNode(bernoulliDecoder, { z: z1 }, params, ops, { store: first.store }).outputs;
    const fn = out.fn as FnValue<tf.Tensor>;
    const p = arr(fn.call(z1));
    expect(Math.min(...p)).toBeLessThan(0.3); // non-trivial probabilities
    expect(Math.max(...p)).toBeGreaterThan(0.7);
    const x = matrix(B, 6, 82).map((r) => r.map((v) => (v > 0 ? 1 : 0)));
    const want = rowSums(x, (v, i, j) => v * Math.log(p[i * 6 + j]!) + (1 - v) * Math.log(1 - p[i * 6 + j]!));
    expect(maxAbsDiff(arr((out.px as DistValue<tf.Tensor>).logProb(tf.tensor2d(x))), want)).toBeLessThan(2e-3);
    // fn.sample: Bernoulli draws whose frequencies are fn.call's probabilities
    expect(fn.sample, 'the Bernoulli decoder must sample when asked to').toBeDefined();
    const n = 4000;
    const z = tf.tile(z1.slice([0, 0], [2, 3]), [n, 1]);
    const draws = fn.sample!(z).dataSync();
    expect(Array.from(draws).every((v) => v === 0 || v === 1)).toBe(true);
    for (let r = 0; r < 2; r++) {
      for (let j = 0; j < 6; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += draws[(k * 2 + r) * 6 + j]!;
        expect(Math.abs(s / n - p[r * 6 + j]!)).toBeLessThan(0.035);
      }
    }
    // the one-shot sampler uses the draw with decode = 'sample', the mean with 'mean'
    const prior = standardNormal(ops, [3]);
    const sampled = (applyNode(oneShot, { prior, generator: fn }, { decode: 'sample' }, ops, { batch: 64 }).outputs.samples as tf.Tensor).dataSync();
    expect(Array.from(sampled).every((v) => v === 0 || v === 1)).toBe(true);
    const means = (applyNode(oneShot, { prior, generator: fn }, { decode: 'mean' }, ops, { batch: 64 }).outputs.samples as tf.Tensor).dataSync();
    expect(Array.from(means).some((v) => v > 0.01 && v < 0.99)).toBe(true);
    first.store.dispose();
  });
});

describe('transformed distributions (change of variables)', () => {
  it('through y = exp(x): log p_Y(y) = log N(log y; 0, 1) - log y (a log-normal)', () => {
    const ops = new TfjsOps({ seed: 9 });
    const expBij: BijectorValue<tf.Tensor> = {
      kind: 'Bijector',
      event: [2],
      layers: ['exp'],
      forward: (x) => ({ y: tf.exp(x), logDet: tf.sum(x, 1) }),
      inverse: (y) => ({ x: tf.log(y), logDet: tf.neg(tf.sum(tf.log(y), 1)) }),
    };
    const d = transformed(ops, standardNormal(ops, [2]), expBij);
    const y = matrix(B, 2, 91).map((r) => r.map((v) => Math.exp(0.8 * v + 0.2)));
    const want = rowSums(y, (v) => logNormal(Math.log(v), 0, 1) - Math.log(v));
    expect(maxAbsDiff(arr(d.logProb(tf.tensor2d(y))), want)).toBeLessThan(1e-4);
  });

  it('a standard normal through an actnorm with random scale and shift is N(b, diag exp(2 s)): log-density and samples', () => {
    const ops = new TfjsOps({ seed: 10 });
    const s = [0.6, -0.9, 0.25];
    const b = [1.2, -0.4, 2.0];
    const first = applyNode(actnorm, {}, { dim: 3 }, ops);
    first.store.vars.get('n/logScale')!.assign(tf.tensor1d(s));
    first.store.vars.get('n/bias')!.assign(tf.tensor1d(b));
    const flow = applyNode(actnorm, {}, { dim: 3 }, ops, { store: first.store }).outputs.flow as BijectorValue<tf.Tensor>;
    const base = standardNormal(ops, [3]);
    const dist = applyNode(transformedDist, { base, flow }, {}, ops, { id: 'model' }).outputs.dist as DistValue<tf.Tensor>;
    const x = matrix(B, 3, 101, 1.5, 0.5);
    const want = rowSums(x, (v, _i, j) => logNormal(v, b[j]!, Math.exp(s[j]!)));
    expect(maxAbsDiff(arr(dist.logProb(tf.tensor2d(x))), want)).toBeLessThan(1e-4);
    const draws = dist.sample(20000).dataSync();
    for (let j = 0; j < 3; j++) {
      expect(Math.abs(mean(column(draws, 3, j)) - b[j]!) / Math.exp(s[j]!)).toBeLessThan(0.03);
      expect(std(column(draws, 3, j)) / Math.exp(s[j]!)).toBeGreaterThan(0.97);
      expect(std(column(draws, 3, j)) / Math.exp(s[j]!)).toBeLessThan(1.03);
    }
    first.store.dispose();
  });

  it('maximum likelihood: the nll node is -mean log p(x)', () => {
    const ops = new TfjsOps({ seed: 11 });
    const x = matrix(B, 2, 111, 1.4);
    const loss = applyNode(nll, { x: tf.tensor2d(x), dist: standardNormal(ops, [2]) }, {}, ops).outputs.loss as LossValue<tf.Tensor>;
    expect(loss.value.dataSync()[0]!).toBeCloseTo(-mean(rowSums(x, (v) => logNormal(v, 0, 1))), 4);
  });
});

describe('KL divergences', () => {
  /** KL(N(mq, sq^2) || N(mp, sp^2)), one dimension */
  const kl1 = (mq: number, sq: number, mp: number, sp: number) => Math.log(sp / sq) + (sq * sq + (mq - mp) ** 2) / (2 * sp * sp) - 0.5;

  it('diagonal || diagonal: KL(N(1, 0.5^2) || N(-1, 2^2)) = log 4 + 4.25 / 8 - 1/2 = 1.417544, and the reverse = 4.126...', () => {
    const ops = new TfjsOps({ seed: 12 });
    const q = diagNormal(ops, tf.tensor2d([[1]]), tf.tensor2d([[Math.log(0.5)]]), [1]);
    const p = diagNormal(ops, tf.tensor2d([[-1]]), tf.tensor2d([[Math.log(2)]]), [1]);
    expect(analyticKl(ops, q, p)!.dataSync()[0]!).toBeCloseTo(1.417544, 5);
    expect(analyticKl(ops, p, q)!.dataSync()[0]!).toBeCloseTo(kl1(-1, 2, 1, 0.5), 4);
    expect(kl1(1, 0.5, -1, 2)).toBeCloseTo(1.417544, 5);
  });

  it('diagonal || diagonal on random parameters (summed over the event, per row) and KL(q || q) = 0', () => {
    const ops = new TfjsOps({ seed: 13 });
    const [mq, sq, mp, sp] = [matrix(B, D, 131), matrix(B, D, 132, 0.7), matrix(B, D, 133), matrix(B, D, 134, 0.7)];
    const q = diagNormal(ops, tf.tensor2d(mq), tf.tensor2d(sq), [D]);
    const p = diagNormal(ops, tf.tensor2d(mp), tf.tensor2d(sp), [D]);
    const want = mq.map((r, i) => r.reduce((a, _v, j) => a + kl1(mq[i]![j]!, Math.exp(sq[i]![j]!), mp[i]![j]!, Math.exp(sp[i]![j]!)), 0));
    const got = arr(analyticKl(ops, q, p)!);
    expect(maxAbsDiff(got, want) / Math.max(...want)).toBeLessThan(1e-4);
    expect(Math.max(...arr(analyticKl(ops, q, q)!).map(Math.abs))).toBeLessThan(1e-5);
  });

  it('diagonal || standard normal on random parameters equals 0.5 sum (mu^2 + s^2 - 1 - ln s^2), and the Monte Carlo E_q[log q - log p]', () => {
    const ops = new TfjsOps({ seed: 14 });
    const mu = matrix(4, D, 141);
    const ls = matrix(4, D, 142, 0.6);
    const q = diagNormal(ops, tf.tensor2d(mu), tf.tensor2d(ls), [D]);
    const prior = standardNormal(ops, [D]);
    const want = mu.map((r, i) => r.reduce((a, m, j) => a + 0.5 * (m * m + Math.exp(2 * ls[i]![j]!) - 1 - 2 * ls[i]![j]!), 0));
    const got = arr(analyticKl(ops, q, prior)!);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
    // independent of the closed form: average log q(z) - log p(z) over z ~ q
    const mc = [0, 0, 0, 0];
    const K = 4000;
    for (let k = 0; k < K; k++) {
      const z = q.rsample!(0);
      arr(tf.sub(q.logProb(z), prior.logProb(z))).forEach((v, i) => (mc[i]! += v / K));
    }
    mc.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(0.08 + 0.03 * want[i]!));
  });
});

describe('the ELBO', () => {
  function inputs(ops: TfjsOps) {
    const x = tf.tensor2d(matrix(B, D, 151, 1.2));
    const q = diagNormal(ops, tf.tensor2d(matrix(B, 2, 152)), tf.tensor2d(matrix(B, 2, 153, 0.5)), [2]);
    const px = diagNormal(ops, tf.tensor2d(matrix(B, D, 154)), tf.tensor2d(matrix(B, D, 155, 0.4)), [D]);
    const recon = -mean(arr(px.logProb(x)));
    const kl = mean(arr(analyticKl(ops, q, standardNormal(ops, [2]))!));
    return { x, q, px, prior: standardNormal(ops, [2]), recon, kl };
  }

  it.each([1, 0.25, 4])('beta = %f weighs the KL term only: value = recon + beta kl', (beta) => {
    const ops = new TfjsOps({ seed: 15 });
    const { recon, kl, ...ins } = inputs(ops);
    expect(kl).toBeGreaterThan(0.3);
    const loss = applyNode(elbo, ins, { beta }, ops).outputs.loss as LossValue<tf.Tensor>;
    expect(loss.terms.recon!.dataSync()[0]!).toBeCloseTo(recon, 3);
    expect(loss.terms.kl!.dataSync()[0]!).toBeCloseTo(kl, 4);
    expect(loss.value.dataSync()[0]!).toBeCloseTo(recon + beta * kl, 3);
  });

  it('without a closed-form KL it uses the one-sample estimate log q(z|x) - log p(z) at the given z', () => {
    const ops = new TfjsOps({ seed: 16 });
    const { recon, kl: _kl, ...ins } = inputs(ops);
    // a prior with no analytic KL rule: N(1, 2^2) per dimension as a transformed standard normal
    const affine: BijectorValue<tf.Tensor> = {
      kind: 'Bijector',
      event: [2],
      layers: ['affine'],
      forward: (x) => ({ y: tf.add(tf.mul(x, 2), 1), logDet: tf.fill([x.shape[0]!], 2 * Math.log(2)) }),
      inverse: (y) => ({ x: tf.div(tf.sub(y, 1), 2), logDet: tf.fill([y.shape[0]!], -2 * Math.log(2)) }),
    };
    const prior = transformed(ops, standardNormal(ops, [2]), affine);
    const zv = matrix(B, 2, 161);
    const z = tf.tensor2d(zv);
    const mq = arr(ins.q.params.mu!);
    const sq = arr(ins.q.params.logStd!);
    const est = mean(zv.map((r, i) => r.reduce((a, v, j) => a + logNormal(v, mq[i * 2 + j]!, Math.exp(sq[i * 2 + j]!)) - logNormal(v, 1, 2), 0)));
    const loss = applyNode(elbo, { ...ins, prior, z }, { beta: 1 }, ops).outputs.loss as LossValue<tf.Tensor>;
    expect(loss.terms.kl!.dataSync()[0]!).toBeCloseTo(est, 3);
    expect(loss.value.dataSync()[0]!).toBeCloseTo(recon + est, 3);
  });
});
