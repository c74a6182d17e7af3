import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { rowZeros, type FnValue, type ScheduleValue } from '../core/values';
import { posteriorVariance } from './schedules';
import { SAMPLES_OUT, samplerFn } from '../core/samplerShapes';
import { runStepper } from '../core/stepper';

/**
 * DDPM ancestral sampling (Ho et al. 2020, algorithm 2):
 *   x_T ~ N(0, I);  for t = T..1:  x_{t-1} = 1/sqrt(alpha_t) (x_t - beta_t / sqrt(1 - abar_t) eps_theta(x_t, t)) + sigma_t z
 * sigma_t^2 = beta~_t ("small", the posterior variance) or beta_t ("large"); no noise at t = 1.
 * Loop iteration i runs t = T - i; tables are indexed by i so the loop body is one gather each.
 */
export const ddpmSampler = defineNode({
  type: 'sampler.ddpm',
  version: 1,
  title: 'DDPM ancestral sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: {
    denoiser: { type: { kind: 'Fn' }, doc: 'eps_theta(x_t, t)' },
    schedule: { type: { kind: 'Schedule' }, doc: 'the schedule used in training' },
  },
  outputs: SAMPLES_OUT,
  params: z.object({ variance: z.enum(['small', 'large']).default('small') }),
  math: {
    latex:
      'x_{t-1} = \\frac{1}{\\sqrt{\\alpha_t}}\\Big(x_t - \\frac{\\beta_t}{\\sqrt{1-\\bar\\alpha_t}}\\,\\epsilon_\\theta(x_t, t)\\Big) + \\sigma_t z,\\quad z \\sim \\mathcal{N}(0, I)',
    explain:
      'Runs the learned reverse process from pure noise, one step per training time step (T network calls). Each step removes the predicted noise and adds a little fresh noise, following the Gaussian posterior q(x_{t-1} | x_t, x_0).',
  },
  fixture: { inputs: { denoiser: { kind: 'Fn', in: [3], out: [3], timeConditioned: true }, schedule: { kind: 'Schedule', T: 10 } } },
  describe: (_p, shapes) => {
    const T = shapes.schedule?.kind === 'Schedule' ? shapes.schedule.T : undefined;
    return { sampler: { calls: T, text: `${T ?? 'T'} denoising steps (one network call each)` } };
  },
  infer(shapes) {
    const f = samplerFn(shapes, 'denoiser', { timed: true, square: true, time: 'discrete' });
    if (shapes.schedule?.kind !== 'Schedule') throw new InferError('schedule', 'connect the noise schedule used in training', 'bad-input');
    return { samples: { kind: 'Tensor', shape: f.out } };
  },
  build(ctx, p, _shapes, statics): (Record<'t' | 'a' | 'b' | 'sigma', any> & { n: number }) | undefined {
    const s = statics.schedule as ScheduleValue | undefined;
    if (!s) return undefined;
    const { ops } = ctx;
    const n = s.T;
    const tIdx = new Float32Array(n);
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    const sig = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const k = n - 1 - i; // 0-based index of t = T - i
      tIdx[i] = k;
      a[i] = 1 / Math.sqrt(s.alphas[k]!);
      b[i] = s.betas[k]! / Math.sqrt(1 - s.alphaBars[k]!);
      sig[i] = k === 0 ? 0 : Math.sqrt(p.variance === 'small' ? posteriorVariance(s, k) : s.betas[k]!);
    }
    const c = (v: Float32Array) => ops.constant(v, [n]);
    return { n, t: c(tIdx), a: c(a), b: c(b), sigma: c(sig) };
  },
  apply(ctx, { inputs, built }) {
    const { ops } = ctx;
    if (!built) throw new Error(`${ctx.nodeId}: the schedule must be known before sampling`);
    const f: FnValue<any> = inputs.denoiser;
    const samples = runStepper(ops, {
      steps: built.n,
      init: () => [ops.randomNormal([ctx.batchSize, ...f.in])],
      step: (i, [x]) => {
        const t = ops.add(rowZeros(ops, x!), ops.gather(built.t, i));
        const eps = f.call(x!, t);
        const mean = ops.mul(ops.sub(x!, ops.mul(eps, ops.gather(built.b, i))), ops.gather(built.a, i));
        return [ops.add(mean, ops.mul(ops.randomNormalLike(x!), ops.gather(built.sigma, i)))];
      },
    });
    return { samples };
  },
});
