import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { buildMlp, mlpFields } from '../core/mlp';
import { expectSame, flatSize, tensorShape } from '../core/objective';
import type { FnValue } from '../core/values';

export const mlpCritic = defineNode({
  type: 'critic.mlp',
  version: 1,
  title: 'Critic',
  category: 'critic',
  role: 'network',
  inputs: {
    real: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'samples of the data' },
    fake: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'samples of the generator' },
  },
  outputs: {
    realLogit: { type: { kind: 'Tensor', semantic: 'logit' }, doc: 'D logits on real samples' },
    fakeLogit: { type: { kind: 'Tensor', semantic: 'logit' }, doc: 'D logits on generated samples' },
    fn: { type: { kind: 'Fn' }, doc: 'the critic as a function' },
  },
  params: z.object({ ...mlpFields, activation: mlpFields.activation.default('leakyRelu') }),
  math: {
    latex: 'D_\\psi(x) = \\sigma\\big(f_\\psi(x)\\big) \\in (0, 1)',
    explain:
      'The discriminator of a GAN: it scores how likely x is to be real. The same weights score real and generated batches, which is why one critic node has two inputs. At the optimum D*(x) = p_data(x) / (p_data(x) + p_g(x)).',
  },
  fixture: { inputs: { real: { kind: 'Tensor', shape: [2] }, fake: { kind: 'Tensor', shape: [2] } }, params: { hidden: [8] } },
  infer(shapes) {
    const r = tensorShape(shapes, 'real');
    const f = tensorShape(shapes, 'fake');
    expectSame('fake', f, r, 'generated samples must have the shape of the data');
    return {
      realLogit: { kind: 'Tensor', shape: [1] },
      fakeLogit: { kind: 'Tensor', shape: [1] },
      fn: { kind: 'Fn', in: r, out: [1], timeConditioned: false },
    };
  },
  build(ctx, p, shapes): { fn: FnValue<any> } {
    const r = (shapes.real as { shape: number[] }).shape;
    const net = buildMlp(ctx, flatSize(r), p.hidden, 1, p.activation);
    return { fn: { kind: 'Fn', owner: ctx.nodeId, in: r, out: [1], timeConditioned: false, call: (x) => net(x) } };
  },
  staticOutputs: ['fn'],
  apply: (_ctx, { inputs, built }) => ({
    realLogit: built.fn.call(inputs.real),
    fakeLogit: built.fn.call(inputs.fake),
    fn: built.fn,
  }),
});
