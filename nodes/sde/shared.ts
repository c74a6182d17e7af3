/** Input checks and small helpers shared by the SDE nodes. */
import { InferError } from '../core/defineNode';
import type { Ops } from '../core/ops';
import type { PortShape } from '../core/ports';
import { samplerFn } from '../core/samplerShapes';
import type { ScheduleValue } from '../core/values';
import { opsAlg, sdeOf, type Coefficients, type Sde } from './sdes';

export const SDE_IN = { type: { kind: 'Schedule' }, doc: 'the SDE (an SDE node; or DDPM\'s linear schedule, read as the VP SDE it discretises)' } as const;
export const SCORE_IN = { type: { kind: 'Fn' }, doc: 'the score s_theta(x, t) ~ grad_x log p_t(x), t in [0, 1] (a parameterisation converter turns an epsilon network into one)' } as const;

/** the Schedule on `port` */
export function sdeShape(shapes: Record<string, PortShape | undefined>, port = 'sde'): number {
  const s = shapes[port];
  if (!s) throw new InferError(port, `connect an SDE (a Schedule) to "${port}"`, 'bad-input');
  if (s.kind !== 'Schedule') throw new InferError(port, `"${port}" must be an SDE (a Schedule), got ${s.kind}`, 'bad-input');
  return s.T;
}

/** the score Fn on `port`: continuous time, same shape in and out */
export function scoreShape(shapes: Record<string, PortShape | undefined>, port = 'score') {
  return samplerFn(shapes, port, { timed: true, square: true, time: 'continuous' });
}

/** the SDE of a built Schedule, with the node named in the error */
export function sdeFrom(nodeId: string, s: ScheduleValue | undefined): Sde {
  if (!s) throw new Error(`${nodeId}: the SDE must be known before running`);
  try {
    return sdeOf(s);
  } catch (e) {
    throw new InferError('sde', `${nodeId}: ${(e as Error).message}`, 'bad-input');
  }
}

/** a [B] per-row value as [B, 1, ..., 1] against points of `event` shape */
export function col<T>(ops: Ops<T>, v: T, event: number[]): T {
  return ops.reshape(v, [-1, ...event.map(() => 1)]);
}

/** the coefficients at per-row times t [B], each as a column broadcasting against x */
export function coefColumns<T>(ops: Ops<T>, sde: Sde, t: T, event: number[]): Coefficients<T> {
  const c = sde.coefficients(opsAlg(ops), t);
  // constants (VE's f = 0, m = 1) come back as scalars: they broadcast as they are
  const shape = (v: T) => (ops.shape(v).length === 0 ? v : col(ops, v, event));
  return { f: shape(c.f), g2: shape(c.g2), m: shape(c.m), s: shape(c.s) };
}

/** a constant [n] table of numbers */
export function table<T>(ops: Ops<T>, v: ArrayLike<number>): T {
  return ops.constant(Float32Array.from(v), [v.length]);
}

/**
 * The time grid of the samplers: u_j = tEps + j (1 - tEps) / N, j = 0..N, walked from u_N = 1
 * down to u_0 = tEps; step i goes from hi[i] = u_{N-i} to lo[i] = u_{N-i-1}.
 */
export function timeGrid(tEps: number, N: number): { h: number; hi: number[]; lo: number[] } {
  const h = (1 - tEps) / N;
  const u = (j: number) => (j === N ? 1 : tEps + j * h);
  return { h, hi: Array.from({ length: N }, (_, i) => u(N - i)), lo: Array.from({ length: N }, (_, i) => u(N - i - 1)) };
}
