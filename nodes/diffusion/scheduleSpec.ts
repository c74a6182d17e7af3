/** What every discrete noise-schedule node declares alike (T steps in, a Schedule out). */
import type { PortShape } from '../core/ports';

export const SCHEDULE_SPEC = {
  ui: { T: { units: 'steps' } },
  fixture: { inputs: {}, params: { T: 10 } },
  describe: () => ({ latent: { text: 'latents are noised copies x_1..x_T of the data, same dimension, fixed forward process', rank: 1 } }),
  infer: (_s: unknown, p: { T: number }): { schedule: PortShape } => ({ schedule: { kind: 'Schedule', T: p.T } }),
} as const;
