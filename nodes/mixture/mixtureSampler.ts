import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { distEvent } from '../core/objective';
import { SAMPLES_OUT } from '../core/samplerShapes';

/** Ancestral sampling of a mixture: k ~ Cat(pi), then x ~ N(mu_k, diag sigma_k^2). */
export const mixtureSampler = defineNode({
  type: 'sampler.mixture',
  version: 1,
  title: 'Mixture sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: { dist: { type: { kind: 'Dist' }, doc: 'a mixture (Gaussian mixture or kernel density estimate)' } },
  outputs: SAMPLES_OUT,
  params: z.object({}),
  math: {
    latex: 'k \\sim \\operatorname{Cat}(\\pi_1, \\dots, \\pi_K),\\quad x = \\mu_k + \\sigma_k \\odot \\epsilon,\\ \\epsilon \\sim \\mathcal{N}(0, I)',
    explain:
      'A mixture is sampled in two draws: first which component (a point of a kernel density estimate, or a Gaussian of a mixture) with its weight, then a point from that component\'s Gaussian. No network runs and no chain is needed: samples are exact.',
  },
  fixture: { inputs: { dist: { kind: 'Dist', event: [3] } } },
  describe: () => ({ sampler: { calls: 0, text: 'exact: pick a component, then draw from its Gaussian' } }),
  infer: (shapes) => ({ samples: { kind: 'Tensor', shape: distEvent(shapes, 'dist') } }),
  apply: (ctx, { inputs }) => ({ samples: inputs.dist.sample(ctx.batchSize) }),
});
