/**
 * Noise schedules (Ho et al. 2020; Nichol and Dhariwal 2021; docs/REFERENCE.md "Diffusion constants").
 *   alpha_t = 1 - beta_t,  alpha-bar_t = prod_{s <= t} alpha_s,  t = 1..T
 * Linear (Ho et al. 2020, sec. 4): beta_t evenly spaced from beta_1 to beta_T.
 * Cosine (Nichol & Dhariwal 2021, eq. 17): alpha-bar_t = f(t)/f(0), f(u) = cos((u/T + s)/(1 + s) * pi/2)^2,
 *   beta_t = min(1 - alpha-bar_t / alpha-bar_{t-1}, 0.999)
 */
import type { ScheduleValue } from '../core/values';

function fromBetas(name: string, betas: Float64Array): ScheduleValue {
  const T = betas.length;
  const alphas = new Float64Array(T);
  const alphaBars = new Float64Array(T);
  let prod = 1;
  for (let i = 0; i < T; i++) {
    alphas[i] = 1 - betas[i]!;
    prod *= alphas[i]!;
    alphaBars[i] = prod;
  }
  return { kind: 'Schedule', name, T, betas, alphas, alphaBars };
}

export function linearSchedule(T: number, betaStart: number, betaEnd: number): ScheduleValue {
  const betas = new Float64Array(T);
  for (let i = 0; i < T; i++) betas[i] = T === 1 ? betaStart : betaStart + ((betaEnd - betaStart) * i) / (T - 1);
  return fromBetas('linear', betas);
}

export function cosineSchedule(T: number, s: number, maxBeta = 0.999): ScheduleValue {
  const f = (u: number) => Math.cos(((u + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  const betas = new Float64Array(T);
  for (let t = 1; t <= T; t++) betas[t - 1] = Math.min(1 - f(t / T) / f((t - 1) / T), maxBeta);
  return fromBetas('cosine', betas);
}

/** alpha-bar_{t-1} with alpha-bar_0 = 1, for t = 1..T (index t-1) */
export function alphaBarPrev(s: ScheduleValue, i: number): number {
  return i === 0 ? 1 : s.alphaBars[i - 1]!;
}

/** the "fixed small" posterior variance beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t */
export function posteriorVariance(s: ScheduleValue, i: number): number {
  return ((1 - alphaBarPrev(s, i)) / (1 - s.alphaBars[i]!)) * s.betas[i]!;
}
