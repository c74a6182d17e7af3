import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { tensorShape } from '../core/objective';
import type { ScheduleValue } from '../core/values';
import { rowZeros } from '../core/values';
import { coefColumns, SDE_IN, sdeFrom, sdeShape } from './shared';
import type { Sde } from './sdes';

/**
 * The perturbation kernel of the SDE in closed form (Song et al. 2021, eq. 29; eq. 7 draws
 * from it for training):
 *   t ~ U[tEps, 1],  epsilon ~ N(0, I),  x(t) = m(t) x(0) + s(t) epsilon
 * so training samples x(t) without simulating the SDE. The time output is continuous.
 */
export const sdePerturb = defineNode({
  type: 'sde.perturb',
  version: 1,
  title: 'SDE perturbation p_0t(x(t) | x(0))',
  category: 'diffusion',
  role: 'none',
  inputs: {
    x0: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'clean data x(0)' },
    sde: SDE_IN,
  },
  outputs: {
    xt: { type: { kind: 'Tensor' }, doc: 'the perturbed data x(t)' },
    t: { type: { kind: 'Tensor', semantic: 'time' }, doc: 'continuous time t ~ U[tEps, 1]' },
    eps: { type: { kind: 'Tensor', semantic: 'noise' }, doc: 'the noise epsilon of x(t) = m(t) x(0) + s(t) epsilon' },
  },
  params: z.object({}),
  math: {
    latex: 'x(t) = m(t)\\,x(0) + s(t)\\,\\epsilon,\\quad \\epsilon \\sim \\mathcal{N}(0, I),\\quad t \\sim \\mathcal{U}[t_\\epsilon, 1]\\quad (p_{0t}\\ \\text{of eq. 29})',
    explain:
      'Every SDE here is linear in x, so its transition from the data to time t is Gaussian in closed form: a shrunk copy of the data plus scaled noise. Training draws a random time, jumps straight to x(t), and teaches the network the noise (or the score) of that one perturbation: the continuous-time version of DDPM\'s forward process.',
  },
  fixture: { inputs: { x0: { kind: 'Tensor', shape: [2] }, sde: { kind: 'Schedule', T: 10 } } },
  infer(shapes) {
    const x = tensorShape(shapes, 'x0');
    sdeShape(shapes);
    return { xt: { kind: 'Tensor', shape: x }, t: { kind: 'Tensor', shape: [] }, eps: { kind: 'Tensor', shape: x } };
  },
  build: (ctx, _p, _shapes, statics): { sde: Sde } => ({ sde: sdeFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined) }),
  apply(ctx, { inputs, built, shapes }) {
    const { ops } = ctx;
    const x0 = inputs.x0;
    const event = (shapes.x0 as { shape: number[] }).shape;
    const flat = event.length === 1 ? x0 : ops.reshape(x0, [-1, event.reduce((a, b) => a * b, 1)]);
    const tEps = built.sde.tEps;
    const t = ops.add(ops.mul(ops.randomUniformLike(rowZeros(ops, flat)), ops.scalar(1 - tEps)), ops.scalar(tEps));
    const eps = ops.randomNormalLike(x0);
    const c = coefColumns(ops, built.sde, t, event);
    return { xt: ops.add(ops.mul(c.m, x0), ops.mul(c.s, eps)), t, eps };
  },
});
