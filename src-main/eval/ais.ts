/**
 * Annealed importance sampling of an RBM's partition function (Neal 2001; Salakhutdinov &
 * Murray 2008, "On the Quantitative Analysis of Deep Belief Networks", section 4):
 * a base RBM A with W = 0, c = 0 and visible biases b_A = logit of the data's base rate
 * (its log Z_A = sum_i softplus(b_A,i) + H log 2 is exact) is moved to the model B along the
 * geometric path of unnormalised marginals
 *   log f_beta(v) = (1 - beta) b_A.v + beta b.v + sum_j softplus(beta (c_j + (v W)_j)),
 * 0 = beta_0 < beta_1 < ... < beta_K = 1 (evenly spaced). Each of M independent runs starts
 * at v_0 ~ p_A, takes one Gibbs step of the tempered RBM at each beta_k (a transition that
 * leaves p_{beta_k} invariant) and accumulates the log importance weight
 *   log w = sum_{k=1..K} log f_{beta_k}(v_{k-1}) - log f_{beta_{k-1}}(v_{k-1}).
 * Then E[w] = Z_B / Z_A, so
 *   log Z_B ~= log Z_A + log (1/M) sum_m w_m
 * with standard error (delta method) sd(w) / (sqrt(M) mean(w)). log of a mean is biased low
 * (Jensen), so AIS tends to underestimate log Z and hence the NLL, by less as K grows.
 * The held-out NLL is mean_n F(x_n) + log Z, its standard error that of log Z and of the
 * mean over the rows combined.
 */
import * as tf from '@tensorflow/tfjs';
import { isGaussianRbm, type RbmFn } from '../../nodes/rbm/rbmOps';
import type { Evaluator } from '../compile/compile';
import { Rng } from '../data/rng';
import type { DataFeed, Trainer } from '../runtime/Trainer';

export type AisEvaluator = Extract<Evaluator, { kind: 'ais' }>;

export interface AisResult {
  logZ: number;
  /** standard error of log Z */
  logZSE: number;
  /** the log importance weights of the M runs */
  logW: Float64Array;
}

/** log Z of the RBM (W [D, H], b [D], c [H]) by AIS from the base RBM with visible biases bA [D] */
export function aisLogZ(W: tf.Tensor2D, b: tf.Tensor1D, c: tf.Tensor1D, bA: tf.Tensor1D, opts: { betas: number; chains: number; seed: number }): AisResult {
  const [D, H] = W.shape;
  const M = opts.chains;
  const K = opts.betas;
  const rng = new Rng(opts.seed);
  const seed = () => Math.floor(rng.uniform() * 2 ** 31);
  const logW = new Float64Array(M);
  const bern = (p: tf.Tensor) => tf.cast(tf.less(tf.randomUniform(p.shape, 0, 1, 'float32', seed()), p), 'float32');
  let v = tf.tidy(() => bern(tf.tile(tf.reshape(tf.sigmoid(bA), [1, D]), [M, 1])));
  const db = tf.sub(b, bA);
  const chunk = 50;
  for (let k0 = 1; k0 <= K; k0 += chunk) {
    const next = tf.tidy(() => {
      let vk = v;
      let acc = tf.zeros([M]);
      for (let k = k0; k < Math.min(K + 1, k0 + chunk); k++) {
        const bPrev = (k - 1) / K;
        const bNow = k / K;
        const a = tf.add(tf.matMul(vk, W), c);
        const lf = (beta: number) => tf.add(tf.mul(tf.sum(tf.mul(vk, db), 1), beta), tf.sum(tf.softplus(tf.mul(a, beta)), 1));
        acc = tf.add(acc, tf.sub(lf(bNow), lf(bPrev)));
        const h = bern(tf.sigmoid(tf.mul(a, bNow)));
        const pv = tf.sigmoid(tf.add(tf.mul(bA, 1 - bNow), tf.mul(tf.add(tf.matMul(h, W, false, true), b), bNow)));
        vk = bern(pv);
      }
      return { vk, acc };
    });
    const inc = next.acc.dataSync();
    for (let m = 0; m < M; m++) logW[m] += inc[m]!;
    next.acc.dispose();
    v.dispose();
    v = next.vk;
  }
  v.dispose();
  db.dispose();
  const logZA = tf.tidy(() => tf.sum(tf.softplus(bA)).dataSync()[0]!) + H * Math.LN2;
  const max = Math.max(...logW);
  const w = Array.from(logW, (l) => Math.exp(l - max));
  const mean = w.reduce((s, x) => s + x, 0) / M;
  const variance = w.reduce((s, x) => s + (x - mean) ** 2, 0) / (M - 1);
  return { logZ: logZA + max + Math.log(mean), logZSE: Math.sqrt(variance / M) / mean, logW };
}

/** visible biases of the base RBM: logit of the mean of `rows` binary training rows, smoothed */
export function baseRateBiases(feed: DataFeed, rows: number, seed: number): Float32Array {
  const x = feed.batch(rows, new Rng(seed));
  const D = feed.dim;
  const out = new Float32Array(D);
  for (let i = 0; i < rows; i++) for (let j = 0; j < D; j++) out[j] += x[i * D + j]!;
  for (let j = 0; j < D; j++) {
    const p = (out[j]! + 1) / (rows + 2);
    out[j] = Math.log(p / (1 - p));
  }
  return out;
}

/** held-out NLL (nats per example) of the RBM driving an AIS evaluator, with its standard error */
export function heldOutAisNll(
  trainer: Trainer,
  e: AisEvaluator,
  feed: DataFeed,
  opts: { rows: number; seed: number; betas?: number; chains?: number },
): { nll: number; se: number; logZ: number; logZSE: number; meanF: number } | undefined {
  const [fn] = trainer.runner.evaluate([e.rbm], { batchSize: 1, mode: 'sample' });
  const r = fn as RbmFn<tf.Tensor>;
  // the annealing path here is over binary visible units; a Gaussian-Bernoulli RBM has an
  // exact density (its node's `p`) and reports its NLL through that
  if (isGaussianRbm(r)) return undefined;
  const bA = tf.tensor1d(baseRateBiases(feed, 10000, opts.seed));
  const ais = aisLogZ(r.W as tf.Tensor2D, r.b as tf.Tensor1D, r.c as tf.Tensor1D, bA, { betas: opts.betas ?? e.betas, chains: opts.chains ?? e.chains, seed: opts.seed });
  bA.dispose();
  const rows = feed.heldOut(opts.rows);
  const n = rows.length / feed.dim;
  const F = tf.tidy(() => {
    const v = tf.tensor2d(rows, [n, feed.dim]);
    const f = tf.neg(tf.add(tf.sum(tf.mul(v, r.b), 1), tf.sum(tf.softplus(tf.add(tf.matMul(v, r.W), r.c)), 1)));
    return f.dataSync() as Float32Array;
  });
  let meanF = 0;
  for (const x of F) meanF += x;
  meanF /= n;
  let varF = 0;
  for (const x of F) varF += (x - meanF) ** 2;
  varF /= Math.max(1, n - 1);
  return { nll: meanF + ais.logZ, se: Math.sqrt(ais.logZSE ** 2 + varF / n), logZ: ais.logZ, logZSE: ais.logZSE, meanF };
}
