import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { distEvent } from '../core/objective';
import { stackDraws } from '../iwae/posteriorDraws';

/**
 * K independent draws from the recognition distribution for every row, with no gradient
 * (reweighted wake-sleep, Bornschein & Bengio 2015: z_1, ..., z_K ~ q(z|x) are proposals of an
 * importance sampler, not reparameterised codes):
 *   draws[b, k] = z_k(x_b) ~ q(z | x_b),   z[b K + k] = draws[b, k]   (k = 0..K-1).
 * `z` feeds the decoder one batch of K x B codes (p(x|z_k) for every draw in one pass);
 * `draws`, grouped per observation [B, K, ...], feeds the reweighted losses (K is read from it).
 */
export const posteriorSamples = defineNode({
  type: 'encoder.posteriorSamples',
  version: 1,
  title: 'K recognition samples',
  category: 'encoder',
  role: 'none',
  inputs: { q: { type: { kind: 'Dist' }, doc: 'the recognition distribution q(z|x), one per row' } },
  outputs: {
    z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'the K draws of every row as one batch of K x B codes (row b K + k), for the decoder' },
    draws: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'the same draws grouped per row, [B, K, ...], for the reweighted losses' },
  },
  params: z.object({
    /** proposals per observation; K = 1 keeps the batch (the ONNX recorder's one symbolic N), K > 1 trains on tfjs only */
    k: z.number().int().min(1).max(1000).default(1),
  }),
  math: {
    latex: 'z_k \\sim q_\\phi(z \\mid x)\\ \\text{(no gradient)},\\quad k = 1, \\dots, K',
    explain:
      'Draws K latent codes from the recognition network for every observation. They are proposals of an importance sampler: the reweighted wake-sleep losses weight each by p(x, z_k) / q(z_k | x), normalised over the K draws. No gradient flows through the draws (binary codes cannot be reparameterised); q learns from the weights instead.',
  },
  ui: { k: { units: 'draws per x' } },
  fixture: { inputs: { q: { kind: 'Dist', event: [3] } } },
  infer(shapes, p) {
    const ev = distEvent(shapes, 'q');
    return { z: { kind: 'Tensor', shape: ev }, draws: { kind: 'Tensor', shape: [p.k, ...ev] } };
  },
  apply(ctx, { inputs, params, shapes }) {
    const { ops } = ctx;
    const ev = (shapes.q as { event: number[] }).event;
    return stackDraws(ops, () => ops.stopGradient(inputs.q.sample(ctx.batchSize)), params.k, ev);
  },
});
