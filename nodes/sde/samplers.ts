/**
 * Samplers of the reverse-time SDE and of the probability-flow ODE (Song et al. 2021).
 *
 * Reverse-time SDE (eq. 6; Anderson 1982), run from t = 1 down to tEps:
 *   dx = [f(x, t) - g(t)^2 grad_x log p_t(x)] dt + g(t) dw-bar
 * Euler-Maruyama with h = (1 - tEps) / N:
 *   x <- x - h (f x - g^2 s_theta(x, t)) + g sqrt(h) z
 * Reverse diffusion (Appendix E): discretise the forward SDE first, x_{i+1} = a_i x_i + G_i z, and
 * reverse that: x_i = (2 - a_i) x_{i+1} + G_i^2 s_theta(x_{i+1}, t_{i+1}) + G_i z, with the exact
 * kernel between the grid times, a_i = m(t_{i+1}) / m(t_i), G_i^2 = s(t_{i+1})^2 - a_i^2 s(t_i)^2
 * (VE: a = 1, G^2 = sigma_{i+1}^2 - sigma_i^2, Algorithm 2; VP: a = sqrt(1 - beta_{i+1}), Algorithm 3).
 * Predictor-corrector (Algorithms 2-3; corrector Algorithms 4-5): after each predictor step,
 * M Langevin steps at the new time with the signal-to-noise step size
 *   z ~ N(0, I),  g = s_theta(x, t_i),  e = 2 alpha_i (r ||z|| / ||g||)^2,  x <- x + e g + sqrt(2 e) z
 * alpha_i = a_i^2 (1 - beta_i for VP, 1 for VE); ||.|| is the batch mean of the per-sample norms
 * (as in the reference code; a per-sample ratio takes a huge step for a sample near a mode,
 * where s ~ 0), so the corrector's step couples the samples of a batch.
 * Probability-flow ODE (eq. 13): dx/dt = f(x, t) - 1/2 g(t)^2 s_theta(x, t), integrated from
 * x(1) ~ p_1 to tEps with the Euler, Heun or RK4 solver of flow matching (one ONNX Loop).
 * With `denoise` the last stochastic step adds no noise (the usual practice: its mean is returned).
 */
import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import type { Ops } from '../core/ops';
import { SAMPLES_OUT } from '../core/samplerShapes';
import { runStepper } from '../core/stepper';
import { sumEvent, type FnValue, type ScheduleValue } from '../core/values';
import { CALLS_PER_STEP, integrate, SOLVERS, timeTable } from '../flowmatching/ode';
import { coefAt, priorStd, type Sde } from './sdes';
import { coefColumns, SCORE_IN, scoreShape, SDE_IN, sdeFrom, sdeShape, table, timeGrid } from './shared';

export const SDE_LATENT = { text: 'noise x(1) ~ p_1 carried to data by the reverse-time SDE (no encoder)', rank: 2 } as const;

const PREDICTORS = ['eulerMaruyama', 'reverseDiffusion'] as const;
type Predictor = (typeof PREDICTORS)[number];

/** x <- A x + Bc s + Cn z per step: the tables of a predictor on the grid, walked from t = 1 */
function predictorTables(sde: Sde, N: number, kind: Predictor, denoise: boolean) {
  const { h, hi, lo } = timeGrid(sde.tEps, N);
  const A: number[] = [];
  const Bc: number[] = [];
  const Cn: number[] = [];
  const alpha: number[] = [];
  for (let i = 0; i < N; i++) {
    const c = coefAt(sde, hi[i]!);
    const d = coefAt(sde, lo[i]!);
    const a = c.m / d.m;
    alpha.push(a * a);
    if (kind === 'eulerMaruyama') {
      A.push(1 - h * c.f);
      Bc.push(h * c.g2);
      Cn.push(Math.sqrt(c.g2 * h));
    } else {
      const G2 = Math.max(0, c.s * c.s - a * a * d.s * d.s);
      A.push(2 - a);
      Bc.push(G2);
      Cn.push(Math.sqrt(G2));
    }
  }
  if (denoise) Cn[N - 1] = 0;
  return { hi, lo, A, Bc, Cn, alpha };
}

