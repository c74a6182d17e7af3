/**
 * Consistency models (Song, Dhariwal, Chen & Sutskever 2023, "Consistency models"; seed
 * 002, sec. 6.3): one network maps every point of a probability-flow ODE trajectory to the
 * trajectory's origin, so one evaluation turns noise into data.
 *
 * Symbol map (paper -> code):
 *   t in [eps, T]               the noise level (the paper's time; sigma(t) = t, EDM / VE axis): `sigma`
 *   eps, T                      the smallest and the largest noise level: `eps`, `T`
 *   u in [0, 1]                 the time on the Fn ports: u = ln(t / eps) / ln(T / eps) (for a VE SDE,
 *                               sigma(u) = sigma_min (sigma_max / sigma_min)^u, the SDE's own time)
 *   F_theta(x, t)               the free-form network (an MLP; called at (c_in(t) x, u))
 *   f_theta(x, t)               the consistency function (eq. 5): c_skip(t) x + c_out(t) F_theta
 *   sigma_data                  the data's standard deviation: `sigmaData`
 *   theta^-                     the target network: an EMA of theta (eq. 8), decay mu: `mu`
 *   sg[.]                       stop-gradient: `ops.stopGradient`
 *   N, t_1 < ... < t_N          the discretisation of [eps, T] (Karras boundaries, rho = 7)
 *   N(k)                        the curriculum of consistency training (Appendix C), k the optimiser step
 *   d(., .)                     the metric of the consistency loss (squared L2, L1, pseudo-Huber)
 *   lambda(t_n)                 the loss weight (1 in the paper; 1 / (t_{n+1} - t_n) in improved CT)
 *
 * Parameterisation (eq. 5 and Appendix C, after Karras et al. 2022):
 *   f_theta(x, t) = c_skip(t) x + c_out(t) F_theta(c_in(t) x, t)
 *   c_skip(t) = sigma_data^2 / ((t - eps)^2 + sigma_data^2)
 *   c_out(t)  = sigma_data (t - eps) / sqrt(sigma_data^2 + t^2)
 *   c_in(t)   = 1 / sqrt(t^2 + sigma_data^2)
 * so c_skip(eps) = 1 and c_out(eps) = 0: the boundary condition f(x, eps) = x holds exactly,
 * by construction. (t - eps) is computed as eps (e^{u ln(T/eps)} - 1), which is 0 exactly at u = 0.
 * The network's time input is u rather than EDM's c_noise = ln(t) / 4: both are affine in ln t.
 *
 * Karras boundaries (sec. 4 / Appendix C): t_i = (eps^{1/rho} + (i - 1)/(N - 1) (T^{1/rho} - eps^{1/rho}))^rho, i = 1..N.
 * Curriculum (Appendix C): N(k) = ceil(sqrt(k/K ((s_1 + 1)^2 - s_0^2) + s_0^2) - 1) + 1.
 *
 * The axis comes from the SDE node connected to `sde`: a VE SDE gives eps = sigma_min and
 * T = sigma_max (u is then the SDE's time); any other linear SDE is read on its equivalent VE
 * axis sigma = s(t) / m(t) (x(t) / m = x(0) + (s / m) epsilon), from sigma(tEps) to sigma(1).
 */
import { InferError } from '../core/defineNode';
import type { Ops } from '../core/ops';
import type { PortShape } from '../core/ports';
import type { FnValue, ScheduleValue } from '../core/values';
import { coefAt, opsAlg, type Sde } from '../sde/sdes';
import { sdeFrom } from '../sde/shared';

export const CM_SDE_IN = { type: { kind: 'Schedule' }, doc: 'the noise axis [eps, T]: a VE SDE (eps = sigma_min, T = sigma_max)' } as const;

/** the noise axis [eps, T] of a consistency model */
export interface CmAxis {
  eps: number;
  T: number;
  /** ln(T / eps) */
  L: number;
  /** the SDE it was read from */
  sde: Sde;
}

export function axisOfSde(sde: Sde): CmAxis {
  const lo = sde.kind === 've' ? coefAt(sde, 0) : coefAt(sde, sde.tEps);
  const hi = coefAt(sde, 1);
  const eps = lo.s / lo.m;
  const T = hi.s / hi.m;
  if (!(eps > 0) || !(T > eps)) throw new InferError('sde', `the SDE "${sde.label}" gives no noise axis eps < T (eps ${eps}, T ${T})`, 'bad-input');
  return { eps, T, L: Math.log(T / eps), sde };
}

/** the axis of a built Schedule, with the node named in the error */
export function axisFrom(nodeId: string, s: ScheduleValue | undefined): CmAxis {
  return axisOfSde(sdeFrom(nodeId, s));
}

/** the Schedule on `sde` is connected */
export function axisShape(shapes: Record<string, PortShape | undefined>, port = 'sde'): void {
  const s = shapes[port];
  if (!s) throw new InferError(port, `connect a VE SDE (a Schedule) to "${port}"`, 'bad-input');
  if (s.kind !== 'Schedule') throw new InferError(port, `"${port}" must be an SDE (a Schedule), got ${s.kind}`, 'bad-input');
}

