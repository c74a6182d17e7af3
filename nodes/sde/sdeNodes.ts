/**
 * The three SDEs of Song et al. 2021 as nodes (see sdes.ts for the equations): each outputs
 * a Schedule that carries the continuous SDE (for the SDE nodes) and its discrete view on N
 * steps (so DDPM nodes can be fed from it too).
 */
import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import type { PortShape } from '../core/ports';
import { cosineClipTime, sdeSchedule, veSde, vpSde } from './sdes';

const SDE_OUT = { sde: { type: { kind: 'Schedule' }, doc: 'the SDE: drift f(t), diffusion g(t), kernel p_0t(x(t) | x(0)) = N(m(t) x(0), s(t)^2 I)' } } as const;

const commonFields = {
  /** steps of the discrete view (DDPM nodes, and the T the compare view shows) */
  N: z.number().int().min(1).max(100000).default(1000),
};

const LATENT = { text: 'latents are noised copies x(t), t in [0, 1], of the data, same dimension: a fixed forward SDE', rank: 1 } as const;

const infer = (_s: unknown, p: { N: number }): { sde: PortShape } => ({ sde: { kind: 'Schedule', T: p.N } });

export const vpSdeNode = defineNode({
  type: 'sde.vp',
  version: 1,
  title: 'VP SDE',
  category: 'schedule',
  role: 'none',
  inputs: {},
  outputs: SDE_OUT,
  params: z.object({
    /** beta(t): linear (DDPM's schedule in continuous time) or cosine (improved DDPM) */
    beta: z.enum(['linear', 'cosine']).default('linear'),
    betaMin: z.number().min(0).max(1000).default(0.1),
    betaMax: z.number().positive().max(1000).default(20),
    /** cosine offset s */
    s: z.number().min(0).max(1).default(0.008),
    /** cosine: beta(t) is clipped here near t = 1, where the tangent diverges */
    betaClip: z.number().positive().max(1e5).default(100),
    /** the smallest time (samplers stop there, the likelihood starts there) */
    tEps: z.number().positive().max(0.1).default(1e-3),
    ...commonFields,
  }),
  math: {
    latex:
      'dx = -\\tfrac{1}{2}\\beta(t)\\,x\\,dt + \\sqrt{\\beta(t)}\\,dw\\ \\text{(eq. 11)},\\quad p_{0t}(x(t) \\mid x(0)) = \\mathcal{N}\\big(x(0)\\,e^{-\\frac{1}{2}\\int_0^t \\beta},\\ (1 - e^{-\\int_0^t \\beta}) I\\big)\\ \\text{(eq. 29)},\\quad \\beta(t) = \\beta_{\\min} + t(\\beta_{\\max} - \\beta_{\\min})',
    explain:
      'The variance-preserving SDE: the continuous-time limit of DDPM. Data decays towards zero while noise is added at rate beta(t), keeping the variance near one; at t = 1 the state is almost exactly N(0, I). The linear beta(t) from 0.1 to 20 is DDPM\'s 1000-step linear schedule (beta_i = beta(i/N)/N); the cosine one is improved DDPM\'s, clipped near t = 1. The perturbation kernel is Gaussian in closed form, so training never simulates the SDE.',
  },
  ui: {
    betaMin: { showWhen: { beta: ['linear'] } },
    betaMax: { showWhen: { beta: ['linear'] } },
    s: { showWhen: { beta: ['cosine'] } },
    betaClip: { advanced: true, showWhen: { beta: ['cosine'] } },
    tEps: { advanced: true },
    N: { advanced: true, units: 'steps' },
  },
  fixture: { inputs: {}, params: { N: 10 } },
  describe: () => ({ latent: LATENT }),
  infer(s, p) {
    if (p.beta === 'linear' && p.betaMin > p.betaMax) throw new InferError('sde', `betaMin (${p.betaMin}) must not exceed betaMax (${p.betaMax})`, 'bad-input');
    if (p.beta === 'cosine' && cosineClipTime(p) <= p.tEps) throw new InferError('sde', `betaClip ${p.betaClip} clips the whole cosine schedule`, 'bad-input');
    return infer(s, p);
  },
  build: (_ctx, p) => ({
    sde: sdeSchedule(vpSde(p.beta === 'linear' ? { kind: 'linear', betaMin: p.betaMin, betaMax: p.betaMax } : { kind: 'cosine', s: p.s, betaClip: p.betaClip }, p.tEps), p.N, `vp-${p.beta}`),
  }),
  staticOutputs: ['sde'],
  apply: (_ctx, { built }) => ({ sde: built.sde }),
});

