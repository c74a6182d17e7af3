import { z } from 'zod';
import { defineNode, emaOf } from '../core/defineNode';
import type { Ops } from '../core/ops';
import type { PortShape } from '../core/ports';
import { SAMPLES_OUT } from '../core/samplerShapes';
import { runStepper } from '../core/stepper';
import type { FnValue, ScheduleValue } from '../core/values';
import { uniformStart } from '../ebm/langevin';
import { scoreAt } from './scoreNetwork';
import { levels, scoreFn } from './scoreShapes';
import { perRow, sigmasOf } from './sigmas';

/**
 * Langevin dynamics driven by a learned score (Song & Ermon 2019, sec. 2.2; seed 002, sec. 5.5):
 *   x_t = x_{t-1} + (alpha / 2) s_theta(x_{t-1}, sigma) + sqrt(alpha) z_t,   z_t ~ N(0, I)
 * exact for p_sigma as alpha -> 0 and t -> infinity. The score is the network's output
 * itself (no gradient is taken, unlike an energy model's -grad_x E).
 * Optional final denoising step (Song & Ermon 2020, "Improved techniques", appendix; Tweedie's formula):
 *   x <- x + sigma^2 s_theta(x, sigma) = E[x_clean | x]  at the last level sigma.
 */
function langevinStep<T>(ops: Ops<T>, f: FnValue<T>, x: T, sigmaRow: T | undefined, halfAlpha: T, sqrtAlpha: T): T {
  const drift = ops.mul(scoreAt(f, x, sigmaRow), halfAlpha);
  return ops.add(ops.add(x, drift), ops.mul(ops.randomNormalLike(x), sqrtAlpha));
}

function denoise<T>(ops: Ops<T>, f: FnValue<T>, x: T, sigma: number): T {
  return ops.add(x, ops.mul(scoreAt(f, x, perRow(ops, x, sigma)), ops.scalar(sigma * sigma)));
}

const emaField = {
  /** sample with an exponential moving average of the network's weights (decay per step; 0 = the weights as trained; Song & Ermon 2020, technique 5) */
  ema: z.number().min(0).lt(1).default(0),
};

const startFields = {
  /** x_0: uniform in [-b, b]^d (Song & Ermon 2019) or N(0, b^2 I) */
  start: z.enum(['uniform', 'normal']).default('uniform'),
  /** b: the half-width (uniform) or standard deviation (normal) of the start */
  startScale: z.number().positive().max(1e4).default(4),
};

function start<T>(ops: Ops<T>, batch: number, event: number[], p: { start: 'uniform' | 'normal'; startScale: number }): T {
  if (p.start === 'uniform') return uniformStart(ops, batch, event, p.startScale);
  return ops.mul(ops.randomNormal([batch, ...event]), ops.scalar(p.startScale));
}



function out(shapes: Record<string, PortShape | undefined>, conditioned: boolean): { samples: PortShape } {
  const f = scoreFn(shapes, 'score', { conditioned });
  return { samples: { kind: 'Tensor', shape: f.out } };
}

