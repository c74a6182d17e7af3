import { z } from 'zod';
import { defineNode, emaOf, InferError } from '../core/defineNode';
import type { FnValue, ScheduleValue } from '../core/values';
import { coefColumns, SDE_IN, sdeFrom, sdeShape } from './shared';
import type { Sde } from './sdes';

export const PARAMETERISATIONS = ['eps', 'score', 'x0'] as const;
export type Parameterisation = (typeof PARAMETERISATIONS)[number];

/**
 * One network, three readings (x(t) = m x(0) + s epsilon; Song et al. 2021, eq. 29 and the
 * DSM target of eq. 7; Tweedie's formula for x0):
 *   score = -epsilon / s,   epsilon = -s score,
 *   x0 = (x - s epsilon) / m,   epsilon = (x - m x0) / s.
 * The conversion goes through epsilon. A network in discrete time (DDPM's epsilon_theta(x, k),
 * k = 0..T-1 for t_k = (k + 1) / T) is called at k = T t - 1 (fractional k between steps; its
 * sinusoidal time features take any real k), so a DDPM-trained network drives the SDE
 * samplers. The output always takes continuous t in [0, 1], clamped to [tEps, 1] (the score is
 * not defined at s = 0). With `ema` > 0 it reads the network's EMA weights (the samplers
 * downstream then sample the averaged model).
 */
export const parameterisation = defineNode({
  type: 'sde.convert',
  version: 1,
  title: 'Parameterisation converter',
  category: 'network',
  role: 'none',
  inputs: {
    net: { type: { kind: 'Fn' }, doc: 'a time-conditioned network: epsilon_theta(x, t), s_theta(x, t) or x0_theta(x, t)' },
    sde: SDE_IN,
  },
  outputs: { fn: { type: { kind: 'Fn' }, doc: 'the same network read as the other parameterisation, t in [0, 1]' } },
  params: z.object({
    from: z.enum(PARAMETERISATIONS).default('eps'),
    to: z.enum(PARAMETERISATIONS).default('score'),
    /** read an exponential moving average of the network's weights (decay per step; 0 = the weights as trained) */
    ema: z.number().min(0).lt(1).default(0),
  }),
  math: {
    latex:
      's_\\theta(x, t) = -\\frac{\\epsilon_\\theta(x, t)}{s(t)},\\qquad \\hat x_0(x, t) = \\frac{x - s(t)\\,\\epsilon_\\theta(x, t)}{m(t)},\\qquad x(t) = m(t)\\,x(0) + s(t)\\,\\epsilon\\ \\ \\text{(eq. 29)}',
    explain:
      'A noise predictor, a score network and a clean-data predictor are the same model read three ways, because x(t) is a known mix of x(0) and the noise: the score of the noised data is minus the predicted noise divided by the noise scale, and the predicted clean point is what is left after removing the predicted noise. So a network trained by DDPM\'s epsilon regression drives the reverse SDE, the predictor-corrector sampler and the probability-flow ODE.',
  },
  ui: { ema: { advanced: true } },
  fixture: { inputs: { net: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, sde: { kind: 'Schedule', T: 10 } } },
  infer(shapes) {
    const f = shapes.net;
    if (!f) throw new InferError('net', 'connect a network to "net"', 'bad-input');
    if (f.kind !== 'Fn') throw new InferError('net', '"net" must be a network function', 'bad-input');
    if (!f.timeConditioned) throw new InferError('net', 'the network on "net" must take the time t: connect a time input to it', 'bad-input');
    if (f.in.length !== f.out.length || f.in.some((d, i) => d !== f.out[i])) throw new InferError('net', `the network on "net" maps [B, ${f.in.join(', ')}] to [B, ${f.out.join(', ')}]; a converter needs the same shape in and out`);
    sdeShape(shapes);
    return { fn: { kind: 'Fn', in: f.in, out: f.out, timeConditioned: true, time: 'continuous' } };
  },
  build(ctx, p, shapes, statics): { sde: Sde; T: number; fn: FnValue<any> | undefined } {
    const s = statics.sde as ScheduleValue | undefined;
    const sde = sdeFrom(ctx.nodeId, s);
    const online = statics.net as FnValue<any> | undefined;
    const net = online && p.ema > 0 ? emaOf(ctx, 'net', p.ema, online) : online;
    const fnShape = shapes.net as { in: number[]; time?: string };
    const fn = net ? convertFn(ctx.ops, net, sde, s!.T, p.from, p.to, fnShape.in) : undefined;
    return { sde, T: s!.T, fn };
  },
  staticOutputs: ['fn'],
  apply(ctx, { inputs, params, built, shapes }) {
    return { fn: built.fn ?? convertFn(ctx.ops, inputs.net, built.sde, built.T, params.from, params.to, (shapes.net as { in: number[] }).in) };
  },
});

export function convertFn<T>(ops: import('../core/ops').Ops<T>, net: FnValue<T>, sde: Sde, T: number, from: Parameterisation, to: Parameterisation, event: number[]): FnValue<T> {
  const discrete = (net.time ?? 'discrete') === 'discrete';
  const call = (x: T, tIn?: T): T => {
    if (tIn === undefined) throw new Error('the converted network needs the time t');
    const t = ops.clip(tIn, sde.tEps, 1);
    // DDPM's step index k = 0..T-1 stands for t = (k + 1) / T
    const y = net.call(x, discrete ? ops.clip(ops.sub(ops.mul(t, ops.scalar(T)), ops.scalar(1)), 0, T - 1) : t);
    if (from === to) return y;
    const c = coefColumns(ops, sde, t, event);
    const eps = from === 'eps' ? y : from === 'score' ? ops.neg(ops.mul(c.s, y)) : ops.div(ops.sub(x, ops.mul(c.m, y)), c.s);
    if (to === 'eps') return eps;
    if (to === 'score') return ops.neg(ops.div(eps, c.s));
    return ops.div(ops.sub(x, ops.mul(c.s, eps)), c.m);
  };
  return { kind: 'Fn', owner: net.owner, in: net.in, out: net.out, timeConditioned: true, time: 'continuous', call };
}
