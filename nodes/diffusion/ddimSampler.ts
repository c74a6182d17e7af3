import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { rowZeros, type FnValue, type ScheduleValue } from '../core/values';
import { SAMPLES_OUT, samplerFn } from '../core/samplerShapes';

/**
 * DDIM (Song et al. 2021, eq. 12 with sigma from eq. 16), on a sub-sequence tau of S steps:
 *   x0^ = (x_t - sqrt(1 - abar_t) eps^) / sqrt(abar_t)
 *   x_{prev} = sqrt(abar_prev) x0^ + sqrt(1 - abar_prev - sigma^2) eps^ + sigma z
 *   sigma = eta sqrt((1 - abar_prev)/(1 - abar_t)) sqrt(1 - abar_t/abar_prev);  eta = 0: deterministic
 */
export const ddimSampler = defineNode({
  type: 'sampler.ddim',
  version: 1,
  title: 'DDIM sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: {
    denoiser: { type: { kind: 'Fn' }, doc: 'eps_theta(x_t, t)' },
    schedule: { type: { kind: 'Schedule' }, doc: 'the schedule used in training' },
  },
  outputs: SAMPLES_OUT,
  params: z.object({
    steps: z.number().int().min(1).max(10000).default(50),
    eta: z.number().min(0).max(1).default(0),
    /**
     * which S of the T steps are visited: 'leading' tau_j = floor(j T / S) (the DDIM paper's
     * code: 0, 20, ..., 980 for S = 50) or 'trailing' tau_j = round((j + 1) T / S) - 1
     * (19, 39, ..., 999: starts from the last step, where x_T really is pure noise).
     * 'auto' (the default) picks by schedule: trailing for the cosine schedule, whose
     * leading start tau = 980 still has alpha-bar 8.8e-4 (x_T ~ N(0, I) there biases the
     * mean of the samples by -0.029 m s for data N(m, s^2), S = 50: test/ddim.test.ts), and
     * leading otherwise (linear: both start near pure noise, alpha-bar 5.9e-5 / 4.0e-5, and
     * leading's last step, from alpha-bar 0.9999 rather than 0.994, shrinks the variance less)
     */
    spacing: z.enum(['auto', 'leading', 'trailing']).default('auto'),
  }),
  math: {
    latex:
      'x_{t\\prime} = \\sqrt{\\bar\\alpha_{t\\prime}}\\,\\hat x_0 + \\sqrt{1-\\bar\\alpha_{t\\prime}-\\sigma_t^2}\\;\\epsilon_\\theta(x_t, t) + \\sigma_t z,\\quad \\hat x_0 = \\frac{x_t - \\sqrt{1-\\bar\\alpha_t}\\,\\epsilon_\\theta(x_t,t)}{\\sqrt{\\bar\\alpha_t}}',
    explain:
      'A non-Markovian sampler for the same trained noise predictor: it jumps along a short sub-sequence of time steps (50 instead of 1000). With eta = 0 it is deterministic, an ODE-like map from noise to data; eta = 1 recovers DDPM-like stochasticity.',
  },
  fixture: { inputs: { denoiser: { kind: 'Fn', in: [3], out: [3], timeConditioned: true }, schedule: { kind: 'Schedule', T: 10 } }, params: { steps: 5, eta: 0.5 } },
  describe: (p, shapes) => {
    const T = shapes.schedule?.kind === 'Schedule' ? shapes.schedule.T : undefined;
    const calls = T !== undefined ? Math.min(p.steps, T) : p.steps;
    return { sampler: { calls, text: `${calls} DDIM steps on a sub-sequence of the ${T ?? 'T'} training steps` } };
  },
  infer(shapes, p) {
    const f = samplerFn(shapes, 'denoiser', { timed: true, square: true, time: 'discrete' });
    const s = shapes.schedule;
    if (s?.kind !== 'Schedule') throw new InferError('schedule', 'connect the noise schedule used in training', 'bad-input');
    if (p.steps > s.T) throw new InferError('schedule', `DDIM takes ${p.steps} steps but the schedule has only T = ${s.T}`, 'bad-input');
    return { samples: { kind: 'Tensor', shape: f.out } };
  },
  build(ctx, p, _shapes, statics): (Record<'t' | 'inv' | 's1m' | 'prev' | 'dir' | 'sig', any> & { n: number; stochastic: boolean }) | undefined {
    const s = statics.schedule as ScheduleValue | undefined;
    if (!s) return undefined;
    const { ops } = ctx;
    const S = Math.min(p.steps, s.T);
    // tau_j, j = 0..S-1 (0-based step indices), visited from the end
    const spacing = ddimSpacing(p.spacing, s);
    const tau = Array.from({ length: S }, (_, j) => (spacing === 'leading' ? Math.floor((j * s.T) / S) : Math.round(((j + 1) * s.T) / S) - 1));
    const cols = { t: new Float32Array(S), inv: new Float32Array(S), s1m: new Float32Array(S), prev: new Float32Array(S), dir: new Float32Array(S), sig: new Float32Array(S) };
    for (let i = 0; i < S; i++) {
      const j = S - 1 - i;
      const k = tau[j]!;
      const ab = s.alphaBars[k]!;
      const abPrev = j === 0 ? 1 : s.alphaBars[tau[j - 1]!]!;
      const sigma = p.eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);
      cols.t[i] = k;
      cols.inv[i] = 1 / Math.sqrt(ab);
      cols.s1m[i] = Math.sqrt(1 - ab);
      cols.prev[i] = Math.sqrt(abPrev);
      cols.dir[i] = Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma));
      cols.sig[i] = sigma;
    }
    const c = (v: Float32Array) => ops.constant(v, [S]);
    return { n: S, t: c(cols.t), inv: c(cols.inv), s1m: c(cols.s1m), prev: c(cols.prev), dir: c(cols.dir), sig: c(cols.sig), stochastic: p.eta > 0 };
  },
  apply(ctx, { inputs, built }) {
    const { ops } = ctx;
    if (!built) throw new Error(`${ctx.nodeId}: the schedule must be known before sampling`);
    const f: FnValue<any> = inputs.denoiser;
    const xT = ops.randomNormal([ctx.batchSize, ...f.in]);
    const g = (tab: any, i: any) => ops.gather(tab, i);
    const [x0] = ops.loop(built.n, [xT], (i, [x]) => {
      const t = ops.add(rowZeros(ops, x), g(built.t, i));
      const eps = f.call(x, t);
      const x0hat = ops.mul(ops.sub(x, ops.mul(eps, g(built.s1m, i))), g(built.inv, i));
      let next = ops.add(ops.mul(x0hat, g(built.prev, i)), ops.mul(eps, g(built.dir, i)));
      if (built.stochastic) next = ops.add(next, ops.mul(ops.randomNormalLike(x), g(built.sig, i)));
      return [next];
    });
    return { samples: x0 };
  },
});

/** the spacing DDIM uses on a schedule: 'auto' is trailing for the cosine schedule, leading otherwise */
export function ddimSpacing(spacing: 'auto' | 'leading' | 'trailing', schedule: ScheduleValue): 'leading' | 'trailing' {
  if (spacing !== 'auto') return spacing;
  return schedule.name === 'cosine' ? 'trailing' : 'leading';
}
