import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { geometricSigmas, sigmaSchedule } from './sigmas';

/**
 * The geometric noise levels of NCSN (Song & Ermon 2019, sec. 4.1):
 *   sigma_i = sigma_max (sigma_min / sigma_max)^((i - 1) / (L - 1)),  i = 1..L,
 * so sigma_1 / sigma_2 = ... = sigma_{L-1} / sigma_L. sigma_1 should be about the largest
 * pairwise distance of the data (Song & Ermon 2020, technique 1: then the perturbed data
 * at sigma_1 is one blob and Langevin chains mix); sigma_L small enough that p_{sigma_L}
 * is the data. Stored on the Schedule port as alpha-bar = 1 / (1 + sigma^2) (sigmas.ts).
 */
export const geometricSigma = defineNode({
  type: 'schedule.geometricSigma',
  version: 1,
  title: 'Geometric noise levels (NCSN)',
  category: 'schedule',
  role: 'none',
  inputs: {},
  outputs: { schedule: { type: { kind: 'Schedule' }, doc: 'the noise levels sigma_1 > ... > sigma_L' } },
  params: z.object({
    /** sigma_1: the largest level (about the data's largest pairwise distance) */
    sigmaMax: z.number().positive().max(1e4).default(5),
    /** sigma_L: the smallest level (well below the data's own noise) */
    sigmaMin: z.number().positive().max(1e4).default(0.01),
    /** L: the number of levels */
    L: z.number().int().min(1).max(10000).default(10),
  }),
  math: {
    latex: '\\sigma_i = \\sigma_{\\max}\\Big(\\frac{\\sigma_{\\min}}{\\sigma_{\\max}}\\Big)^{\\frac{i-1}{L-1}},\\quad i = 1..L,\\qquad \\sigma_1 > \\sigma_2 > \\cdots > \\sigma_L',
    explain:
      'The noise levels of a noise-conditional score network: a geometric sequence from sigma_max, large enough that the noised data is one smooth blob with a score defined everywhere, down to sigma_min, small enough that the noised data is the data. Training learns the score at every level; annealed Langevin dynamics walks the levels from the largest to the smallest. The same levels expressed as alpha-bar = 1 / (1 + sigma^2) are a DDPM schedule: variance exploding and variance preserving noising differ only by a scale.',
  },
  ui: { L: { units: 'levels' } },
  fixture: { inputs: {}, params: { L: 4, sigmaMax: 2, sigmaMin: 0.1 } },
  describe: () => ({ latent: { text: 'no latent variable: noise levels perturb the data, the model is a score field over data space', rank: 0 } }),
  infer(_shapes, p) {
    if (p.sigmaMin > p.sigmaMax) throw new InferError('schedule', `sigmaMin (${p.sigmaMin}) must not exceed sigmaMax (${p.sigmaMax})`, 'bad-input');
    if (p.L === 1 && p.sigmaMin !== p.sigmaMax) throw new InferError('schedule', `one level (L = 1) is sigmaMax; set sigmaMin = sigmaMax (${p.sigmaMax}) or L > 1`, 'bad-input');
    return { schedule: { kind: 'Schedule', T: p.L } };
  },
  build: (_ctx, p) => ({ schedule: sigmaSchedule(geometricSigmas(p.sigmaMax, p.sigmaMin, p.L)) }),
  staticOutputs: ['schedule'],
  apply: (_ctx, { built }) => ({ schedule: built.schedule }),
});
