/**
 * Sampling a consistency model (Algorithm 1):
 *   x_T ~ N(0, T^2 I),  x <- f_theta(x_T, T)                           (one step)
 *   for n = 1..N-1:  z ~ N(0, I),  x^_{tau_n} = x + sqrt(tau_n^2 - eps^2) z,  x <- f_theta(x^_{tau_n}, tau_n)
 * with T > tau_1 > ... > tau_{N-1} > eps (multistep: alternate denoising and re-noising).
 * The prior N(0, T^2 I) neglects the data's own variance (T >> sigma_data).
 */
import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { SAMPLES_OUT, samplerFn } from '../core/samplerShapes';
import { runStepper } from '../core/stepper';
import type { FnValue, ScheduleValue } from '../core/values';
import { atRow, axisFrom, axisShape, CM_SDE_IN, uAt, type CmAxis } from './cm';

const F_IN = { type: { kind: 'Fn' }, doc: 'the consistency function f_theta(x, u) (or its EMA target)' } as const;
const LATENT = { text: 'noise x_T ~ N(0, T^2 I) mapped to data by the consistency function (no encoder)', rank: 2 } as const;
const fShape = (shapes: Record<string, any>) => samplerFn(shapes, 'f', { timed: true, square: true, time: 'continuous' });

function prior<T>(ctx: { ops: import('../core/ops').Ops<T>; batchSize: number }, a: CmAxis, event: number[]): T {
  return ctx.ops.mul(ctx.ops.randomNormal([ctx.batchSize, ...event]), ctx.ops.scalar(a.T));
}

export const oneStepSampler = defineNode({
  type: 'sampler.consistencyOneStep',
  version: 1,
  title: 'Consistency sampler (one step)',
  category: 'sampler',
  role: 'sampler',
  inputs: { f: F_IN, sde: CM_SDE_IN },
  outputs: SAMPLES_OUT,
  params: z.object({}),
  math: {
    latex: 'x_T \\sim \\mathcal{N}(0, T^2 I),\\qquad x = f_\\theta(x_T, T)\\ \\text{(Algorithm 1, one step)}',
    explain:
      'A consistency model generates in one network evaluation: draw noise at the largest noise level T and map it to the end of its probability-flow trajectory. Diffusion samplers integrate that trajectory in tens to thousands of steps; the consistency function has learned the whole integral.',
  },
  fixture: { inputs: { f: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, sde: { kind: 'Schedule', T: 10 } } },
  describe: () => ({ latent: LATENT, sampler: { calls: 1, text: 'deterministic given the noise: one evaluation of the consistency function at T' } }),
  infer(shapes) {
    const f = fShape(shapes);
    axisShape(shapes);
    return { samples: { kind: 'Tensor', shape: f.out } };
  },
  build: (ctx, _p, _s, statics): { axis: CmAxis } => ({ axis: axisFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined) }),
  apply(ctx, { inputs, built }) {
    const { ops } = ctx;
    const f: FnValue<any> = inputs.f;
    const xT = prior(ctx, built.axis, f.in);
    return { samples: f.call(xT, atRow(ops, xT, ops.scalar(1))) };
  },
});

export const multistepSampler = defineNode({
  type: 'sampler.consistencyMultistep',
  version: 1,
  title: 'Consistency sampler (multistep)',
  category: 'sampler',
  role: 'sampler',
  inputs: { f: F_IN, sde: CM_SDE_IN },
  outputs: SAMPLES_OUT,
  params: z.object({
    /** tau_1 > tau_2 > ...: the noise levels to re-noise to after the first step (in (eps, T)) */
    times: z.array(z.number().positive()).min(1).max(64).default([0.8]),
  }),
  math: {
    latex:
      'x \\leftarrow f_\\theta(x_T, T);\\quad \\text{for } n = 1, \\dots, N - 1:\\ \\ \\hat x_{\\tau_n} = x + \\sqrt{\\tau_n^2 - \\epsilon^2}\\, z,\\ \\ x \\leftarrow f_\\theta(\\hat x_{\\tau_n}, \\tau_n)\\ \\text{(Algorithm 1)}',
    explain:
      'Multistep consistency sampling trades a few more evaluations for quality: after the one-step sample, noise is added back to a smaller level tau_1 and the consistency function denoises again, and so on down the listed levels. Each round starts from a point closer to the data, where the model is more accurate.',
  },
  ui: { times: { units: 'noise levels' } },
  fixture: { inputs: { f: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, sde: { kind: 'Schedule', T: 10 } }, params: { times: [0.2, 0.05] } },
  describe: (p) => ({ latent: LATENT, sampler: { calls: 1 + p.times.length, text: `stochastic: ${1 + p.times.length} evaluations of the consistency function, re-noised to ${p.times.join(', ')} between them` } }),
  infer(shapes, p) {
    const f = fShape(shapes);
    axisShape(shapes);
    for (let i = 1; i < p.times.length; i++) if (!(p.times[i]! < p.times[i - 1]!)) throw new InferError('f', `the noise levels ${p.times.join(', ')} must decrease`, 'bad-input');
    return { samples: { kind: 'Tensor', shape: f.out } };
  },
  build(ctx, p, _s, statics): { axis: CmAxis; u: any; noise: any } {
    const axis = axisFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined);
    for (const tau of p.times) if (!(tau > axis.eps && tau < axis.T)) throw new InferError('f', `noise level ${tau} is outside (eps, T) = (${axis.eps}, ${axis.T})`, 'bad-input');
    const { ops } = ctx;
    return {
      axis,
      u: ops.constant(Float32Array.from(p.times, (tau) => uAt(axis, tau)), [p.times.length]),
      noise: ops.constant(Float32Array.from(p.times, (tau) => Math.sqrt(tau * tau - axis.eps * axis.eps)), [p.times.length]),
    };
  },
  apply(ctx, { inputs, params, built }) {
    const { ops } = ctx;
    const f: FnValue<any> = inputs.f;
    const samples = runStepper(ops, {
      steps: params.times.length,
      init: () => {
        const xT = prior(ctx, built.axis, f.in);
        return [f.call(xT, atRow(ops, xT, ops.scalar(1)))];
      },
      step: (i, [x]) => {
        const xh = ops.add(x!, ops.mul(ops.randomNormalLike(x!), ops.gather(built.noise, i)));
        return [f.call(xh, atRow(ops, xh, ops.gather(built.u, i)))];
      },
    });
    return { samples };
  },
});
