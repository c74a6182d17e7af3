import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { cosineSchedule as make } from './schedules';

export const cosineSchedule = defineNode({
  type: 'schedule.cosine',
  version: 1,
  title: 'Cosine noise schedule',
  category: 'schedule',
  role: 'none',
  inputs: {},
  outputs: { schedule: { type: { kind: 'Schedule' }, doc: 'beta_t, alpha-bar_t for t = 1..T' } },
  params: z.object({
    T: z.number().int().min(1).max(10000).default(1000),
    s: z.number().min(0).max(1).default(0.008),
  }),
  math: {
    latex: '\\bar\\alpha_t = \\frac{f(t)}{f(0)},\\ f(t) = \\cos^2\\!\\Big(\\frac{t/T + s}{1 + s}\\cdot\\frac{\\pi}{2}\\Big),\\quad \\beta_t = \\min\\big(1 - \\tfrac{\\bar\\alpha_t}{\\bar\\alpha_{t-1}}, 0.999\\big)',
    explain:
      'The improved-DDPM schedule: alpha-bar falls like a squared cosine, destroying information more evenly over time than the linear schedule, which wastes its last steps on near-pure noise.',
  },
  ui: { T: { units: 'steps' } },
  fixture: { inputs: {}, params: { T: 10 } },
  describe: () => ({ latent: { text: 'latents are noised copies x_1..x_T of the data, same dimension, fixed forward process', rank: 1 } }),
  infer: (_s, p) => ({ schedule: { kind: 'Schedule', T: p.T } }),
  build: (_ctx, p) => ({ schedule: make(p.T, p.s) }),
  staticOutputs: ['schedule'],
  apply: (_ctx, { built }) => ({ schedule: built.schedule }),
});
