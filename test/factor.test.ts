/**
 * The factor family (nodes/factor/): the small linear algebra against plain-number
 * references; the Woodbury log-density against a dense Gaussian; factor analysis by EM
 * never lowers the log-likelihood and reaches its stationarity condition diag C = diag S;
 * PPCA's closed form matches the eigendecomposition of the sample covariance (Tipping &
 * Bishop 1999, eqs 7-8) and EM for PPCA converges to it; on MNIST both templates meet their
 * bars where the trivial baselines (independent Gaussian pixels, one factor) fail them.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cholesky, forwardSolve, logDetFromCholesky, spdInverse } from '../nodes/core/linalg';
import type { DistValue } from '../nodes/core/values';
import { factor } from '../nodes/factor/index';
import { linearGaussian } from '../nodes/factor/linearGaussian';
import { loadMnist } from '../src-main/data/mnist';
import { Rng } from '../src-main/data/rng';
import { evaluateRun } from '../src-main/eval/evaluate';
import { initBackend } from '../src-main/runtime/backend';
import { ParamStore } from '../src-main/runtime/ParamStore';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { trainTemplate } from './trainTemplate';

const LOG_2PI = Math.log(2 * Math.PI);
let ops: TfjsOps;
beforeAll(async () => {
  await initBackend('cpu');
  ops = new TfjsOps({ seed: 0 });
});

// ---------------------------------------------------------------- plain-number references
type Mat = number[][];
const matmul = (a: Mat, b: Mat): Mat => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const transpose = (a: Mat): Mat => a[0]!.map((_, j) => a.map((r) => r[j]!));
const toMat = (t: tf.Tensor): Mat => t.arraySync() as Mat;

function refCholesky(a: Mat): Mat {
  const n = a.length;
  const r: Mat = a.map(() => new Array(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= r[i]![k]! * r[j]![k]!;
      r[i]![j] = i === j ? Math.sqrt(s) : s / r[j]![j]!;
    }
  }
  return r;
}

/** eigenvalues (descending) and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations */
function jacobiEigen(s: Mat): { values: number[]; vectors: Mat } {
  const n = s.length;
  const a = s.map((r) => r.slice());
  const v: Mat = a.map((_, i) => a.map((__, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p]![q]!) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!, akq = a[k]![q]!;
          a[k]![p] = c * akp - sn * akq;
          a[k]![q] = sn * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!, aqk = a[q]![k]!;
          a[p]![k] = c * apk - sn * aqk;
          a[q]![k] = sn * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!, vkq = v[k]![q]!;
          v[k]![p] = c * vkp - sn * vkq;
          v[k]![q] = sn * vkp + c * vkq;
        }
      }
    }
  }
  const order = a.map((_, i) => i).sort((i, j) => a[j]![j]! - a[i]![i]!);
  return { values: order.map((i) => a[i]![i]!), vectors: v.map((r) => order.map((i) => r[i]!)) };
}

/** N rows from a known factor model x = mu + W z + sqrt(psi) eps */
function factorData(N: number, seed: number) {
  const D = 6;
  const L = 2;
  const rng = new Rng(seed);
  const W: Mat = Array.from({ length: D }, (_, d) => [Math.cos(d) * 1.5, Math.sin(2 * d) * 0.8]);
  const psi = Array.from({ length: D }, (_, d) => 0.05 + 0.1 * d);
  const mu = Array.from({ length: D }, (_, d) => d - 2);
  const x = new Float32Array(N * D);
  for (let n = 0; n < N; n++) {
    const z = [rng.normal(), rng.normal()];
    for (let d = 0; d < D; d++) x[n * D + d] = mu[d]! + W[d]![0]! * z[0]! + W[d]![1]! * z[1]! + Math.sqrt(psi[d]!) * rng.normal();
  }
  return { x, D, L, N };
}

function sampleCov(x: Float32Array, D: number): Mat {
  const N = x.length / D;
  const mean = Array.from({ length: D }, (_, d) => {
    let s = 0;
    for (let n = 0; n < N; n++) s += x[n * D + d]!;
    return s / N;
  });
  const S: Mat = Array.from({ length: D }, () => new Array(D).fill(0));
  for (let n = 0; n < N; n++) for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) S[i]![j]! += ((x[n * D + i]! - mean[i]!) * (x[n * D + j]! - mean[j]!)) / N;
  return S;
}

