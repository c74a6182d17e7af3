import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { distEvent } from '../core/objective';
import { SAMPLES_OUT } from '../core/samplerShapes';

/** Ancestral sampling of a linear-Gaussian model: z ~ N(0, I), then x = mu + W z + Psi^(1/2) eps. */
export const factorSampler = defineNode({
  type: 'sampler.factor',
  version: 1,
  title: 'Linear-Gaussian sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: { dist: { type: { kind: 'Dist' }, doc: 'a factor analysis or PPCA model' } },
  outputs: SAMPLES_OUT,
  params: z.object({}),
  math: {
    latex: 'z \\sim \\mathcal{N}(0, I_L),\\quad x = \\mu + W z + \\Psi^{1/2} \\epsilon,\\ \\epsilon \\sim \\mathcal{N}(0, I_D)',
    explain:
      'Two draws: the factors z from a standard Gaussian, then the point they map to plus independent noise. No network and no chain: the samples are exact. On images the noise term is visible as grain; the factors alone (W z) give the smooth, blurry shapes PCA is known for.',
  },
  fixture: { inputs: { dist: { kind: 'Dist', event: [3] } } },
  describe: () => ({ sampler: { calls: 0, text: 'exact: draw the factors, map them linearly, add noise' } }),
  infer: (shapes) => ({ samples: { kind: 'Tensor', shape: distEvent(shapes, 'dist') } }),
  apply: (ctx, { inputs }) => ({ samples: inputs.dist.sample(ctx.batchSize) }),
});
