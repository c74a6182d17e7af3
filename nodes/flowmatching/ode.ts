/**
 * Fixed-step ODE solvers and the divergence of a velocity field, over Ops.
 *
 * A continuous normalising flow  moves points along
 *   dx(t)/dt = v_theta(x(t), t),  x(0) ~ p_0 = N(0, I) (noise),  x(1) ~ p_1 (data),
 * and its log-density follows the instantaneous change of variables (Chen et al. 2018,
 * theorem 1; not in the seed):
 *   d log p_t(x(t)) / dt = -div v_theta(x(t), t) = -sum_i d v_i / d x_i.
 *
 * Solvers (h = (t_end - t_start) / steps, negative when integrating backwards):
 *   euler  y' = y + h f(t, y)                                         1 call per step
 *   heun   k1 = f(t, y), k2 = f(t + h, y + h k1), y' = y + h/2 (k1 + k2)   2 calls
 *   rk4    classic Runge-Kutta (k1..k4 at t, t + h/2, t + h/2, t + h)   4 calls
 * The state is a list of tensors (the points, and for the density also the running
 * integral of the divergence), so one solver serves sampling and likelihood.
 */
import type { Ops } from '../core/ops';
import { runStepper } from '../core/stepper';
import { rowZeros, type FnValue } from '../core/values';

export const SOLVERS = ['euler', 'heun', 'rk4'] as const;
export type Solver = (typeof SOLVERS)[number];

/** velocity-network calls per step */
export const CALLS_PER_STEP: Record<Solver, number> = { euler: 1, heun: 2, rk4: 4 };

/** the right-hand side f(t, y) of an ODE on a list of tensors; t is a [B] tensor */
export type Field<T> = (t: T, y: T[]) => T[];

function axpy<T>(ops: Ops<T>, y: T[], h: number, k: T[]): T[] {
  const s = ops.scalar(h);
  return y.map((v, j) => ops.add(v, ops.mul(k[j]!, s)));
}

/** one step of `solver` from (t, y) with step h; t is a [B] tensor */
export function odeStep<T>(ops: Ops<T>, solver: Solver, f: Field<T>, t: T, y: T[], h: number): T[] {
  switch (solver) {
    case 'euler':
      return axpy(ops, y, h, f(t, y));
    case 'heun': {
      const k1 = f(t, y);
      const k2 = f(ops.add(t, ops.scalar(h)), axpy(ops, y, h, k1));
      return axpy(ops, y, h / 2, k1.map((a, j) => ops.add(a, k2[j]!)));
    }
    case 'rk4': {
      const tMid = ops.add(t, ops.scalar(h / 2));
      const k1 = f(t, y);
      const k2 = f(tMid, axpy(ops, y, h / 2, k1));
      const k3 = f(tMid, axpy(ops, y, h / 2, k2));
      const k4 = f(ops.add(t, ops.scalar(h)), axpy(ops, y, h, k3));
      const two = ops.scalar(2);
      const sum = k1.map((a, j) => ops.add(ops.add(a, k4[j]!), ops.mul(ops.add(k2[j]!, k3[j]!), two)));
      return axpy(ops, y, h / 6, sum);
    }
  }
}

/** the start time of every step, t_k = t0 + k h, as a [steps] table (gathered by the loop counter) */
export function timeTable<T>(ops: Ops<T>, t0: number, t1: number, steps: number): T {
  const h = (t1 - t0) / steps;
  return ops.constant(Float32Array.from({ length: steps }, (_, k) => t0 + k * h), [steps]);
}

/**
 * Integrates y from t0 to t1 in `steps` equal steps: one `runStepper` loop (one ONNX Loop
 * in export). `times` is timeTable(ops, t0, t1, steps); y[0] must be a [B, d] tensor.
 */
export function integrate<T>(ops: Ops<T>, o: { solver: Solver; steps: number; t0: number; t1: number; times: T; init: T[]; f: Field<T> }): T[] {
  const h = (o.t1 - o.t0) / o.steps;
  let final: T[] = o.init;
  runStepper(ops, {
    steps: o.steps,
    init: () => o.init,
    step: (i, y) => {
      const t = ops.add(rowZeros(ops, y[0]!), ops.gather(o.times, i));
      return odeStep(ops, o.solver, o.f, t, y, h);
    },
    result: (y) => {
      final = y;
      return y[0]!;
    },
  });
  return final;
}

export const DIVERGENCES = ['auto', 'exact', 'hutchinson'] as const;
export type Divergence = (typeof DIVERGENCES)[number];
export type ProbeNoise = 'rademacher' | 'gaussian';

/** exact trace up to this many dimensions under 'auto' (one gradient per dimension) */
export const EXACT_UP_TO = 2;

export function resolveDivergence(mode: Divergence, dim: number): 'exact' | 'hutchinson' {
  return mode === 'auto' ? (dim <= EXACT_UP_TO ? 'exact' : 'hutchinson') : mode;
}

/**
 * div_x v(x) per row [B]:
 * - exact: sum_i d v_i / d x_i, one reverse-mode gradient per dimension (rows do not
 *   interact, so the gradient of the batch sum of v_i gives every row's d v_i / d x);
 * - hutchinson: eps^T (dv/dx) eps with one probe eps per row (E[eps eps^T] = I), one
 *   vector-Jacobian product eps^T (dv/dx), dotted with eps. Unbiased.
 */
export function divergence<T>(ops: Ops<T>, v: (x: T) => T, x: T, dim: number, mode: 'exact' | 'hutchinson', probe: ProbeNoise = 'rademacher'): T {
  if (mode === 'exact') {
    let div: T | undefined;
    for (let i = 0; i < dim; i++) {
      const g = ops.grad((y) => ops.sliceAxis(v(y), 1, i, 1), x);
      const term = ops.sliceAxis(g, 1, i, 1);
      div = div === undefined ? term : ops.add(div, term);
    }
    return ops.sum(div!, [1]);
  }
  const eps = probeNoise(ops, x, probe);
  const g = ops.vjp(v, x, eps);
  return ops.sum(ops.mul(g, eps), [1]);
}

/** a probe with E[eps eps^T] = I: Rademacher (+-1, lower variance) or standard normal */
export function probeNoise<T>(ops: Ops<T>, like: T, kind: ProbeNoise): T {
  if (kind === 'gaussian') return ops.randomNormalLike(like);
  // sign(u - 1/2) for u ~ U[0, 1)
  return ops.sign(ops.sub(ops.randomUniformLike(like), ops.scalar(0.5)));
}

/** the network as v(x, t) for a [B] time tensor */
export function velocityField<T>(f: FnValue<T>): (x: T, t: T) => T {
  return (x, t) => f.call(x, t);
}