/** the node on a fixed batch: build once, then closed-form updates assigned to its parameters */
function fitter(params: Record<string, unknown>, x: Float32Array, D: number) {
  const p = linearGaussian.params.parse(params);
  const store = new ParamStore(3);
  const pending = new Map<string, tf.Tensor>();
  const ctx = {
    ops,
    nodeId: 'fa',
    param: (name: string, shape: number[], init: any) => store.get(`fa/${name}`, shape, init),
    state: (name: string, shape: number[], init: any) => store.get(`fa/state/${name}`, shape, init),
    setState: (name: string, v: tf.Tensor) => void pending.set(`fa/state/${name}`, tf.keep(v)),
    batchSize: x.length / D,
    mode: 'train' as const,
    feed: () => xt,
  };
  const xt = tf.tensor2d(x, [x.length / D, D]);
  const shapes = { x: { kind: 'Tensor' as const, shape: [D] } };
  const built = linearGaussian.build!(ctx, p, shapes as never, {} as never) as { p: DistValue<tf.Tensor> };
  const meanLogLik = () => tf.tidy(() => built.p.logProb(xt).mean().dataSync()[0]!);
  const step = () =>
    tf.tidy(() => {
      const next = linearGaussian.update!(ctx, { inputs: { x: xt } as never, params: p, shapes: shapes as never, built });
      for (const [name, v] of Object.entries(next)) store.vars.get(`fa/${name}`)!.assign(v);
      for (const [name, v] of pending) {
        store.vars.get(name)!.assign(v);
        v.dispose();
      }
      pending.clear();
    });
  /** C = W W^T + Psi */
  const covariance = (): Mat => {
    const W = toMat(store.vars.get('fa/w')!);
    const lp = Array.from(store.vars.get('fa/logPsi')!.dataSync());
    const C = matmul(W, transpose(W));
    for (let d = 0; d < D; d++) C[d]![d]! += Math.exp(lp.length === 1 ? lp[0]! : lp[d]!);
    return C;
  };
  return { built, store, meanLogLik, step, covariance, xt };
}

const maxAbsDiff = (a: Mat, b: Mat) => Math.max(...a.flatMap((r, i) => r.map((v, j) => Math.abs(v - b[i]![j]!))));

describe('linear algebra over Ops', () => {
  it('Cholesky, forward substitution, log det and the SPD inverse match plain references', () => {
    const rng = new Rng(5);
    const n = 6;
    const g: Mat = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.normal()));
    const A = matmul(g, transpose(g)).map((r, i) => r.map((v, j) => v + (i === j ? 0.5 : 0)));
    const At = tf.tensor2d(A);
    const R = cholesky(ops, At, n);
    expect(maxAbsDiff(toMat(R), refCholesky(A))).toBeLessThan(1e-4);
    const Bm = tf.randomNormal([n, 3], 0, 1, 'float32', 1);
    const Y = forwardSolve(ops, R, Bm, n);
    expect(maxAbsDiff(toMat(tf.matMul(R, Y)), toMat(Bm))).toBeLessThan(1e-4);
    const refLogDet = 2 * refCholesky(A).reduce((s, r, i) => s + Math.log(r[i]!), 0);
    expect(logDetFromCholesky(ops, R, n).dataSync()[0]).toBeCloseTo(refLogDet, 3);
    const I = toMat(tf.matMul(spdInverse(ops, At, n), At));
    expect(maxAbsDiff(I, A.map((r, i) => r.map((_, j) => (i === j ? 1 : 0))))).toBeLessThan(1e-3);
  });
});

