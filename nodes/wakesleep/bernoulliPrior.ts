import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import type { Ops } from '../core/ops';
import type { DistValue } from '../core/values';
import { sumEvent } from '../core/values';

/**
 * A factorised Bernoulli distribution with learned logits b, shared by every row (the top
 * layer of a Helmholtz machine, Hinton, Dayan, Frey & Neal 1995: p(z) = prod_j Bern(z_j; sigma(b_j))):
 *   log p(z) = sum_j z_j b_j - softplus(b_j),
 *   z ~ p(z):  z_j = 1[u_j < sigma(b_j)],  u ~ U[0, 1)^H.
 * Ops has no comparison op: the indicator is clip(1e6 (sigma(b) - u), 0, 1), exactly 0 or 1
 * unless |sigma(b) - u| < 1e-6 (as in nodes/core/dists.ts). The draw carries no gradient.
 */
export function bernoulliPriorDist<T>(ops: Ops<T>, logits: T, dim: number): DistValue<T> {
  return {
    kind: 'Dist',
    family: 'bernoulli',
    event: [dim],
    sample: (n) => {
      // a [n, H] uniform draw: randomUniformLike needs a tensor of that shape
      const u = ops.randomUniformLike(ops.randomNormal([n, dim]));
      return ops.stopGradient(ops.clip(ops.mul(ops.sub(ops.sigmoid(logits), u), ops.scalar(1e6)), 0, 1));
    },
    logProb: (zv) => sumEvent(ops, ops.sub(ops.mul(zv, logits), ops.softplus(logits))),
    params: { logits },
  };
}

export const bernoulliPrior = defineNode({
  type: 'prior.bernoulli',
  version: 1,
  title: 'Bernoulli prior (learned)',
  category: 'prior',
  role: 'network',
  inputs: {},
  outputs: {
    p: { type: { kind: 'Dist' }, doc: 'p(z) = prod_j Bern(z_j; sigma(b_j)) over H binary units, learned logits b' },
    z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'a batch z ~ p(z) of binary codes (no gradient)' },
  },
  params: z.object({ dim: z.number().int().min(1).max(4096).default(64) }),
  math: {
    latex: 'p_\\theta(z) = \\prod_{j=1}^{H} \\operatorname{Bern}\\big(z_j; \\sigma(b_j)\\big),\\quad \\log p_\\theta(z) = \\textstyle\\sum_j z_j b_j - \\operatorname{softplus}(b_j)',
    explain:
      'The top layer of a Helmholtz machine: H independent binary latent units, each switched on with a learned probability sigma(b_j). It is part of the generative model p(x, z) = p(z) p(x | z), so the wake phase trains it, towards the frequencies with which the recognition network turns the units on for real data.',
  },
  ui: { dim: { units: 'binary units' } },
  fixture: { inputs: {}, params: { dim: 3 } },
  describe: () => ({ latent: { text: 'binary latent units z with a learned factorised Bernoulli prior', rank: 1 } }),
  infer: (_s, p) => ({ p: { kind: 'Dist', event: [p.dim] }, z: { kind: 'Tensor', shape: [p.dim] } }),
  build: (ctx, p): { p: DistValue<any> } => ({ p: bernoulliPriorDist(ctx.ops, ctx.param('logits', [p.dim], { kind: 'zeros' }), p.dim) }),
  staticOutputs: ['p'],
  apply: (ctx, { built }) => ({ p: built.p, z: built.p.sample(ctx.batchSize) }),
});
