import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { distEvent } from '../core/objective';
import { SAMPLES_OUT } from '../core/samplerShapes';

/** Ancestral sampling of an autoregressive density: x_1 ~ p(x_1), then x_j ~ p(x_j | x_<j). */
export const autoregressiveSampler = defineNode({
  type: 'sampler.autoregressive',
  version: 1,
  title: 'Autoregressive sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: { dist: { type: { kind: 'Dist' }, doc: 'an autoregressive density' } },
  outputs: SAMPLES_OUT,
  params: z.object({}),
  math: {
    latex: 'x_1 \\sim p(x_1),\\quad x_j \\sim p(x_j \\mid x_1, \\dots, x_{j-1}),\\ j = 2, \\dots, D',
    explain:
      'An autoregressive model samples the way it factorises: one coordinate at a time, each drawn from its conditional given the coordinates already drawn. Samples are exact, but they take D network passes, one after the other, where a flow or a GAN takes one.',
  },
  fixture: { inputs: { dist: { kind: 'Dist', event: [3] } } },
  describe: (_p, shapes) => {
    const d = shapes.dist?.kind === 'Dist' ? shapes.dist.event.reduce((a, b) => a * b, 1) : undefined;
    return { sampler: { calls: d, text: d ? `${d} sequential passes, one per coordinate` : 'one pass per coordinate' } };
  },
  infer: (shapes) => ({ samples: { kind: 'Tensor', shape: distEvent(shapes, 'dist') } }),
  apply: (ctx, { inputs }) => ({ samples: inputs.dist.sample(ctx.batchSize) }),
});
