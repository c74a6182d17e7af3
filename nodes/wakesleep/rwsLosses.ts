import { z } from 'zod';
import { defineNode, type ConformanceFixture } from '../core/defineNode';
import type { Ops } from '../core/ops';
import type { PortShape } from '../core/ports';
import { LOSS_OUT, OBJECTIVE_UI, objectiveFields } from '../core/objective';
import type { DistValue } from '../core/values';
import { drawsPerRow, importanceLogWeights, logSumExpRows, type ImportanceInputs } from '../iwae/iwaeLoss';
import { IWAE_NLL } from '../vae/elbo';
import { inferWake } from './wakeLoss';

const INPUTS = {
  x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'real observations x, [B, ...]' },
  q: { type: { kind: 'Dist' }, doc: 'the recognition distribution q(z|x), the proposal, one per row of x' },
  prior: { type: { kind: 'Dist' }, doc: 'the prior p(z)' },
  px: { type: { kind: 'Dist' }, doc: 'the likelihood p(x|z) at every draw (K x B rows, row b K + k)' },
  z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'the draws z_k ~ q grouped per row, [B, K, ...] (or one draw per row: K = 1)' },
} as const;

const FIXTURE: ConformanceFixture = {
  // K = 1: the recorder's batch is one symbolic N, and K > 1 merges it with K (tfjs only)
  inputs: { x: { kind: 'Tensor', shape: [3] }, q: { kind: 'Dist', event: [2] }, prior: { kind: 'Dist', event: [2] }, px: { kind: 'Dist', event: [3] }, z: { kind: 'Tensor', shape: [1, 2] } },
};

export interface ReweightedTerms<T> {
  /** log p(x|z_k), log p(z_k), log q(z_k|x), each [B, K] */
  logPx: T;
  logPz: T;
  logQ: T;
  /** the self-normalised importance weights w~_k = w_k / sum_l w_l, sg[.], [B, K] */
  weights: T;
  /** the K-sample bound L_K(x) = log (1/K) sum_k w_k, [B] */
  bound: T;
  K: number;
}

/**
 * The importance weights of reweighted wake-sleep (Bornschein & Bengio 2015), q(z|x) the proposal:
 *   log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x),   z_k ~ q(z|x) (sg),
 *   w~_k = w_k / sum_l w_l = exp(log w_k - logsumexp_l log w_l)   (sg: constants of the update),
 *   L_K(x) = logsumexp_k log w_k - log K   (an estimate of log p(x); the IWAE bound, seed 000 section 3).
 */
export function reweighted<T>(
  ops: Ops<T>,
  nodeId: string,
  inputs: ImportanceInputs<T>,
  shapes: Record<string, PortShape | undefined>,
): ReweightedTerms<T> {
  const { logPx, logPz, logQ, logW, K } = importanceLogWeights(ops, nodeId, { ...inputs, z: ops.stopGradient(inputs.z) }, shapes, 'recognition samples');
  const lse = logSumExpRows(ops, logW, K);
  const weights = ops.stopGradient(ops.exp(ops.sub(logW, ops.reshape(lse, [-1, 1]))));
  const bound = ops.sub(lse, ops.scalar(Math.log(K)));
  return { logPx, logPz, logQ, weights, bound, K };
}

/** both reweighted losses: the wake-phase inputs, and draws grouped per row */
function inferReweighted(shapes: Record<string, PortShape | undefined>) {
  inferWake(shapes);
  drawsPerRow(shapes);
  return { loss: { kind: 'Loss' } } as const;
}

/** -mean_b sum_k w~_k f_k for f [B, K] */
const weightedNll = <T>(ops: Ops<T>, w: T, f: T) => ops.neg(ops.mean(ops.sum(ops.mul(w, f), [1])));

/** the reported terms: negIwae = -mean L_K; ess = mean 1 / sum_k w~_k^2 (effective sample size, 1..K) */
function reported<T>(ops: Ops<T>, r: ReweightedTerms<T>) {
  return { negIwae: ops.neg(ops.mean(r.bound)), ess: ops.mean(ops.div(ops.scalar(1), ops.sum(ops.square(r.weights), [1]))) };
}

/**
 * The p update of reweighted wake-sleep (Bornschein & Bengio 2015): with K proposals
 * z_k ~ q(z|x) and their normalised weights w~_k,
 *   d log p(x) / d theta ~= sum_k w~_k d/d theta log p_theta(x, z_k),
 * minimised as loss(theta) = -mean_b sum_k sg[w~_k] (log p(z_k) + log p(x|z_k)). It is exactly the
 * theta-gradient of the K-sample bound L_K (d L_K = sum_k w~_k d log w_k, and log q does not
 * depend on theta); K = 1 (w~ = 1) is the wake phase of plain wake-sleep. Trains the prior and
 * the decoder only.
 */