function prior<T>(ops: Ops<T>, sde: Sde, rows: number, event: number[]): T {
  return ops.mul(ops.randomNormal([rows, ...event]), ops.scalar(priorStd(sde)));
}

/** the scalar v on every row of x, as [B] */
const atRow = <T>(ops: Ops<T>, x: T, v: T) => ops.add(ops.mul(sumEvent(ops, x), ops.scalar(0)), v);

export const reverseSdeSampler = defineNode({
  type: 'sampler.reverseSde',
  version: 1,
  title: 'Reverse-time SDE (Euler-Maruyama)',
  category: 'sampler',
  role: 'sampler',
  inputs: { score: SCORE_IN, sde: SDE_IN },
  outputs: SAMPLES_OUT,
  params: z.object({
    /** N: Euler-Maruyama steps from t = 1 to tEps (one score evaluation each) */
    steps: z.number().int().min(1).max(100000).default(1000),
    /** no noise in the last step (return its mean) */
    denoise: z.boolean().default(true),
  }),
  math: {
    latex:
      'dx = \\big[f(x, t) - g(t)^2\\,\\nabla_x \\log p_t(x)\\big]dt + g(t)\\,d\\bar w\\ \\text{(eq. 6)}:\\quad x \\leftarrow x - h\\big(f(x, t) - g(t)^2 s_\\theta(x, t)\\big) + g(t)\\sqrt{h}\\,z',
    explain:
      'Any diffusion run backwards in time is again a diffusion, whose drift needs only the score of the noised data (Anderson 1982). Plugging in the learned score and stepping from the prior at t = 1 down to t = 0 with the simplest SDE solver, Euler-Maruyama, gives samples: each step follows the score, undoes the forward drift, and adds fresh noise. With 1000 steps on the VP SDE it is close to DDPM\'s ancestral sampler.',
  },
  ui: { steps: { units: 'steps' }, denoise: { advanced: true } },
  fixture: { inputs: { score: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, sde: { kind: 'Schedule', T: 10 } }, params: { steps: 4 } },
  describe: (p) => ({ latent: SDE_LATENT, sampler: { calls: p.steps, text: `stochastic: ${p.steps} Euler-Maruyama steps of the reverse SDE (one score evaluation each)` } }),
  infer(shapes) {
    const f = scoreShape(shapes);
    sdeShape(shapes);
    return { samples: { kind: 'Tensor', shape: f.out } };
  },
  build(ctx, p, _shapes, statics): { sde: Sde; t: any; A: any; Bc: any; Cn: any } {
    const sde = sdeFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined);
    const tb = predictorTables(sde, p.steps, 'eulerMaruyama', p.denoise);
    const { ops } = ctx;
    return { sde, t: table(ops, tb.hi), A: table(ops, tb.A), Bc: table(ops, tb.Bc), Cn: table(ops, tb.Cn) };
  },
  apply(ctx, { inputs, params, built }) {
    const { ops } = ctx;
    const f: FnValue<any> = inputs.score;
    const g = (tab: any, i: any) => ops.gather(tab, i);
    const samples = runStepper(ops, {
      steps: params.steps,
      init: () => [prior(ops, built.sde, ctx.batchSize, f.in)],
      step: (i, [x]) => {
        const s = f.call(x!, atRow(ops, x!, g(built.t, i)));
        const next = ops.add(ops.add(ops.mul(x!, g(built.A, i)), ops.mul(s, g(built.Bc, i))), ops.mul(ops.randomNormalLike(x!), g(built.Cn, i)));
        return [next];
      },
    });
    return { samples };
  },
});