/** sigma(u) = eps e^{u L} as a number */
export const sigmaAt = (a: CmAxis, u: number) => a.eps * Math.exp(u * a.L);
/** u(sigma) = ln(sigma / eps) / L as a number */
export const uAt = (a: CmAxis, sigma: number) => Math.log(sigma / a.eps) / a.L;

/** the Karras boundaries t_1 < ... < t_N of [eps, T] */
export function karrasBoundaries(a: CmAxis, N: number, rho: number): number[] {
  const lo = Math.pow(a.eps, 1 / rho);
  const hi = Math.pow(a.T, 1 / rho);
  return Array.from({ length: N }, (_, i) => (i === 0 ? a.eps : i === N - 1 ? a.T : Math.pow(lo + (i / (N - 1)) * (hi - lo), rho)));
}

/** N(k) of consistency training (Appendix C) for k = 0..K */
export function curriculumN(k: number, K: number, s0: number, s1: number): number {
  const kk = Math.min(Math.max(k, 0), K);
  return Math.ceil(Math.sqrt((kk / K) * ((s1 + 1) * (s1 + 1) - s0 * s0) + s0 * s0) - 1) + 1;
}

/** c_skip, c_out, c_in at the noise level of u (each [B] per row) */
export function coefficients<T>(ops: Ops<T>, a: CmAxis, u: T, sigmaData: number): { skip: T; out: T; cin: T; sigma: T } {
  const g = ops.exp(ops.mul(u, ops.scalar(a.L)));
  const sigma = ops.mul(g, ops.scalar(a.eps));
  // t - eps = eps (e^{uL} - 1): exactly 0 at u = 0
  const d = ops.mul(ops.sub(g, ops.scalar(1)), ops.scalar(a.eps));
  const sd2 = ops.scalar(sigmaData * sigmaData);
  const skip = ops.div(sd2, ops.add(ops.square(d), sd2));
  const r = ops.sqrt(ops.add(ops.square(sigma), sd2));
  const out = ops.div(ops.mul(d, ops.scalar(sigmaData)), r);
  const cin = ops.div(ops.scalar(1), r);
  return { skip, out, cin, sigma };
}

/** a [B] per-row value as [B, 1, ..., 1] against points of `event` shape */
export function col<T>(ops: Ops<T>, v: T, event: number[]): T {
  return ops.reshape(v, [-1, ...event.map(() => 1)]);
}

/**
 * The consistency function f_theta(x, u) = c_skip x + c_out F_theta(c_in x, u) (eq. 5) over a
 * network F_theta in continuous time; u is clipped to [0, 1] (the axis [eps, T]).
 */
export function consistencyFn<T>(ops: Ops<T>, net: FnValue<T>, a: CmAxis, sigmaData: number, stop = false): FnValue<T> {
  const event = net.in;
  const call = (x: T, uIn?: T): T => {
    if (uIn === undefined) throw new Error('the consistency function needs the time u');
    const u = ops.clip(uIn, 0, 1);
    const c = coefficients(ops, a, u, sigmaData);
    const F = net.call(ops.mul(x, col(ops, c.cin, event)), u);
    const y = ops.add(ops.mul(x, col(ops, c.skip, event)), ops.mul(F, col(ops, c.out, event)));
    return stop ? ops.stopGradient(y) : y;
  };
  return { kind: 'Fn', owner: net.owner, in: net.in, out: net.out, timeConditioned: true, time: 'continuous', call };
}

/**
 * A score in the SDE's own time and coordinates read on the consistency axis (VE
 * coordinates y = x / m at the level sigma = s / m, u on the axis): the teacher of a
 * distillation trained on a VP or sub-VP SDE (a DDPM) drives the VE-form ODE step. With
 * p^VE_sigma(y) = m^d p_t(m y) at the time t(sigma) where s / m = sigma,
 *   grad_y log p^VE_sigma(y) = m(t) s_phi(m(t) y, t(sigma)).
 * For a VE SDE the axis is the SDE's time and the score is passed through as it is.
 */
export function veScore<T>(ops: Ops<T>, score: FnValue<T>, a: CmAxis, event: number[]): FnValue<T> {
  if (a.sde.kind === 've') return score;
  const timeAt = a.sde.timeAt;
  if (!timeAt) throw new InferError('sde', `the teacher's SDE "${a.sde.label}" has no closed-form time of a noise level: distil from a VE SDE, a linear VP or sub-VP SDE, or DDPM's linear schedule`, 'bad-input');
  const alg = opsAlg(ops);
  const call = (y: T, u?: T): T => {
    if (u === undefined) throw new Error('the teacher score needs the time u');
    const sigma = ops.mul(ops.exp(ops.mul(ops.clip(u, 0, 1), ops.scalar(a.L))), ops.scalar(a.eps));
    const t = timeAt.call(a.sde, alg, sigma) as T;
    const m = col(ops, a.sde.coefficients(alg, t).m, event);
    return ops.mul(score.call(ops.mul(y, m), t), m);
  };
  return { ...score, time: 'continuous', call };
}

/** the scalar v on every row of x, as [B] */
export function atRow<T>(ops: Ops<T>, x: T, v: T): T {
  const rank = ops.shape(x).length;
  const rows = rank <= 1 ? x : ops.sum(x, Array.from({ length: rank - 1 }, (_, i) => i + 1));
  return ops.add(ops.mul(rows, ops.scalar(0)), v);
}