export const scoreLangevin = defineNode({
  type: 'sampler.scoreLangevin',
  version: 1,
  title: 'Langevin dynamics (score)',
  category: 'sampler',
  role: 'sampler',
  inputs: { score: { type: { kind: 'Fn' }, doc: 's_theta(x) or s_theta(x, sigma)' } },
  outputs: SAMPLES_OUT,
  params: z.object({
    /** T: Langevin steps (one score evaluation each) */
    steps: z.number().int().min(1).max(100000).default(1000),
    /** alpha: the step size */
    stepSize: z.number().positive().max(100).default(1e-3),
    /** sigma: the level a noise-conditional network is evaluated at, and of the final denoising step */
    sigma: z.number().positive().max(1e4).default(0.05),
    /** finish with x + sigma^2 s(x, sigma) (Song & Ermon 2020) */
    denoise: z.boolean().default(false),
    ...startFields,
    ...emaField,
  }),
  math: {
    latex: 'x_t = x_{t-1} + \\frac{\\alpha}{2}\\, s_\\theta(x_{t-1}, \\sigma) + \\sqrt{\\alpha}\\, z_t,\\quad z_t \\sim \\mathcal{N}(0, I),\\quad t = 1..T,\\quad x_0 \\sim \\mathcal{U}[-b, b]^d\\ \\text{or}\\ \\mathcal{N}(0, b^2 I)',
    explain:
      'Langevin dynamics with a learned score: each step follows the score uphill towards high density and adds Gaussian noise, so that, for small steps and many of them, the chain samples the distribution whose score it follows. At one small noise level it is slow to cross low-density regions, where the score was hardly trained, and it gets the relative weights of separated modes wrong: annealing over noise levels fixes both.',
  },
  ui: { steps: { units: 'steps' }, stepSize: { units: 'alpha' }, startScale: { advanced: true }, start: { advanced: true }, ema: { advanced: true } },
  fixture: { inputs: { score: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' } }, params: { steps: 3, stepSize: 0.1, sigma: 0.5, denoise: true } },
  describe: (p) => ({
    sampler: { calls: p.steps + (p.denoise ? 1 : 0), text: `stochastic: ${p.steps} Langevin steps at sigma = ${p.sigma} (one score evaluation each)${p.denoise ? ' and a denoising step' : ''}` },
  }),
  infer: (shapes) => out(shapes, false),
  build: (ctx, p, _shapes, statics): { fn: FnValue<any> | undefined } => ({ fn: p.ema > 0 ? emaOf(ctx, 'score', p.ema, statics.score) : undefined }),
  apply(ctx, { inputs, params: p, built }) {
    const { ops } = ctx;
    const f: FnValue<any> = built.fn ?? inputs.score;
    const half = ops.scalar(p.stepSize / 2);
    const root = ops.scalar(Math.sqrt(p.stepSize));
    let samples = runStepper(ops, {
      steps: p.steps,
      init: () => [start(ops, ctx.batchSize, f.in, p)],
      step: (_i, [x]) => [langevinStep(ops, f, x!, f.timeConditioned ? perRow(ops, x!, p.sigma) : undefined, half, root)],
    });
    if (p.denoise) samples = denoise(ops, f, samples, p.sigma);
    return { samples };
  },
});

/**
 * Annealed Langevin dynamics (Song & Ermon 2019, algorithm 1):
 *   for i = 1..L:  alpha_i = eps sigma_i^2 / sigma_L^2
 *     for t = 1..T:  x_t = x_{t-1} + (alpha_i / 2) s_theta(x_{t-1}, sigma_i) + sqrt(alpha_i) z_t
 *     x_0 <- x_T  (the next level starts where this one ended)
 * alpha_i proportional to sigma_i^2 keeps the signal-to-noise ratio of a step the same at
 * every level (sec. 4). Two nested loops, levels outside and steps inside: one ONNX
 * model with a Loop inside a Loop. L T score evaluations (+ 1 with the final denoising step).
 */
export const annealedScoreLangevin = defineNode({
  type: 'sampler.annealedScoreLangevin',
  version: 1,
  title: 'Annealed Langevin dynamics (NCSN)',
  category: 'sampler',
  role: 'sampler',
  inputs: {
    score: { type: { kind: 'Fn' }, doc: 's_theta(x, sigma)' },
    sigmas: { type: { kind: 'Schedule' }, doc: 'the noise levels used in training' },
  },
  outputs: SAMPLES_OUT,
  params: z.object({
    /** T: Langevin steps per noise level */
    steps: z.number().int().min(1).max(100000).default(100),
    /** eps: the step size at the last level (alpha_L = eps) */
    stepSize: z.number().positive().max(100).default(2e-5),
    /** finish with x + sigma_L^2 s(x, sigma_L) (Song & Ermon 2020) */
    denoise: z.boolean().default(false),
    ...startFields,
    ...emaField,
  }),
  math: {
    latex:
      'x_t = x_{t-1} + \\frac{\\alpha_i}{2}\\, s_\\theta(x_{t-1}, \\sigma_i) + \\sqrt{\\alpha_i}\\, z_t,\\quad \\alpha_i = \\epsilon\\,\\frac{\\sigma_i^2}{\\sigma_L^2},\\quad t = 1..T,\\ i = 1..L\\quad\\text{(Song \\& Ermon 2019, alg. 1)}',
    explain:
      'Langevin dynamics over falling noise levels: at the largest sigma the perturbed data is one smooth blob, its score is well learned everywhere and chains mix quickly; each level starts from where the previous one ended and refines the samples at a smaller noise, down to sigma_L, where p_sigma is the data. The step size shrinks with sigma^2 so every level takes steps of the same relative size. With the final denoising step the last bit of noise sigma_L is removed by one step along the score (Tweedie\'s formula).',
  },
  ui: { steps: { units: 'steps / level' }, stepSize: { units: 'eps' }, startScale: { advanced: true }, start: { advanced: true }, ema: { advanced: true } },
  fixture: {
    inputs: { score: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, sigmas: { kind: 'Schedule', T: 3 } },
    params: { steps: 2, stepSize: 0.01, denoise: true, start: 'normal' },
  },
  describe: (p, shapes) => {
    const L = shapes.sigmas?.kind === 'Schedule' ? shapes.sigmas.T : undefined;
    const calls = L === undefined ? undefined : L * p.steps + (p.denoise ? 1 : 0);
    return { sampler: { calls, text: `stochastic: annealed Langevin, ${L ?? 'L'} levels x ${p.steps} steps (one score evaluation each)${p.denoise ? ' and a denoising step' : ''}` } };
  },
  infer(shapes) {
    levels(shapes, 'sigmas', 'the sampler walks the levels used in training');
    return out(shapes, true);
  },
  build(ctx, p, _shapes, statics): { L: number; sigmaL: number; sigma: any; half: any; root: any; fn: FnValue<any> | undefined } | undefined {
    const s = statics.sigmas as ScheduleValue | undefined;
    if (!s) return undefined;
    const { ops } = ctx;
    const sig = sigmasOf(s);
    const L = sig.length;
    const sigmaL = sig[L - 1]!;
    const eps = p.stepSize;
    const alpha = sig.map((v) => (eps * v * v) / (sigmaL * sigmaL));
    const fn = p.ema > 0 ? emaOf(ctx, 'score', p.ema, statics.score) : undefined;
    return { L, sigmaL, sigma: ops.constant(sig, [L]), half: ops.constant(alpha.map((a) => a / 2), [L]), root: ops.constant(alpha.map(Math.sqrt), [L]), fn };
  },
  apply(ctx, { inputs, params: p, built }) {
    const { ops } = ctx;
    if (!built) throw new Error(`${ctx.nodeId}: the noise levels must be known before sampling`);
    const f: FnValue<any> = built.fn ?? inputs.score;
    let samples = runStepper(ops, {
      steps: built.L,
      init: () => [start(ops, ctx.batchSize, f.in, p)],
      step: (i, [x0]) => {
        const sigmaRow = perRow(ops, x0!, ops.gather(built.sigma, i));
        const half = ops.gather(built.half, i);
        const root = ops.gather(built.root, i);
        const x = runStepper(ops, { steps: p.steps, init: () => [x0!], step: (_t, [y]) => [langevinStep(ops, f, y!, sigmaRow, half, root)] });
        return [x];
      },
    });
    if (p.denoise) samples = denoise(ops, f, samples, built.sigmaL);
    return { samples };
  },
});