export const pcSampler = defineNode({
  type: 'sampler.predictorCorrector',
  version: 1,
  title: 'Predictor-corrector sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: { score: SCORE_IN, sde: SDE_IN },
  outputs: SAMPLES_OUT,
  params: z.object({
    /** N: predictor steps from t = 1 to tEps */
    steps: z.number().int().min(1).max(100000).default(1000),
    /** the predictor: reverse diffusion (Appendix E) or Euler-Maruyama */
    predictor: z.enum(PREDICTORS).default('reverseDiffusion'),
    /** M: Langevin corrector steps after each predictor step */
    correctorSteps: z.number().int().min(0).max(100).default(1),
    /** r: the signal-to-noise ratio of the corrector's step size (0.16 for VE in the paper) */
    snr: z.number().positive().max(10).default(0.16),
    denoise: z.boolean().default(true),
  }),
  math: {
    latex:
      'x_i = (2 - a_i)\\,x_{i+1} + G_i^2\\, s_\\theta(x_{i+1}, t_{i+1}) + G_i z;\\quad \\text{then } M\\times:\\ x_i \\leftarrow x_i + \\epsilon_i s_\\theta(x_i, t_i) + \\sqrt{2\\epsilon_i}\\,z,\\ \\ \\epsilon_i = 2\\alpha_i\\Big(\\frac{r\\,\\|z\\|}{\\|s_\\theta(x_i, t_i)\\|}\\Big)^2\\ \\text{(Alg. 2-5)}',
    explain:
      'Predictor-corrector sampling: a numerical SDE solver step (the predictor, here reverse diffusion, the exact forward kernel between two times run backwards) moves the samples to the next time, then a few steps of Langevin dynamics at that time (the corrector) pull them back towards the distribution p_t the score describes, correcting the solver\'s error. The corrector\'s step size is set by a target signal-to-noise ratio r between the score step and the noise.',
  },
  ui: { steps: { units: 'steps' }, correctorSteps: { units: 'per step' }, predictor: { advanced: true }, denoise: { advanced: true } },
  fixture: { inputs: { score: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, sde: { kind: 'Schedule', T: 10 } }, params: { steps: 3, correctorSteps: 2 } },
  describe: (p) => ({
    latent: SDE_LATENT,
    sampler: { calls: p.steps * (1 + p.correctorSteps), text: `stochastic: ${p.steps} predictor steps, each followed by ${p.correctorSteps} Langevin corrector step${p.correctorSteps === 1 ? '' : 's'} (snr ${p.snr})` },
  }),
  infer(shapes) {
    const f = scoreShape(shapes);
    sdeShape(shapes);
    return { samples: { kind: 'Tensor', shape: f.out } };
  },
  build(ctx, p, _shapes, statics): { sde: Sde; hi: any; lo: any; A: any; Bc: any; Cn: any; alpha2: any } {
    const sde = sdeFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined);
    const tb = predictorTables(sde, p.steps, p.predictor, p.denoise);
    const { ops } = ctx;
    return { sde, hi: table(ops, tb.hi), lo: table(ops, tb.lo), A: table(ops, tb.A), Bc: table(ops, tb.Bc), Cn: table(ops, tb.Cn), alpha2: table(ops, tb.alpha.map((a) => 2 * a * p.snr * p.snr)) };
  },
  apply(ctx, { inputs, params, built }) {
    const ops: Ops<any> = ctx.ops;
    const f: FnValue<any> = inputs.score;
    const g = (tab: any, i: any) => ops.gather(tab, i);
    // the batch mean of the per-sample norms (as the reference code: a per-sample ratio explodes for a sample near a mode, where ||s|| ~ 0)
    const meanNorm = (v: any) => ops.mean(ops.sqrt(sumEvent(ops, ops.square(v))));
    const samples = runStepper(ops, {
      steps: params.steps,
      init: () => [prior(ops, built.sde, ctx.batchSize, f.in)],
      step: (i, [x0]) => {
        let x: any = x0;
        const s = f.call(x, atRow(ops, x, g(built.hi, i)));
        x = ops.add(ops.add(ops.mul(x, g(built.A, i)), ops.mul(s, g(built.Bc, i))), ops.mul(ops.randomNormalLike(x), g(built.Cn, i)));
        const tLo = atRow(ops, x, g(built.lo, i));
        for (let j = 0; j < params.correctorSteps; j++) {
          const z = ops.randomNormalLike(x);
          const sc = f.call(x, tLo);
          // e = 2 alpha (r ||z|| / ||s||)^2
          const e = ops.mul(ops.square(ops.div(meanNorm(z), ops.add(meanNorm(sc), ops.scalar(1e-12)))), g(built.alpha2, i));
          x = ops.add(ops.add(x, ops.mul(sc, e)), ops.mul(z, ops.sqrt(ops.mul(e, ops.scalar(2)))));
        }
        return [x];
      },
    });
    return { samples };
  },
});

