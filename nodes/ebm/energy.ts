import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { buildMlp, mlpFields, type Mlp } from '../core/mlp';
import { flatSize, tensorShape } from '../core/objective';
import type { FnValue } from '../core/values';

/**
 * The energy of an energy-based model ("EBM (1)"):
 *   p_theta(x) = exp(-E_theta(x)) / Z(theta),  Z(theta) = int exp(-E_theta(x)) dx
 * E_theta is an MLP with one scalar output. Samplers and the Langevin negatives call its
 * Fn and take ops.grad of it: the score is -grad_x E_theta(x).
 */
export const energyMlp = defineNode({
  type: 'energy.mlp',
  version: 1,
  title: 'Energy network',
  category: 'network',
  role: 'network',
  inputs: { x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'data points (they fix the input shape; E is reported on them)' } },
  outputs: {
    energy: { type: { kind: 'Tensor' }, doc: 'E_theta(x) on the input, one scalar per row' },
    fn: { type: { kind: 'Fn' }, doc: 'E_theta as a function, for the loss, the Langevin negatives and the samplers' },
  },
  params: z.object({ ...mlpFields, activation: mlpFields.activation.default('silu') }),
  math: {
    latex: 'p_\\theta(x) = \\frac{\\exp(-E_\\theta(x))}{Z(\\theta)},\\qquad Z(\\theta) = \\int \\exp(-E_\\theta(x))\\,dx,\\qquad \\nabla_x \\log p_\\theta(x) = -\\nabla_x E_\\theta(x)',
    explain:
      'An energy-based model borrows the Boltzmann distribution from physics: low energy means high density. Any network with a scalar output defines a density this way, but the partition function Z(theta) is intractable, so there is no exact likelihood. The score -grad_x E needs no Z, which is why EBMs are sampled with Langevin dynamics. A smooth activation (SiLU) gives a smooth gradient field for the sampler.',
  },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [2] } }, params: { hidden: [8] } },
  exports: [{ kind: 'energy', port: 'fn', doc: 'E_theta(x) and the score -grad_x E_theta(x)' }],
  describe: () => ({ latent: { text: 'no latent variable: an unnormalised density exp(-E(x)) over data space', rank: 0 } }),
  infer(shapes) {
    const x = tensorShape(shapes, 'x');
    return { energy: { kind: 'Tensor', shape: [1] }, fn: { kind: 'Fn', in: x, out: [1], timeConditioned: false } };
  },
  build(ctx, p, shapes): { net: Mlp<any>; fn: FnValue<any> } {
    const x = (shapes.x as { shape: number[] }).shape;
    const net = buildMlp(ctx, flatSize(x), p.hidden, 1, p.activation);
    return { net, fn: { kind: 'Fn', owner: ctx.nodeId, in: x, out: [1], timeConditioned: false, call: (v) => net(v) } };
  },
  staticOutputs: ['fn'],
  apply: (_ctx, { inputs, built }) => ({ energy: built.net(inputs.x), fn: built.fn }),
});
