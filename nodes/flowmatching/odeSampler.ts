import { z } from 'zod';
import { defineNode, emaOf } from '../core/defineNode';
import { SAMPLES_OUT, samplerFn } from '../core/samplerShapes';
import type { FnValue } from '../core/values';
import { CALLS_PER_STEP, integrate, SOLVERS, timeTable } from './ode';
import { ODE_LATENT } from './paths';

/**
 * The ODE sampler of a flow-matching model: integrates
 *   dx/dt = v_theta(x, t) from x(0) ~ N(0, I) at t = 0 to the data at t = 1
 * with a fixed-step Euler, Heun or RK4 solver; one ONNX Loop in export. With `ema` > 0 it
 * integrates the field of the network's EMA weights (the usual practice for flow matching
 * and diffusion: the last iterate of Adam wanders, the average does not).
 */
export const odeSampler = defineNode({
  type: 'sampler.ode',
  version: 1,
  title: 'ODE sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: { velocity: { type: { kind: 'Fn' }, doc: 'the velocity field v_theta(x, t), t in [0, 1]' } },
  outputs: SAMPLES_OUT,
  params: z.object({
    solver: z.enum(SOLVERS).default('euler'),
    steps: z.number().int().min(1).max(10000).default(100),
    /** integrate an exponential moving average of the network's weights (decay per step; 0 = the weights as trained) */
    ema: z.number().min(0).lt(1).default(0),
  }),
  math: {
    latex:
      '\\frac{d\\mathbf{x}(t)}{dt} = f_\\theta(\\mathbf{x}(t), t),\\quad \\mathbf{x}(0) \\sim \\mathcal{N}(0, I):\\qquad \\mathbf{x}_{k+1} = \\mathbf{x}_k + h\\, f_\\theta(\\mathbf{x}_k, t_k)\\ \\text{(Euler)},\\ h = 1/K',
    explain:
      'Sampling from a continuous normalising flow: start from noise at t = 0 and follow the learned velocity field to t = 1. Euler takes one network call per step; Heun (an Euler step corrected by the velocity at its end point) takes two and RK4 four, but each is far more accurate per step, so straighter fields (flow matching, OT coupling) need only a few steps.',
  },
  fixture: { inputs: { velocity: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' } }, params: { steps: 4, solver: 'heun' } },
  ui: { steps: { units: 'steps' }, ema: { advanced: true } },
  describe: (p) => {
    const calls = p.steps * CALLS_PER_STEP[p.solver];
    const name = { euler: 'Euler', heun: 'Heun', rk4: 'RK4' }[p.solver];
    return { latent: ODE_LATENT, sampler: { calls, text: `${p.steps} ${name} steps from t = 0 to 1 (${CALLS_PER_STEP[p.solver]} velocity call${p.solver === 'euler' ? '' : 's'} each)` } };
  },
  infer(shapes) {
    const f = samplerFn(shapes, 'velocity', { timed: true, square: true, time: 'continuous' });
    return { samples: { kind: 'Tensor', shape: f.out } };
  },
  build(ctx, p, _shapes, statics): { times: any; fn: FnValue<any> | undefined } {
    return { times: timeTable(ctx.ops, 0, 1, p.steps), fn: p.ema > 0 ? emaOf(ctx, 'velocity', p.ema, statics.velocity) : undefined };
  },
  apply(ctx, { inputs, params, built }) {
    const { ops } = ctx;
    const f: FnValue<any> = built.fn ?? inputs.velocity;
    const [x1] = integrate(ops, {
      solver: params.solver,
      steps: params.steps,
      t0: 0,
      t1: 1,
      times: built.times,
      init: [ops.randomNormal([ctx.batchSize, ...f.in])],
      f: (t, [x]) => [f.call(x!, t)],
    });
    return { samples: x1! };
  },
});
