import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { cosineSchedule as make } from './schedules';
import { SCHEDULE_SPEC } from './scheduleSpec';

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
  ...SCHEDULE_SPEC,
  build: (_ctx, p) => ({ schedule: make(p.T, p.s) }),
  staticOutputs: ['schedule'],
  apply: (_ctx, { built }) => ({ schedule: built.schedule }),
});
