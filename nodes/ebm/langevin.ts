/**
 * Langevin dynamics on an energy ("EBM (2)": the Euler-Maruyama step of
 * dx/dt = -grad_x E(x) + sqrt(2) eta(t) with grad log p = -grad E):
 *   x_{k+1} = x_k - (eps / 2) grad_x E(x_k) + s sqrt(eps) z_k,   z_k ~ N(0, I)
 * s = 1 is the Langevin sampler of p = exp(-E) (exact as eps -> 0). A noise scale s != 1
 * samples exp(-E / s^2), the density at temperature s^2: EBM training practice often uses
 * s < 1 for sharper, faster chains; the annealed sampler lowers s level by level.
 * Chains are kept in the box [-b, b]^d where `box` > 0 (a clip after every step).
 * grad_x E is ops.grad of sum_rows E(x): each row's energy depends on its own row only.
 */
import type { Ops } from '../core/ops';
import type { FnValue } from '../core/values';
import { z } from 'zod';

export const langevinFields = {
  /** eps: the step size (a time step of the Langevin SDE) */
  stepSize: z.number().positive().max(10).default(0.01),
  /** s: the noise multiplier; 1 = Langevin dynamics of exp(-E) */
  noiseScale: z.number().min(0).max(10).default(1),
  /** b: chains start uniform in [-b, b]^d and are clipped to that box (0 = no clip) */
  box: z.number().min(0).max(1000).default(4),
};

/** one Langevin step with noise multiplier `s` (a tensor scalar or a number) */
export function langevinStep<T>(ops: Ops<T>, energy: FnValue<T>, x: T, eps: number, s: T | number, box: number): T {
  const g = ops.grad((v: T) => energy.call(v), x);
  const noise = ops.mul(ops.randomNormalLike(x), typeof s === 'number' ? ops.scalar(s * Math.sqrt(eps)) : ops.mul(s, ops.scalar(Math.sqrt(eps))));
  const next = ops.add(ops.sub(x, ops.mul(g, ops.scalar(eps / 2))), noise);
  return box > 0 ? ops.clip(next, -box, box) : next;
}

/** rows uniform in [-b, b]^d (b = 0: standard normal), one per batch row */
export function uniformStart<T>(ops: Ops<T>, batch: number, event: number[], box: number): T {
  const z0 = ops.randomNormal([batch, ...event]);
  if (box <= 0) return z0;
  return ops.mul(ops.sub(ops.mul(ops.randomUniformLike(z0), ops.scalar(2)), ops.scalar(1)), ops.scalar(box));
}
