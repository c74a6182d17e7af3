import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { flatSize, tensorShape } from '../core/objective';
import { freeEnergy, hiddenProbs, type RbmFn } from './rbmOps';

/**
 * A Bernoulli-Bernoulli RBM (rbmOps.ts): visible units the data's pixels (in {0, 1}),
 * `hidden` binary hidden units. Its Fn is the free energy F(v) [B, 1]: -F(v) is the
 * unnormalised log density of v, so the RBM exports as an energy target (F and its score
 * -grad_v F over relaxed v in [0, 1]^D).
 */
export const rbmBernoulli = defineNode({
  type: 'rbm.bernoulli',
  version: 1,
  title: 'Restricted Boltzmann machine',
  category: 'network',
  role: 'network',
  inputs: { x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'binary data (fixes the number of visible units); F(v) is reported on it' } },
  outputs: {
    freeEnergy: { type: { kind: 'Tensor' }, doc: 'F(v) on the input, one scalar per row' },
    fn: { type: { kind: 'Fn' }, doc: 'the RBM: F(v) as a function, with W, b and c for Gibbs sampling' },
    hidden: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'p(h = 1 | x) on the input, no gradient: the data of the next RBM of a deep belief net' },
  },
  params: z.object({
    /** H: binary hidden units */
    hidden: z.number().int().min(1).max(8192).default(200),
    /** standard deviation of the initial weights */
    initStd: z.number().positive().max(1).default(0.01),
  }),
  math: {
    latex:
      'E(v, h) = -b^\\top v - c^\\top h - v^\\top W h,\\qquad F(v) = -b^\\top v - \\sum_j \\operatorname{softplus}\\big(c_j + (v^\\top W)_j\\big),\\qquad p(v) = \\frac{e^{-F(v)}}{Z}',
    explain:
      'A restricted Boltzmann machine couples binary visible units (the pixels) to binary hidden units through one weight matrix, with no connections inside a layer. Summing out the hidden units in closed form gives the free energy F(v): the model density is exp(-F(v)) / Z, with a partition function Z that sums over all 2^D images and is intractable. Given v the hidden units are independent (and vice versa), which makes block Gibbs sampling cheap.',
  },
  ui: { hidden: { units: 'units' }, initStd: { advanced: true } },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [6] } }, params: { hidden: 4 } },
  exports: [{ kind: 'energy', port: 'fn', doc: 'the free energy F(v) (-F is the unnormalised log density) and -grad_v F' }],
  describe: (p) => ({ latent: { text: `${p.hidden} binary hidden units, summed out in closed form (free energy)`, rank: 1 } }),
  infer(shapes, p) {
    const x = tensorShape(shapes, 'x');
    if (x.length !== 1) throw new InferError('x', `an RBM takes flat binary vectors [B, D], got [B, ${x.join(', ')}]`);
    return { freeEnergy: { kind: 'Tensor', shape: [1] }, fn: { kind: 'Fn', in: x, out: [1], timeConditioned: false }, hidden: { kind: 'Tensor', shape: [p.hidden] } };
  },
  build(ctx, p, shapes): { fn: RbmFn<any> } {
    const { ops } = ctx;
    const x = (shapes.x as { shape: number[] }).shape;
    const D = flatSize(x);
    const W = ctx.param('W', [D, p.hidden], { kind: 'normal', std: p.initStd });
    const b = ctx.param('b', [D], { kind: 'zeros' });
    const c = ctx.param('c', [p.hidden], { kind: 'zeros' });
    const fn: RbmFn<any> = {
      kind: 'Fn',
      owner: ctx.nodeId,
      in: x,
      out: [1],
      timeConditioned: false,
      visible: D,
      hidden: p.hidden,
      W,
      b,
      c,
      call: (v) => ops.reshape(freeEnergy(ops, fn, v), [-1, 1]),
    };
    return { fn };
  },
  staticOutputs: ['fn'],
  apply: (ctx, { inputs, built }) => ({
    freeEnergy: built.fn.call(inputs.x),
    fn: built.fn,
    hidden: ctx.ops.stopGradient(hiddenProbs(ctx.ops, built.fn, inputs.x)),
  }),
});
