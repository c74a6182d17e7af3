import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import type { Ops } from '../core/ops';
import type { PortShape } from '../core/ports';
import { distEvent, expectSame, flatSize, LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';
import type { DistValue } from '../core/values';
import { IWAE_NLL } from '../vae/elbo';

const fmt = (d: number[]) => `[B${d.map((x) => `, ${x}`).join('')}]`;

/**
 * K, the importance samples per row, from the shape of z: the draws grouped per row
 * [B, K, ...event of q], or a single draw [B, ...event of q] (K = 1, the ELBO)
 */
export function drawsPerRow(shapes: Record<string, PortShape | undefined>): number {
  const ev = distEvent(shapes, 'q');
  const zs = tensorShape(shapes, 'z');
  if (zs.length === ev.length && zs.every((d, i) => d === ev[i])) return 1;
  if (zs.length === ev.length + 1 && zs.slice(1).every((d, i) => d === ev[i])) return zs[0]!;
  throw new InferError(
    'z',
    `shape mismatch on "z": expected the draws of q grouped per row, [B, K${ev.map((d) => `, ${d}`).join('')}] (the "draws" output of K posterior draws), or one draw ${fmt(ev)}; got ${fmt(zs)}`,
  );
}

/** log sum_k exp(t[:, k]) for t [B, K]: the row maximum m (a constant, sg) is taken out first */
export function logSumExpRows<T>(ops: Ops<T>, t: T, K: number): T {
  // m = max_k t[:, k] by pairwise maxima (Ops has no max reduction); [B, 1]
  let m = t;
  for (let w = K; w > 1; ) {
    const h = Math.floor(w / 2);
    const pair = ops.maximum(ops.sliceAxis(m, 1, 0, h), ops.sliceAxis(m, 1, h, h));
    m = w % 2 ? ops.concat([pair, ops.sliceAxis(m, 1, 2 * h, 1)], 1) : pair;
    w = h + (w % 2);
  }
  m = ops.stopGradient(m);
  // log sum_k exp(t_k) = m + log sum_k exp(t_k - m): every exponent <= 0, one of them 0
  return ops.add(ops.reshape(m, [-1]), ops.log(ops.sum(ops.exp(ops.sub(t, m)), [1])));
}

/**
 * The importance weighted bound (Burda, Grosse & Salakhutdinov 2016, eq. 8):
 *   L_K(x) = E_{z_1..K ~ q(z|x)} [ log (1/K) sum_k w_k ],
 *   log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x),
 * computed as logsumexp_k(log w_k) - log K (stable: the largest log weight is taken out), one
 * K-draw estimate per row; loss = -mean_b L_K(x_b). L_1 is the ELBO with the one-draw KL
 * estimate; L_K <= L_{K+1} <= log p(x) in expectation (their Theorem 1).
 * Reported terms (over all K x B draws): recon = -mean log p(x|z_k), kl = mean(log q - log p(z_k)),
 * so recon + kl is the K-draw estimate of the negative ELBO, never below the loss.
 */
export const iwaeLoss = defineNode({
  type: 'loss.iwae',
  version: 1,
  title: 'IWAE bound',
  category: 'loss',
  role: 'objective',
  inputs: {
    x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'the observations being explained, [B, ...]' },
    q: { type: { kind: 'Dist' }, doc: 'the encoder posterior q(z|x), one per row of x' },
    prior: { type: { kind: 'Dist' }, doc: 'the prior p(z)' },
    px: { type: { kind: 'Dist' }, doc: 'the decoder likelihood p(x|z) at every draw (K x B rows, row b K + k)' },
    z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'the draws z_k ~ q grouped per row, [B, K, ...] (or one draw per row: K = 1)' },
  },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields }),
  math: {
    latex:
      '\\mathcal{L}_K(x) = \\mathbb{E}_{z_1,\\dots,z_K \\sim q_\\phi(z\\mid x)}\\Big[\\log \\frac{1}{K}\\sum_{k=1}^{K} \\frac{p_\\theta(x\\mid z_k)\\,p(z_k)}{q_\\phi(z_k\\mid x)}\\Big] \\;\\le\\; \\log p_\\theta(x),\\qquad \\text{loss} = -\\mathcal{L}_K',
    explain:
      'The importance weighted autoencoder bound. Each of K posterior draws gets a weight w_k = p(x, z_k) / q(z_k | x); the log of their average is a lower bound on log p(x) that tightens as K grows (K = 1 is the ELBO) and equals log p(x) when q is the true posterior. It is computed as a log-sum-exp of log-weights, so tiny weights do not underflow. Because the bound rewards q only through the average weight, the encoder may spread over the posterior instead of hugging one mode.',
  },
  ui: OBJECTIVE_UI,
  fixture: {
    // K = 1: the recorder's batch is one symbolic N, and K > 1 merges it with K (tfjs only)
    inputs: { x: { kind: 'Tensor', shape: [3] }, q: { kind: 'Dist', event: [2] }, prior: { kind: 'Dist', event: [2] }, px: { kind: 'Dist', event: [3] }, z: { kind: 'Tensor', shape: [1, 2] } },
  },
  evaluators: [{ kind: 'terms', metric: 'negIwae', sum: ['loss'], report: ['recon', 'kl'] }, IWAE_NLL],
  describe: () => ({
    divergence: 'KL(p_data || p_theta) through the K-sample importance-weighted bound',
    likelihood: { kind: 'bound', text: 'a lower bound on the log-likelihood, tighter than the ELBO and tightening with K (the IWAE bound)' } }),
  infer(shapes) {
    const x = tensorShape(shapes, 'x');
    const q = distEvent(shapes, 'q');
    expectSame('prior', distEvent(shapes, 'prior'), q, 'the prior must be over the same latent space as q');
    const px = distEvent(shapes, 'px');
    if (flatSize(px) !== flatSize(x)) throw new InferError('px', `shape mismatch on "px": the likelihood is over ${fmt(px)} but x is ${fmt(x)}`);
    drawsPerRow(shapes);
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs, shapes }) {
    const { ops } = ctx;
    const { logPx, logPz, logQ, logW, K } = importanceLogWeights(ops, ctx.nodeId, inputs, shapes, 'posterior draws');
    // L_K per row = logsumexp_k log w_k - log K
    const bound = ops.sub(logSumExpRows(ops, logW, K), ops.scalar(Math.log(K)));
    const value = ops.neg(ops.mean(bound));
    const recon = ops.neg(ops.mean(logPx));
    const kl = ops.mean(ops.sub(logQ, logPz));
    return { loss: { kind: 'Loss', value, terms: { recon, kl } } };
  },
});