describe('factor analysis and PPCA', () => {
  it('log p(x) by the Woodbury identity equals the dense Gaussian N(x; mu, W W^T + Psi)', () => {
    const { x, D } = factorData(8, 1);
    const f = fitter({ latentDim: 2, noise: 'diagonal' }, x, D);
    const rng = new Rng(2);
    f.store.vars.get('fa/mu')!.assign(tf.tensor1d(Array.from({ length: D }, () => rng.normal())));
    f.store.vars.get('fa/logPsi')!.assign(tf.tensor1d(Array.from({ length: D }, () => rng.normal() * 0.5)));
    const C = f.covariance();
    const mu = Array.from(f.store.vars.get('fa/mu')!.dataSync());
    const R = refCholesky(C);
    const got = Array.from(f.built.p.logProb(f.xt).dataSync());
    for (let n = 0; n < 8; n++) {
      // solve R y = e, then log N = -0.5 (||y||^2 + log|C| + D log 2 pi)
      const y: number[] = [];
      for (let i = 0; i < D; i++) y.push((x[n * D + i]! - mu[i]! - y.reduce((s, v, k) => s + R[i]![k]! * v, 0)) / R[i]![i]!);
      const want = -0.5 * (y.reduce((s, v) => s + v * v, 0) + 2 * R.reduce((s, r, i) => s + Math.log(r[i]!), 0) + D * LOG_2PI);
      expect(got[n]).toBeCloseTo(want, 3);
    }
  });

  it('EM for factor analysis never lowers the log-likelihood and reaches diag C = diag S', () => {
    const { x, D } = factorData(4000, 3);
    const f = fitter({ latentDim: 2, noise: 'diagonal', iterations: 1 }, x, D);
    let prev = -Infinity;
    const trace: number[] = [];
    for (let i = 0; i < 200; i++) {
      f.step();
      const ll = f.meanLogLik();
      trace.push(ll);
      expect(ll).toBeGreaterThanOrEqual(prev - 1e-4);
      prev = ll;
    }
    expect(trace.at(-1)! - trace[0]!).toBeGreaterThan(0.01);
    // at a maximum of the FA likelihood psi = diag(S - W W^T): the model reproduces every variance
    const S = sampleCov(x, D);
    const C = f.covariance();
    for (let d = 0; d < D; d++) expect(Math.abs(C[d]![d]! - S[d]![d]!) / S[d]![d]!).toBeLessThan(2e-3);
    // and the fit is the generating covariance up to sampling error
    expect(maxAbsDiff(C, S)).toBeLessThan(0.05);
  });

  it('PPCA in closed form is the eigendecomposition of S; EM for PPCA converges to it', () => {
    const { x, D, L } = factorData(4000, 4);
    const S = sampleCov(x, D);
    const { values, vectors } = jacobiEigen(S);
    const sigma2 = values.slice(L).reduce((a, b) => a + b, 0) / (D - L);
    // C_ML = U_L Lambda_L U_L^T + sigma^2 (I - U_L U_L^T)
    const want: Mat = S.map((r, i) => r.map((_, j) => (i === j ? sigma2 : 0) + vectors[i]!.slice(0, L).reduce((s, u, k) => s + u * vectors[j]![k]! * (values[k]! - sigma2), 0)));
    const closed = fitter({ latentDim: L, noise: 'isotropic', solver: 'eigen', iterations: 200 }, x, D);
    closed.step();
    expect(Math.exp(closed.store.vars.get('fa/logPsi')!.dataSync()[0]!)).toBeCloseTo(sigma2, 4);
    expect(maxAbsDiff(closed.covariance(), want)).toBeLessThan(1e-4 * values[0]!);
    const em = fitter({ latentDim: L, noise: 'isotropic', solver: 'em', iterations: 1 }, x, D);
    for (let i = 0; i < 300; i++) em.step();
    expect(maxAbsDiff(em.covariance(), want)).toBeLessThan(2e-3 * values[0]!);
    expect(em.meanLogLik()).toBeCloseTo(closed.meanLogLik(), 3);
  });

  it('the closed-form fit is refused for factor analysis, naming the param', () => {
    const r = linearGaussian.params.safeParse({ noise: 'diagonal', solver: 'eigen' });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['solver']);
    expect(r.error!.issues[0]!.message).toMatch(/PPCA only/);
  });
});

describe('factor templates on MNIST (wasm)', () => {
  const bar = (t: string) => factor.templates.find((x) => x.name === t)!.bars[0]!;
  const heldOutNll = (name: string, steps: number, overrides: Record<string, unknown> = {}) => {
    const { trainer, program, feeds } = trainTemplate(name, { steps, overrides: { fa: overrides } });
    const nll = evaluateRun(trainer, program, feeds as never, {})['fa.nll']!;
    trainer.dispose();
    return nll;
  };
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('factor analysis beats independent Gaussian pixels (same variance floor), which fail its bar', () => {
    const b = bar('fa-mnist');
    const nll = heldOutNll('fa-mnist', 18);
    expect(nll).toBeLessThanOrEqual(b.bound);
    // the baseline: one Gaussian per pixel, variances floored like the model's (1e-4)
    const tr = loadMnist({ split: 'train' }).images;
    const te = loadMnist({ split: 'test' }).images;
    const D = 784;
    const n = tr.length / D;
    const m = te.length / D;
    let total = 0;
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += tr[i * D + j]!;
      const mu = s / n;
      let s2 = 0;
      for (let i = 0; i < n; i++) s2 += (tr[i * D + j]! - mu) ** 2;
      const v = Math.max(s2 / n, 1e-4);
      for (let i = 0; i < m; i++) total += 0.5 * (Math.log(2 * Math.PI * v) + (te[i * D + j]! - mu) ** 2 / v);
    }
    expect(total / m).toBeGreaterThan(b.bound);
  }, 120_000);

  it('PPCA with 32 factors in closed form meets its bar; one factor fails it', () => {
    const b = bar('ppca-mnist');
    expect(heldOutNll('ppca-mnist', 18)).toBeLessThanOrEqual(b.bound);
    expect(heldOutNll('ppca-mnist', 18, { latentDim: 1 })).toBeGreaterThan(b.bound);
  }, 120_000);
});