/** the probability-flow field F(x, t) = f(t) x - 1/2 g(t)^2 s_theta(x, t) (eq. 13) at per-row times t */
export function flowField<T>(ops: Ops<T>, sde: Sde, f: FnValue<T>, x: T, t: T): T {
  const c = coefColumns(ops, sde, t, f.in);
  return ops.sub(ops.mul(c.f, x), ops.mul(ops.mul(c.g2, ops.scalar(0.5)), f.call(x, t)));
}

export const probabilityFlowSampler = defineNode({
  type: 'sampler.probabilityFlow',
  version: 1,
  title: 'Probability-flow ODE sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: { score: SCORE_IN, sde: SDE_IN },
  outputs: SAMPLES_OUT,
  params: z.object({
    solver: z.enum(SOLVERS).default('heun'),
    steps: z.number().int().min(1).max(10000).default(50),
  }),
  math: {
    latex: '\\frac{dx}{dt} = f(x, t) - \\tfrac{1}{2}\\,g(t)^2\\,\\nabla_x \\log p_t(x)\\ \\text{(eq. 13)},\\quad x(1) \\sim p_1,\\ \\text{integrated from } t = 1 \\text{ to } t_\\epsilon',
    explain:
      'Every diffusion SDE has a deterministic twin, the probability-flow ODE, whose trajectories have the same marginal densities p_t at every time. Integrating it backwards from prior noise with the learned score samples the data without any injected noise, with far fewer steps than the SDE (Heun or RK4 here), and it turns the diffusion model into a continuous normalising flow with an exact likelihood.',
  },
  ui: { steps: { units: 'steps' } },
  fixture: { inputs: { score: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, sde: { kind: 'Schedule', T: 10 } }, params: { steps: 3 } },
  describe: (p) => {
    const name = { euler: 'Euler', heun: 'Heun', rk4: 'RK4' }[p.solver];
    return { latent: SDE_LATENT, sampler: { calls: p.steps * CALLS_PER_STEP[p.solver], text: `deterministic: ${p.steps} ${name} steps of the probability-flow ODE from t = 1 to 0` } };
  },
  infer(shapes) {
    const f = scoreShape(shapes);
    sdeShape(shapes);
    return { samples: { kind: 'Tensor', shape: f.out } };
  },
  build(ctx, p, _shapes, statics): { sde: Sde; times: any } {
    const sde = sdeFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined);
    return { sde, times: timeTable(ctx.ops, 1, sde.tEps, p.steps) };
  },
  apply(ctx, { inputs, params, built }) {
    const { ops } = ctx;
    const f: FnValue<any> = inputs.score;
    const [x] = integrate(ops, {
      solver: params.solver,
      steps: params.steps,
      t0: 1,
      t1: built.sde.tEps,
      times: built.times,
      init: [prior(ops, built.sde, ctx.batchSize, f.in)],
      f: (t, [y]) => [flowField(ops, built.sde, f, y!, t)],
    });
    return { samples: x! };
  },
});

export { prior as priorDraw };
