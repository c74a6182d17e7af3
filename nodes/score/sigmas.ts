/**
 * Noise levels of noise-conditional score networks (Song & Ermon 2019, sec. 4.1):
 *   sigma_1 > sigma_2 > ... > sigma_L,  a geometric sequence sigma_i / sigma_{i+1} = const,
 *   sigma_i = sigma_max (sigma_min / sigma_max)^((i - 1) / (L - 1)),  i = 1..L.
 * The levels travel on a Schedule port. A Schedule carries alpha-bar_t for t = 1..T, and
 * the perturbation x~ = x + sigma z of NCSN is the DDPM perturbation
 * x_t = sqrt(alpha-bar_t) x + sqrt(1 - alpha-bar_t) z up to the scale sqrt(1 + sigma^2):
 *   x~ / sqrt(1 + sigma^2) = x_t  with  alpha-bar = 1 / (1 + sigma^2),  sigma^2 = (1 - alpha-bar) / alpha-bar
 * (the variance-exploding / variance-preserving correspondence; Song et al. 2021, sec. 3.4).
 * So the sigma schedule is stored as alpha-bar_t = 1 / (1 + sigma_{L+1-t}^2) (t = 1 is the
 * smallest level, as the smallest DDPM step), and every node here reads its sigmas back
 * with `sigmasOf`, from this schedule or from any DDPM schedule.
 */
import type { Ops } from '../core/ops';
import { sumEvent, type ScheduleValue } from '../core/values';

/** sigma_1 > ... > sigma_L, geometric from sigmaMax to sigmaMin (L = 1: sigmaMax) */
export function geometricSigmas(sigmaMax: number, sigmaMin: number, L: number): Float64Array {
  const s = new Float64Array(L);
  for (let i = 0; i < L; i++) s[i] = L === 1 ? sigmaMax : sigmaMax * Math.pow(sigmaMin / sigmaMax, i / (L - 1));
  return s;
}

/** the Schedule of noise levels sigma_1 > ... > sigma_L: alpha-bar_t = 1 / (1 + sigma_{L+1-t}^2), t = 1..L */
export function sigmaSchedule(sigmas: Float64Array, name = 'geometric-sigma'): ScheduleValue {
  const T = sigmas.length;
  const alphaBars = new Float64Array(T);
  const alphas = new Float64Array(T);
  const betas = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const sigma = sigmas[T - 1 - t]!;
    alphaBars[t] = 1 / (1 + sigma * sigma);
    alphas[t] = t === 0 ? alphaBars[t]! : alphaBars[t]! / alphaBars[t - 1]!;
    betas[t] = 1 - alphas[t]!;
  }
  return { kind: 'Schedule', name, T, betas, alphas, alphaBars };
}

/** the noise levels of a schedule, largest first: sigma_i = sqrt((1 - alpha-bar) / alpha-bar) at t = L + 1 - i */
export function sigmasOf(s: ScheduleValue): Float64Array {
  const out = new Float64Array(s.T);
  for (let i = 0; i < s.T; i++) {
    const ab = s.alphaBars[s.T - 1 - i]!;
    out[i] = Math.sqrt((1 - ab) / ab);
  }
  return out;
}

/** a [B] tensor, the number v on every row of x */
export function perRow<T>(ops: Ops<T>, x: T, v: T | number): T {
  const zeros = ops.mul(sumEvent(ops, x), ops.scalar(0));
  return ops.add(zeros, typeof v === 'number' ? ops.scalar(v) : v);
}

/** a [B] per-row value reshaped to [B, 1, ..., 1], broadcasting against x of `rank` */
export function asColumn<T>(ops: Ops<T>, v: T, rank: number): T {
  return ops.reshape(v, [-1, ...Array.from({ length: rank - 1 }, () => 1)]);
}

/** the noise levels as tables for a loss: sigma_i as a column [L, 1, ..., 1] (broadcast over a point of `rank`) and as a row [L] */
export interface LevelTables<T> {
  L: number;
  col: T;
  row: T;
}

/** the tables of the levels on a Schedule (undefined when the levels are not static) */
export function levelTables<T>(ops: Ops<T>, s: ScheduleValue | undefined, rank: number): LevelTables<T> | undefined {
  if (!s) return undefined;
  const sig = sigmasOf(s);
  return { L: s.T, col: ops.constant(sig, [s.T, ...Array.from({ length: rank }, () => 1)]), row: ops.constant(sig, [s.T]) };
}

/** one level i ~ U{1..L} per row and x~ = x + sigma_i z: sigma as a column [B, 1, ...], as a row [B], and x~ */
export function perturbAtRandomLevel<T>(ops: Ops<T>, t: LevelTables<T>, x: T): { sigma: T; sigmaRow: T; xt: T } {
  const i = ops.randomIntLike(x, t.L);
  const sigma = ops.gather(t.col, i);
  const sigmaRow = ops.gather(t.row, i);
  return { sigma, sigmaRow, xt: ops.add(x, ops.mul(sigma, ops.randomNormalLike(x))) };
}
