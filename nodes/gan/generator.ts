import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { buildMlp, mlpFields } from '../core/mlp';
import { flatSize, tensorShape } from '../core/objective';
import type { FnValue } from '../core/values';

export const generator = defineNode({
  type: 'decoder.generator',
  version: 1,
  title: 'Generator',
  category: 'decoder',
  role: 'network',
  inputs: { z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'latent noise z ~ p(z)' } },
  outputs: {
    x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'generated samples G(z)' },
    fn: { type: { kind: 'Fn' }, doc: 'G as a function, for samplers' },
  },
  params: z.object({ ...mlpFields, dataDim: z.number().int().min(1).max(100000).default(2) }),
  math: {
    latex: 'x = G_\\theta(z),\\quad z \\sim p(z)',
    explain:
      'An implicit model: it pushes simple noise forward into data space and defines p_theta only through its samples, so it has no likelihood. A GAN trains it against a critic; a one-shot sampler draws z and applies it.',
  },
  fixture: { inputs: { z: { kind: 'Tensor', shape: [3] } }, params: { hidden: [8], dataDim: 2 } },
  exports: [{ kind: 'generator', port: 'fn' }],
  infer(shapes, p) {
    const zs = tensorShape(shapes, 'z');
    return { x: { kind: 'Tensor', shape: [p.dataDim] }, fn: { kind: 'Fn', in: zs, out: [p.dataDim], timeConditioned: false } };
  },
  build(ctx, p, shapes): { fn: FnValue<any> } {
    const zs = (shapes.z as { shape: number[] }).shape;
    const net = buildMlp(ctx, flatSize(zs), p.hidden, p.dataDim, p.activation);
    return { fn: { kind: 'Fn', owner: ctx.nodeId, in: zs, out: [p.dataDim], timeConditioned: false, call: (z) => net(z) } };
  },
  staticOutputs: ['fn'],
  apply: (_ctx, { inputs, built }) => ({ x: built.fn.call(inputs.z), fn: built.fn }),
});
