/**
 * Trivial baselines every quality bar must reject (test/quality.test.ts):
 * - point data: one Gaussian with the data's mean and covariance (moment matched);
 * - binary images: independent pixels, p_j = the training frequency of pixel j
 *   (add-one smoothed), NLL = -sum_j x_j log p_j + (1 - x_j) log(1 - p_j).
 * Both are fitted on training batches of the feed and scored on its held-out rows, like
 * the models.
 */
import { Rng } from '../src-main/data/rng';
import type { DataFeed } from '../src-main/runtime/Trainer';

export interface GaussianFit {
  mean: number[];
  /** lower Cholesky factor of the covariance */
  chol: number[][];
  /** n draws, row-major */
  sample(n: number, seed: number): Float32Array;
  /** mean -log N(x; mean, cov) over the rows of x (nats per example) */
  nll(x: ArrayLike<number>): number;
}

export function fitGaussian(feed: DataFeed, opts: { n?: number; seed?: number } = {}): GaussianFit {
  const d = feed.dim;
  const n = opts.n ?? 20000;
  const x = feed.batch(n, new Rng(opts.seed ?? 777));
  const mean = Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * d + j]!;
    return s / n;
  });
  const cov = Array.from({ length: d }, (_, a) =>
    Array.from({ length: d }, (_, b) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (x[i * d + a]! - mean[a]!) * (x[i * d + b]! - mean[b]!);
      return s / (n - 1);
    }),
  );
  const L = cov.map((r) => r.map(() => 0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = cov[i]![j]!;
      for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
      L[i]![j] = i === j ? Math.sqrt(s) : s / L[j]![j]!;
    }
  }
  const logDet = 2 * L.reduce((a, r, i) => a + Math.log(r[i]!), 0);
  return {
    mean,
    chol: L,
    sample(m, seed) {
      const rng = new Rng(seed);
      const out = new Float32Array(m * d);
      const z = new Array<number>(d);
      for (let i = 0; i < m; i++) {
        for (let k = 0; k < d; k++) z[k] = rng.normal();
        for (let a = 0; a < d; a++) {
          let v = mean[a]!;
          for (let k = 0; k <= a; k++) v += L[a]![k]! * z[k]!;
          out[i * d + a] = v;
        }
      }
      return out;
    },
    nll(y) {
      const m = y.length / d;
      let total = 0;
      const r = new Array<number>(d);
      for (let i = 0; i < m; i++) {
        // solve L u = y - mean; -log N = 0.5 |u|^2 + 0.5 log det + d/2 log 2 pi
        let q = 0;
        for (let a = 0; a < d; a++) {
          let v = y[i * d + a]! - mean[a]!;
          for (let k = 0; k < a; k++) v -= L[a]![k]! * r[k]!;
          r[a] = v / L[a]![a]!;
          q += r[a]! * r[a]!;
        }
        total += 0.5 * q + 0.5 * logDet + 0.5 * d * Math.log(2 * Math.PI);
      }
      return total / m;
    },
  };
}

/** held-out NLL (nats per image) of independent Bernoulli pixels fitted on `n` training images */
export function independentPixelsNll(feed: DataFeed, heldOut: number, opts: { n?: number; seed?: number } = {}): number {
  const d = feed.dim;
  const n = opts.n ?? 20000;
  const x = feed.batch(n, new Rng(opts.seed ?? 778));
  const p = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) p[j]! += x[i * d + j]!;
  for (let j = 0; j < d; j++) p[j] = (p[j]! + 1) / (n + 2);
  const y = feed.heldOut(heldOut);
  const m = y.length / d;
  let total = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < d; j++) {
      const v = y[i * d + j]!;
      total -= v * Math.log(p[j]!) + (1 - v) * Math.log(1 - p[j]!);
    }
  }
  return total / m;
}
