import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { distEvent } from '../core/objective';
import type { Ops } from '../core/ops';

/**
 * K independent reparameterised draws from the posterior for every row (Burda, Grosse &
 * Salakhutdinov 2016, section 3: z_1, ..., z_K ~ q(z|x), z_k = mu(x) + sigma(x) eps_k):
 *   draws[b, k] = z_k(x_b),   z[b K + k] = draws[b, k]   (k = 0..K-1).
 * The same draws leave in two layouts: `z`, one batch of K x B latents for the decoder (so
 * p(x|z_k) is evaluated for every draw in one pass), and `draws`, grouped per observation
 * [B, K, ...], for the IWAE loss (whose K is read from this shape).
 */
export const posteriorDraws = defineNode({
  type: 'encoder.posteriorDraws',
  version: 1,
  title: 'K posterior draws',
  category: 'encoder',
  role: 'none',
  inputs: { q: { type: { kind: 'Dist' }, doc: 'the encoder posterior q(z|x), one per row' } },
  outputs: {
    z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'the K draws of every row as one batch of K x B latents (row b K + k), for the decoder' },
    draws: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'the same draws grouped per row, [B, K, ...], for the IWAE loss' },
  },
  params: z.object({
    /**
     * importance samples per observation. K = 1 (the default, and the ELBO) keeps the batch:
     * the ONNX recorder's batch is one symbolic N, so K > 1 (K x N rows) trains on tfjs only
     */
    k: z.number().int().min(1).max(1000).default(1),
  }),
  math: {
    latex: 'z_k = \\mu_\\phi(x) + \\sigma_\\phi(x) \\odot \\epsilon_k,\\quad \\epsilon_k \\sim \\mathcal{N}(0, I),\\quad k = 1, \\dots, K',
    explain:
      'Draws K latent codes from the encoder posterior for every observation, each with its own noise and reparameterised so that gradients reach the encoder. The decoder then explains x from each of them in one batch of K x B codes, and the importance-weighted loss averages their likelihood ratios: more draws give a tighter bound on log p(x).',
  },
  ui: { k: { units: 'draws per x' } },
  // k = 1 keeps the batch B, which the conformance harness checks every Tensor output against
  fixture: { inputs: { q: { kind: 'Dist', event: [3] } } },
  infer(shapes, p) {
    const ev = distEvent(shapes, 'q');
    return { z: { kind: 'Tensor', shape: ev }, draws: { kind: 'Tensor', shape: [p.k, ...ev] } };
  },
  apply(ctx, { inputs, params, shapes }) {
    const { ops } = ctx;
    const q = inputs.q;
    const ev = (shapes.q as { event: number[] }).event;
    if (!q.rsample) throw new Error(`${ctx.nodeId}: input "q" (a ${q.family} distribution) has no reparameterised sample, so no gradient could reach the encoder`);
    return stackDraws(ops, () => q.rsample!(ctx.batchSize), params.k, ev);
  },
});

/** K fresh draws [B, ...event] in the two layouts: `draws` [B, K, ...event] and `z` [B K, ...event] (row b K + k) */
export function stackDraws<T>(ops: Ops<T>, draw: () => T, k: number, ev: number[]): { draws: T; z: T } {
  // one fresh draw per k, each [B, 1, ...event]
  const parts = Array.from({ length: k }, () => ops.reshape(draw(), [-1, 1, ...ev]));
  const draws = parts.length === 1 ? parts[0]! : ops.concat(parts, 1);
  return { draws, z: ops.reshape(draws, [-1, ...ev]) };
}