export const rwsWakeP = defineNode({
  type: 'loss.rwsWakeP',
  version: 1,
  title: 'Reweighted wake (train p)',
  category: 'loss',
  role: 'objective',
  inputs: INPUTS,
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields }),
  math: {
    latex:
      '\\nabla_\\theta \\log p_\\theta(x) \\approx \\sum_{k=1}^{K} \\tilde w_k\\, \\nabla_\\theta \\log p_\\theta(x, z_k),\\quad \\tilde w_k = \\frac{w_k}{\\sum_{l} w_l},\\ w_k = \\frac{p_\\theta(x, z_k)}{q_\\phi(z_k\\mid x)},\\ z_k \\sim q_\\phi(z\\mid x)',
    explain:
      'The wake-phase update of the generative model in reweighted wake-sleep. The recognition network proposes K codes for each real x; each is weighted by how much better the model explains it than q expected, w = p(x, z) / q(z | x), normalised over the K proposals, and the prior and decoder learn the weighted pairs by maximum likelihood. This estimates the gradient of log p(x) itself (it is the gradient of the importance weighted bound), with less bias as K grows; K = 1 is plain wake-sleep.',
  },
  ui: OBJECTIVE_UI,
  fixture: FIXTURE,
  evaluators: [{ kind: 'terms', metric: 'negIwae', sum: ['negIwae'], report: ['ess'] }, IWAE_NLL],
  defaultTrains: { except: ['encoder'] },
  describe: () => ({
    divergence: 'wake-p, in theta: KL(p_data || p_theta), its gradient estimated by K self-normalised importance samples from q',
    likelihood: { kind: 'bound', text: 'follows the gradient of the K-sample importance weighted bound on log p(x) in theta; log p(x) is estimated by importance sampling' } }),
  infer: inferReweighted,
  apply(ctx, { inputs, shapes }) {
    const { ops } = ctx;
    const r = reweighted(ops, ctx.nodeId, inputs, shapes);
    const value = weightedNll(ops, r.weights, ops.add(r.logPz, r.logPx));
    return { loss: { kind: 'Loss', value, terms: reported(ops, r) } };
  },
});

/**
 * The wake-phase q update of reweighted wake-sleep (Bornschein & Bengio 2015): the same
 * proposals and weights train q towards the posterior on real data,
 *   d/d phi KL(p(z|x) || q(z|x)) ~= -sum_k w~_k d/d phi log q_phi(z_k | x),
 * minimised as loss(phi) = -mean_b sum_k sg[w~_k] log q(z_k|x). Unlike the sleep phase it learns
 * from real x, not dreams. Trains the recognition network only.
 */
export const rwsWakeQ = defineNode({
  type: 'loss.rwsWakeQ',
  version: 1,
  title: 'Reweighted wake (train q)',
  category: 'loss',
  role: 'objective',
  inputs: INPUTS,
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields }),
  math: {
    latex:
      '\\nabla_\\phi\\, \\mathrm{KL}\\big(p_\\theta(z\\mid x)\\,\\|\\,q_\\phi(z\\mid x)\\big) \\approx -\\sum_{k=1}^{K} \\tilde w_k\\, \\nabla_\\phi \\log q_\\phi(z_k \\mid x),\\quad \\tilde w_k = \\frac{w_k}{\\sum_l w_l},\\ z_k \\sim q_\\phi(z\\mid x)',
    explain:
      'The wake-phase update of the recognition network in reweighted wake-sleep. The K proposals for a real x, weighted by their normalised importance weights, are targets for q itself: q moves its probability towards the codes the generative model finds most plausible for x. This estimates the gradient of KL(p(z | x) || q(z | x)) on real data, where the sleep phase uses the model\'s dreams.',
  },
  ui: OBJECTIVE_UI,
  fixture: FIXTURE,
  defaultTrains: { only: ['encoder'] },
  describe: () => ({
    divergence: 'wake-q, in q: KL(p_theta(z | x) || q(z | x)) on data x, estimated with the same importance weights',
    likelihood: { kind: 'none', text: 'fits the proposal q(z|x) to the importance-weighted posterior (KL(p || q)); it gives no likelihood' } }),
  infer: inferReweighted,
  apply(ctx, { inputs, shapes }) {
    const { ops } = ctx;
    const r = reweighted(ops, ctx.nodeId, inputs, shapes);
    const value = weightedNll(ops, r.weights, r.logQ);
    return { loss: { kind: 'Loss', value, terms: reported(ops, r) } };
  },
});
