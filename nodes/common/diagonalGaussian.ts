import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { diagNormal } from '../core/dists';
import type { DistValue } from '../core/values';

export const diagonalGaussian = defineNode({
  type: 'prior.diagonalGaussian',
  version: 1,
  title: 'Diagonal Gaussian (learned)',
  category: 'prior',
  role: 'network',
  inputs: {},
  outputs: {
    p: { type: { kind: 'Dist' }, doc: 'p(z) = N(mu, diag sigma^2) with learned mu, sigma' },
    z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'a reparameterised batch z = mu + sigma * eps' },
  },
  params: z.object({ dim: z.number().int().min(1).max(4096).default(2) }),
  math: {
    latex: 'p_\\theta(z) = \\mathcal{N}(z; \\mu, \\operatorname{diag}\\sigma^2),\\quad z = \\mu + \\sigma \\odot \\epsilon,\\ \\epsilon \\sim \\mathcal{N}(0, I)',
    explain:
      'A Gaussian with a learned mean and a learned per-dimension scale. Sampling uses the reparameterisation trick, so gradients flow into mu and sigma.',
  },
  fixture: { inputs: {}, params: { dim: 3 } },
  infer: (_s, p) => ({ p: { kind: 'Dist', event: [p.dim] }, z: { kind: 'Tensor', shape: [p.dim] } }),
  build: (ctx, p): { p: DistValue<any> } => {
    const mu = ctx.param('mu', [p.dim], { kind: 'zeros' });
    const logStd = ctx.param('logStd', [p.dim], { kind: 'zeros' });
    return { p: diagNormal(ctx.ops, mu, logStd, [p.dim], false) };
  },
  staticOutputs: ['p'],
  apply: (ctx, { built }) => ({ p: built.p, z: built.p.rsample!(ctx.batchSize) }),
});
