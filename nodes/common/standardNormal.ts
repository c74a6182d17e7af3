import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { standardNormal as stdNormal } from '../core/dists';
import type { DistValue } from '../core/values';

export const standardNormal = defineNode({
  type: 'prior.standardNormal',
  version: 1,
  title: 'Standard normal prior',
  category: 'prior',
  role: 'none',
  inputs: {},
  outputs: {
    p: { type: { kind: 'Dist' }, doc: 'p(z) = N(0, I)' },
    z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'a batch z ~ N(0, I)' },
  },
  params: z.object({ dim: z.number().int().min(1).max(4096).default(2) }),
  math: {
    latex: 'p(z) = \\mathcal{N}(z; 0, I)',
    explain:
      'The simple base distribution latent variable models start from. A VAE decodes z from it, a GAN generator pushes it forward, a normalising flow transforms it bijectively, and diffusion ends in it.',
  },
  fixture: { inputs: {}, params: { dim: 3 } },
  infer: (_s, p) => ({ p: { kind: 'Dist', event: [p.dim] }, z: { kind: 'Tensor', shape: [p.dim] } }),
  build: (ctx, p): { p: DistValue<any> } => ({ p: stdNormal(ctx.ops, [p.dim]) }),
  staticOutputs: ['p'],
  apply: (ctx, { built }) => ({ p: built.p, z: built.p.sample(ctx.batchSize) }),
});
