/**
 * The importance-sampled held-out log-likelihood of a latent-variable model (Burda, Grosse &
 * Salakhutdinov 2016, "Importance Weighted Autoencoders", eq. 8):
 *   L_K(x) = log (1/K) sum_{k=1..K} w_k,   w_k = p(x|z_k) p(z_k) / q(z_k|x),   z_k ~ q(z|x).
 * E[L_K] <= log p(x), it does not decrease with K and tends to log p(x) as K grows (their
 * Theorem 1), so -L_5000 is the usual held-out NLL estimate of a VAE or an IWAE; at K = 1 it
 * is a one-draw estimate of the ELBO.
 *
 * How it runs on any graph the compiler resolved (compile.ts, Evaluator kind 'iwae'): the
 * rows are repeated kc times (row j m + i is x_i) and q(z|x_i) is known on every copy (a
 * diagonal Gaussian's parameters are tiled; any other q is evaluated on the copies fed to the
 * data node); one draw z ~ q per copy replaces the latent that drives the decoder
 * (Evaluator.z, set in the evaluation's memo), and
 *   log w = log p(x|z) + log p(z) - log q(z|x)
 * is summed per row by a stable log-sum-exp; chunks of draws are combined in float64.
 * Cost: K decoder evaluations per row (and K encoder evaluations where q cannot be tiled).
 */
import * as tf from '@tensorflow/tfjs';
import { diagNormal } from '../../nodes/core/dists';
import type { DistValue } from '../../nodes/core/values';
import type { Evaluator } from '../compile/compile';
import type { Memo } from '../compile/execute';
import { roundSeed, type DataFeed, type Trainer } from '../runtime/Trainer';

export type IwaeEvaluator = Extract<Evaluator, { kind: 'iwae' }>;

/** rows of one evaluation: about 4M floats per [rows, max(dim, 256)] tensor */
export function iwaeBatchRows(dim: number): number {
  return Math.max(256, Math.floor(2 ** 22 / Math.max(dim, 256)));
}

/**
 * q(z|x) on every copy of the rows, copy-major: a diagonal Gaussian with per-row parameters
 * is tiled as it is (no encoder pass per copy); undefined for any other Dist
 */
function tileQ(ops: Trainer['ops'], q: DistValue<tf.Tensor>, m: number, copies: number): DistValue<tf.Tensor> | undefined {
  const { mu, logStd } = q.params;
  const perRow = (t: tf.Tensor | undefined): t is tf.Tensor => t !== undefined && t.rank === q.event.length + 1 && t.shape[0] === m;
  if (q.family !== 'diagNormal' || !perRow(mu) || !perRow(logStd)) return undefined;
  const reps = [copies, ...mu.shape.slice(1).map(() => 1)];
  return diagNormal(ops, tf.tile(mu, reps), tf.tile(logStd, reps), q.event);
}

/**
 * L_K(x_i) in nats for each row of `rows` ([n, dim], row-major), with K = `samples` draws per
 * row; reproducible for a given seed. `tile: false` evaluates the encoder on every copy of
 * a row even where q could be tiled (a check of the fast path).
 */
