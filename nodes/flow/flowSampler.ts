import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { distEvent } from '../core/objective';
import { SAMPLES_OUT } from '../core/samplerShapes';

export const flowSampler = defineNode({
  type: 'sampler.flow',
  version: 1,
  title: 'Flow sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: { dist: { type: { kind: 'Dist' }, doc: 'a transformed distribution (base + flow)' } },
  outputs: SAMPLES_OUT,
  params: z.object({}),
  math: {
    latex: 'z \\sim p_Z,\\quad x = f(z) = f_K \\circ \\cdots \\circ f_1(z)',
    explain:
      'A normalising flow samples exactly by drawing from its base distribution and running the bijection in the generative direction, the inverse of the direction used to evaluate the likelihood.',
  },
  fixture: { inputs: { dist: { kind: 'Dist', event: [3] } } },
  describe: () => ({ sampler: { calls: 1, text: 'one pass through the inverse flow' } }),
  infer: (shapes) => ({ samples: { kind: 'Tensor', shape: distEvent(shapes, 'dist') } }),
  apply: (ctx, { inputs }) => ({ samples: inputs.dist.sample(ctx.batchSize) }),
});