export const subVpSdeNode = defineNode({
  type: 'sde.subVp',
  version: 1,
  title: 'sub-VP SDE',
  category: 'schedule',
  role: 'none',
  inputs: {},
  outputs: SDE_OUT,
  params: z.object({
    betaMin: z.number().min(0).max(1000).default(0.1),
    betaMax: z.number().positive().max(1000).default(20),
    tEps: z.number().positive().max(0.1).default(1e-3),
    ...commonFields,
  }),
  math: {
    latex:
      'dx = -\\tfrac{1}{2}\\beta(t)\\,x\\,dt + \\sqrt{\\beta(t)\\big(1 - e^{-2\\int_0^t \\beta}\\big)}\\,dw\\ \\text{(eq. 12)},\\quad p_{0t} = \\mathcal{N}\\big(x(0)\\,e^{-\\frac{1}{2}\\int_0^t \\beta},\\ (1 - e^{-\\int_0^t \\beta})^2 I\\big)\\ \\text{(eq. 29)}',
    explain:
      'The sub-VP SDE: the same drift as the VP SDE with less noise, so that the variance of x(t) always stays below that of the VP process (its noise standard deviation is the VP variance). Song et al. found it gives better likelihoods, since the noise is smaller at small t where the score is hardest to learn.',
  },
  ui: { tEps: { advanced: true }, N: { advanced: true, units: 'steps' } },
  fixture: { inputs: {}, params: { N: 10 } },
  describe: () => ({ latent: LATENT }),
  infer(s, p) {
    if (p.betaMin > p.betaMax) throw new InferError('sde', `betaMin (${p.betaMin}) must not exceed betaMax (${p.betaMax})`, 'bad-input');
    return infer(s, p);
  },
  build: (_ctx, p) => ({ sde: sdeSchedule(vpSde({ kind: 'linear', betaMin: p.betaMin, betaMax: p.betaMax }, p.tEps, true), p.N, 'subvp-linear') }),
  staticOutputs: ['sde'],
  apply: (_ctx, { built }) => ({ sde: built.sde }),
});

export const veSdeNode = defineNode({
  type: 'sde.ve',
  version: 1,
  title: 'VE SDE',
  category: 'schedule',
  role: 'none',
  inputs: {},
  outputs: SDE_OUT,
  params: z.object({
    sigmaMin: z.number().positive().max(1e4).default(0.01),
    /** about the largest distance between two data points (Song & Ermon 2020, technique 1) */
    sigmaMax: z.number().positive().max(1e4).default(10),
    tEps: z.number().positive().max(0.1).default(1e-5),
    ...commonFields,
  }),
  math: {
    latex:
      'dx = \\sqrt{\\tfrac{d[\\sigma^2(t)]}{dt}}\\,dw\\ \\text{(eq. 9)},\\quad \\sigma(t) = \\sigma_{\\min}\\Big(\\frac{\\sigma_{\\max}}{\\sigma_{\\min}}\\Big)^t,\\quad p_{0t}(x(t) \\mid x(0)) = \\mathcal{N}\\big(x(0), \\sigma(t)^2 I\\big)\\ \\text{(eq. 29)}',
    explain:
      'The variance-exploding SDE: the continuous limit of the noise levels of a noise-conditional score network (NCSN). There is no drift; noise is only added, so the variance grows from sigma_min^2 to sigma_max^2, and the prior at t = 1 is N(0, sigma_max^2 I). sigma_max should be about the largest distance between two data points, so that the prior covers the data.',
  },
  ui: { tEps: { advanced: true }, N: { advanced: true, units: 'steps' } },
  fixture: { inputs: {}, params: { N: 10 } },
  describe: () => ({ latent: LATENT }),
  infer(s, p) {
    if (p.sigmaMin >= p.sigmaMax) throw new InferError('sde', `sigmaMin (${p.sigmaMin}) must be below sigmaMax (${p.sigmaMax})`, 'bad-input');
    return infer(s, p);
  },
  build: (_ctx, p) => ({ sde: sdeSchedule(veSde(p.sigmaMin, p.sigmaMax, p.tEps), p.N, 've') }),
  staticOutputs: ['sde'],
  apply: (_ctx, { built }) => ({ sde: built.sde }),
});
