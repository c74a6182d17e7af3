import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { linearSchedule as make } from './schedules';
import { SCHEDULE_SPEC } from './scheduleSpec';

export const linearSchedule = defineNode({
  type: 'schedule.linear',
  version: 1,
  title: 'Linear noise schedule',
  category: 'schedule',
  role: 'none',
  inputs: {},
  outputs: { schedule: { type: { kind: 'Schedule' }, doc: 'beta_t, alpha-bar_t for t = 1..T' } },
  params: z.object({
    T: z.number().int().min(1).max(10000).default(1000),
    betaStart: z.number().positive().max(1).default(1e-4),
    betaEnd: z.number().positive().max(1).default(0.02),
  }),
  math: {
    latex: '\\beta_t = \\beta_1 + \\tfrac{t-1}{T-1}(\\beta_T - \\beta_1),\\quad \\bar\\alpha_t = \\textstyle\\prod_{s=1}^{t}(1-\\beta_s)',
    explain:
      'The DDPM schedule: noise variances grow linearly from 1e-4 to 0.02 over T = 1000 steps, so that alpha-bar_T is about 4e-5 and x_T is almost pure noise.',
  },
  ...SCHEDULE_SPEC,
  build: (_ctx, p) => ({ schedule: make(p.T, p.betaStart, p.betaEnd) }),
  staticOutputs: ['schedule'],
  apply: (_ctx, { built }) => ({ schedule: built.schedule }),
});
