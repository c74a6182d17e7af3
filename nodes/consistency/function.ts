import { z } from 'zod';
import { defineNode, emaOf, InferError } from '../core/defineNode';
import type { FnValue, ScheduleValue } from '../core/values';
import { axisFrom, axisShape, CM_SDE_IN, consistencyFn, type CmAxis } from './cm';

/** zod field shared by the consistency nodes that evaluate f_theta */
export const sigmaDataField = z.number().positive().max(1e4).default(0.5);

/**
 * The consistency function (eq. 5, Appendix C):
 *   f_theta(x, t) = c_skip(t) x + c_out(t) F_theta(c_in(t) x, t),  f_theta(x, eps) = x exactly,
 * and its target network f_{theta^-} = sg[f over EMA weights] (eq. 8:
 * theta^- <- sg(mu theta^- + (1 - mu) theta), after every optimiser step of the loss that
 * trains F_theta; mu = 0: theta^- = sg(theta), as in improved consistency training).
 * Both outputs take u in [0, 1] on the noise axis of `sde` (see cm.ts).
 */
export const consistencyFunction = defineNode({
  type: 'consistency.function',
  version: 1,
  title: 'Consistency function f_theta(x, t)',
  category: 'network',
  role: 'none',
  inputs: {
    net: { type: { kind: 'Fn' }, doc: 'the free-form network F_theta(x, u), continuous time' },
    sde: CM_SDE_IN,
  },
  outputs: {
    fn: { type: { kind: 'Fn' }, doc: 'f_theta(x, u): the consistency function, trained' },
    target: { type: { kind: 'Fn' }, doc: 'f_{theta^-}(x, u): the EMA target network, under stop-gradient' },
  },
  params: z.object({
    /** sigma_data: the data's standard deviation (c_skip, c_out, c_in) */
    sigmaData: sigmaDataField,
    /** mu: the EMA decay of the target network theta^- (0: theta^- = sg(theta)) */
    mu: z.number().min(0).lt(1).default(0.95),
  }),
  math: {
    latex:
      'f_\\theta(x, t) = c_{\\text{skip}}(t)\\,x + c_{\\text{out}}(t)\\,F_\\theta(c_{\\text{in}}(t)\\,x, t)\\ \\text{(eq. 5)},\\quad c_{\\text{skip}}(t) = \\frac{\\sigma_d^2}{(t - \\epsilon)^2 + \\sigma_d^2},\\ c_{\\text{out}}(t) = \\frac{\\sigma_d (t - \\epsilon)}{\\sqrt{\\sigma_d^2 + t^2}};\\quad \\theta^- \\leftarrow \\operatorname{sg}(\\mu\\theta^- + (1 - \\mu)\\theta)\\ \\text{(eq. 8)}',
    explain:
      'A consistency model maps any noisy point x_t on a probability-flow trajectory straight to the trajectory\'s clean end. Writing it as a skip connection plus a scaled network output, with c_skip(eps) = 1 and c_out(eps) = 0, makes it the identity at the smallest noise level: the boundary condition f(x, eps) = x holds exactly for any weights. The second output is the target network: the same function over an exponential moving average of the weights, behind a stop-gradient, which the consistency loss regresses onto.',
  },
  ui: { mu: { advanced: true } },
  fixture: { inputs: { net: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, sde: { kind: 'Schedule', T: 10 } } },
  infer(shapes) {
    const f = shapes.net;
    if (!f) throw new InferError('net', 'connect a network to "net"', 'bad-input');
    if (f.kind !== 'Fn') throw new InferError('net', '"net" must be a network function', 'bad-input');
    if (!f.timeConditioned || (f.time ?? 'discrete') !== 'continuous') throw new InferError('net', 'the network on "net" must take a continuous time t in [0, 1]: connect a time input and set its time domain to continuous', 'bad-input');
    if (f.in.length !== f.out.length || f.in.some((d, i) => d !== f.out[i])) throw new InferError('net', `the network on "net" maps [B, ${f.in.join(', ')}] to [B, ${f.out.join(', ')}]; a consistency function needs the same shape in and out`);
    axisShape(shapes);
    const fn = { kind: 'Fn', in: f.in, out: f.out, timeConditioned: true, time: 'continuous' } as const;
    return { fn, target: fn };
  },
  build(ctx, p, _shapes, statics): { axis: CmAxis; fn?: FnValue<any>; target?: FnValue<any> } {
    const axis = axisFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined);
    const online = statics.net as FnValue<any> | undefined;
    if (!online) return { axis };
    const shadow = p.mu > 0 ? emaOf(ctx, 'net', p.mu, online) : online;
    return { axis, fn: consistencyFn(ctx.ops, online, axis, p.sigmaData), target: consistencyFn(ctx.ops, shadow, axis, p.sigmaData, true) };
  },
  staticOutputs: ['fn', 'target'],
  apply(ctx, { inputs, params, built }) {
    return {
      fn: built.fn ?? consistencyFn(ctx.ops, inputs.net, built.axis, params.sigmaData),
      target: built.target ?? consistencyFn(ctx.ops, inputs.net, built.axis, params.sigmaData, true),
    };
  },
});