/** the inputs of an importance-weighted objective: x, the proposal q(z|x), the prior, p(x|z) at every draw, the draws z */
export interface ImportanceInputs<T> {
  x: T;
  q: DistValue<T>;
  prior: DistValue<T>;
  px: DistValue<T>;
  z: T;
}

/**
 * log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x) for the K draws of every row, [B, K],
 * with its three parts, from the draws grouped per row [B, K, ...] (or one per row, K = 1)
 * and p(x|z) over the decoder's K x B rows (row b K + k). `what` names the draws node in the
 * error for a flat batch.
 */
export function importanceLogWeights<T>(
  ops: Ops<T>,
  nodeId: string,
  inputs: ImportanceInputs<T>,
  shapes: Record<string, PortShape | undefined>,
  what: string,
): { logPx: T; logPz: T; logQ: T; logW: T; K: number } {
  const K = drawsPerRow(shapes);
  const ev = (shapes.q as { event: number[] }).event;
  const xEv = (shapes.x as { shape: number[] }).shape;
  const grouped = (shapes.z as { shape: number[] }).shape.length === ev.length + 1;
  // rows are known on tfjs (-1, symbolic, in ONNX): a flat batch of K x B draws is refused
  const nx = ops.shape(inputs.x)[0]!;
  const nz = ops.shape(inputs.z)[0]!;
  if (nx >= 0 && nz >= 0 && nx !== nz) {
    throw new Error(`${nodeId}: input "z" has ${nz} rows but "x" has ${nx}: connect the draws grouped per row ("draws" of K ${what}), not the flat batch`);
  }
  // z_k for every row, [B, ...event]
  const zk = (k: number) => (grouped ? ops.reshape(ops.sliceAxis(inputs.z, 1, k, 1), [-1, ...ev]) : inputs.z);
  // [B, K] from one [B] column per draw
  const columns = (f: (k: number) => T) => {
    const cols = Array.from({ length: K }, (_, k) => ops.reshape(f(k), [-1, 1]));
    return cols.length === 1 ? cols[0]! : ops.concat(cols, 1);
  };
  const logPz = columns((k) => inputs.prior.logProb(zk(k)));
  const logQ = columns((k) => inputs.q.logProb(zk(k)));
  // p(x|z) is one Dist over the decoder's K x B rows (row b K + k): x repeated K times in
  // that order, [B, 1, ...] * ones[1, K, ...] -> [B K, ...], then regrouped [B, K]. (Merging
  // the batch with K has no form in the ONNX recorder: K > 1 trains on tfjs only.)
  const xRep =
    K === 1 ? inputs.x : ops.reshape(ops.mul(ops.reshape(inputs.x, [-1, 1, ...xEv]), ops.constant(new Float32Array(K).fill(1), [1, K, ...xEv.map(() => 1)])), [-1, ...xEv]);
  const logPx = ops.reshape(inputs.px.logProb(xRep), [-1, K]);
  const logW = ops.sub(ops.add(logPx, logPz), logQ);
  return { logPx, logPz, logQ, logW, K };
}