export function iwaeLogLikelihoods(
  trainer: Trainer,
  e: IwaeEvaluator,
  rows: Float32Array,
  dim: number,
  samples: number,
  seed: number,
  opts: { maxBatch?: number; tile?: boolean } = {},
): Float64Array {
  if (!(Number.isInteger(samples) && samples >= 1)) throw new RangeError(`${e.objective}.${e.metric}: K must be a positive integer, got ${samples}`);
  const maxBatch = opts.maxBatch ?? iwaeBatchRows(dim);
  const n = rows.length / dim;
  // draws per evaluation (kc) and rows per evaluation (m): kc m <= maxBatch
  const kc = samples <= maxBatch ? samples : Math.ceil(samples / Math.ceil(samples / maxBatch));
  const m = Math.max(1, Math.min(n, Math.floor(maxBatch / kc)));
  const out = new Float64Array(n);
  const { runner, ops } = trainer;
  const onlyData = (x: tf.Tensor) => (id: string) => {
    if (id !== e.data) throw new Error(`${e.objective}.${e.metric}: the importance-sampled NLL feeds only "${e.data}", but "${id}" is upstream of q or p(x|z)`);
    return x;
  };
  ops.reseed(roundSeed(seed, trainer.step, 4));
  for (let i0 = 0; i0 < n; i0 += m) {
    const mi = Math.min(m, n - i0);
    const acc = new Float64Array(mi).fill(-Infinity);
    tf.tidy(() => {
      const x0 = tf.tensor2d(rows.subarray(i0 * dim, (i0 + mi) * dim), [mi, dim]);
      // x and q(z|x) on the rows themselves, once
      const memo0: Memo<tf.Tensor> = new Map();
      const [x1, q1] = runner.evaluate([e.x, e.q], { batchSize: mi, mode: 'train', feed: onlyData(x0) }, memo0) as [tf.Tensor, DistValue<tf.Tensor>];
      for (let k0 = 0; k0 < samples; k0 += kc) {
        const ki = Math.min(kc, samples - k0);
        const lse = tf.tidy(() => {
          const eo = { batchSize: ki * mi, mode: 'train' as const, feed: onlyData(tf.tile(x0, [ki, 1])) };
          const fast = opts.tile === false ? undefined : tileQ(ops, q1, mi, ki);
          let memo: Memo<tf.Tensor>;
          let x: tf.Tensor;
          let q: DistValue<tf.Tensor>;
          if (fast) {
            memo = new Map(memo0);
            x = tf.tile(x1, [ki, ...x1.shape.slice(1).map(() => 1)]);
            q = fast;
          } else {
            // the data node is fed every copy: the encoder runs on each
            memo = new Map();
            [x, q] = runner.evaluate([e.x, e.q], eo, memo) as [tf.Tensor, DistValue<tf.Tensor>];
          }
          const z = q.sample(ki * mi);
          const logQ = q.logProb(z);
          // the decoder reads these draws instead of the graph's own
          memo.set(e.z.node, { ...(memo.get(e.z.node) ?? {}), [e.z.port]: z });
          const [px, prior] = runner.evaluate([e.px, e.prior], eo, memo) as [DistValue<tf.Tensor>, DistValue<tf.Tensor>];
          const logW = px.logProb(x).add(prior.logProb(z)).sub(logQ);
          // log sum_k w_k per row (tf.logSumExp subtracts the max: no underflow)
          return tf.logSumExp(logW.reshape([ki, mi]), 0).dataSync();
        });
        for (let i = 0; i < mi; i++) {
          const a = acc[i]!;
          const b = lse[i]!;
          const hi = Math.max(a, b);
          acc[i] = hi === -Infinity ? -Infinity : hi + Math.log(Math.exp(a - hi) + Math.exp(b - hi));
        }
      }
    });
    for (let i = 0; i < mi; i++) out[i0 + i] = acc[i]! - Math.log(samples);
  }
  return out;
}

/** draws x data dimensions per evaluation at n = 2000 (scaled with n): 10 MNIST images at K = 5000 */
export const IWAE_BUDGET = 4e7;

/**
 * held-out rows the evaluator uses: at most n, the declared `rows`, and
 * IWAE_BUDGET (n / 2000) / (K dim): 200 rows of a 2-D set; 10 MNIST images at n = 2000, 2 at n = 500
 */
export function iwaeRowCount(e: IwaeEvaluator, dim: number, n: number, samples = e.samples): number {
  return Math.max(1, Math.min(n, e.rows, Math.floor((IWAE_BUDGET * (n / 2000)) / (samples * dim))));
}

/** mean -L_K over the first `rows` held-out rows of the feed (nats per example) */
export function heldOutIwaeNll(trainer: Trainer, e: IwaeEvaluator, feed: DataFeed, rows: number, samples: number, seed: number): number {
  const ll = iwaeLogLikelihoods(trainer, e, feed.heldOut(rows), feed.dim, samples, seed);
  let s = 0;
  for (const v of ll) s += v;
  return -s / ll.length;
}
