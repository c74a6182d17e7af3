import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { transformed } from '../core/dists';
import { distEvent, expectSame } from '../core/objective';

export const transformedDist = defineNode({
  type: 'flow.transformed',
  version: 1,
  title: 'Transformed distribution',
  category: 'flow',
  role: 'none',
  inputs: {
    base: { type: { kind: 'Dist' }, doc: 'the base distribution p_Z' },
    flow: { type: { kind: 'Bijector' }, doc: 'the flow f (latent -> data)' },
  },
  outputs: { dist: { type: { kind: 'Dist' }, doc: 'p_X, with exact log-likelihood' } },
  params: z.object({}),
  math: {
    latex: 'x = f(z),\\ z \\sim p_Z:\\quad \\log p_X(x) = \\log p_Z\\big(f^{-1}(x)\\big) + \\log\\left\\lvert\\det \\frac{\\partial f^{-1}}{\\partial x}\\right\\rvert',
    explain:
      'The change-of-variables formula: a normalising flow is a base distribution pushed through an invertible map. Because f is invertible with a tractable Jacobian, the model has an exact log-likelihood and can be trained by maximum likelihood; sampling runs the flow forward from base samples.',
  },
  fixture: { inputs: { base: { kind: 'Dist', event: [3] }, flow: { kind: 'Bijector', event: [3] } } },
  exports: [{ kind: 'generator', input: 'flow', doc: 'the flow forward: z -> x = f(z)' }],
  describe: () => ({ latent: { text: 'bijective latent: z = f(x) has the data dimension and is computed exactly, no encoder needed', rank: 2 } }),
  infer(shapes) {
    const base = distEvent(shapes, 'base');
    const f = shapes.flow;
    if (f?.kind === 'Bijector') expectSame('flow', f.event, base, 'the flow must act on the base event');
    return { dist: { kind: 'Dist', event: base } };
  },
  apply: (ctx, { inputs }) => ({ dist: transformed(ctx.ops, inputs.base, inputs.flow) }),
});
