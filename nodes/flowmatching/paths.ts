/**
 * Conditional probability paths of flow matching (Lipman et al.
 * 2023; Liu et al. 2023, rectified flow). Noise x0 ~ N(0, I) at t = 0, data x1 at t = 1:
 *   x_t = alpha_t x1 + sigma_t x0,   u_t(x_t | x1) = d x_t / dt = alpha'_t x1 + sigma'_t x0
 * - linear (rectified flow / the OT path): alpha_t = t, sigma_t = 1 - (1 - sigma_min) t
 * - variance preserving (trigonometric): alpha_t = sin(pi t / 2), sigma_t = cos(pi t / 2),
 *   so alpha_t^2 + sigma_t^2 = 1 and x_t keeps unit variance for unit-variance data.
 * Both path nodes share the apply below; they differ in their coefficients and math.
 */
import { z } from 'zod';
import { InferError, type NodeCtx } from '../core/defineNode';
import { flatSize, tensorShape } from '../core/objective';
import type { Ops } from '../core/ops';
import type { PortShape } from '../core/ports';
import { rowZeros } from '../core/values';
import { otPartners } from './coupling';

export const ODE_LATENT = { text: 'noise x0 ~ N(0, I) transported to data by an ODE (no encoder)', rank: 2 } as const;

/** coefficients of a path at time t ([B, 1, ...] tensors broadcasting against x) */
export interface PathCoefficients<T> {
  alpha: T;
  sigma: T;
  dAlpha: T;
  dSigma: T;
}

export type PathKind = 'linear' | 'vp';

export function pathCoefficients<T>(ops: Ops<T>, kind: PathKind, t: T, sigmaMin = 0): PathCoefficients<T> {
  if (kind === 'linear') {
    const c = 1 - sigmaMin;
    return {
      alpha: t,
      sigma: ops.sub(ops.scalar(1), ops.mul(t, ops.scalar(c))),
      dAlpha: ops.onesLike(t),
      dSigma: ops.fill(t, -c),
    };
  }
  const w = ops.mul(t, ops.scalar(Math.PI / 2));
  const s = ops.sin(w);
  const co = ops.cos(w);
  return { alpha: s, sigma: co, dAlpha: ops.mul(co, ops.scalar(Math.PI / 2)), dSigma: ops.mul(s, ops.scalar(-Math.PI / 2)) };
}

export const pathFields = {
  /** how noise and data are paired in a batch: independently, or by minibatch OT (Sinkhorn) */
  coupling: z.enum(['independent', 'ot']).default('independent'),
  /** Sinkhorn's entropic regularisation, relative to the batch's mean squared distance (annealed from 1) */
  sinkhornEps: z.number().min(1e-4).max(1).default(0.01),
  /** Sinkhorn scaling iterations, over all annealing stages */
  sinkhornIters: z.number().int().min(1).max(1000).default(100),
};

export const pathUi = {
  coupling: {},
  sinkhornEps: { advanced: true, showWhen: { coupling: ['ot'] } },
  sinkhornIters: { advanced: true, showWhen: { coupling: ['ot'] } },
} as const;

export const PATH_INPUTS = { x1: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'data x1 ~ p_data (the end of the path, t = 1)' } } as const;

export const PATH_OUTPUTS = {
  xt: { type: { kind: 'Tensor' }, doc: 'the point x_t on the path' },
  t: { type: { kind: 'Tensor', semantic: 'time' }, doc: 'continuous time t ~ U[0, 1]' },
  ut: { type: { kind: 'Tensor', semantic: 'velocity' }, doc: 'the conditional velocity u_t(x_t | x1) = d x_t / dt (the regression target)' },
  x0: { type: { kind: 'Tensor', semantic: 'noise' }, doc: 'the noise x0 ~ N(0, I) paired with x1' },
} as const;

export function inferPath(shapes: Record<string, PortShape | undefined>): Record<keyof typeof PATH_OUTPUTS, PortShape> {
  const x = tensorShape(shapes, 'x1');
  if (!x.length) throw new InferError('x1', 'the data must have at least one dimension per example', 'bad-input');
  return { xt: { kind: 'Tensor', shape: x }, t: { kind: 'Tensor', shape: [] }, ut: { kind: 'Tensor', shape: x }, x0: { kind: 'Tensor', shape: x } };
}

export interface PathParams {
  coupling: 'independent' | 'ot';
  sinkhornEps: number;
  sinkhornIters: number;
}

export function applyPath<T>(ctx: NodeCtx<T>, kind: PathKind, p: PathParams & { sigmaMin?: number }, x1: T, event: number[]) {
  const { ops } = ctx;
  let x0 = ops.randomNormalLike(x1);
  if (p.coupling === 'ot') {
    const d = flatSize(event);
    const flat = (x: T) => (event.length === 1 ? x : ops.reshape(x, [-1, d]));
    const paired = otPartners(ops, flat(x0), flat(x1), { eps: p.sinkhornEps, iters: p.sinkhornIters });
    x0 = event.length === 1 ? paired : ops.reshape(paired, [-1, ...event]);
  }
  const t = ops.randomUniformLike(rowZeros(ops, event.length === 1 ? x1 : ops.reshape(x1, [-1, flatSize(event)])));
  const tb = ops.reshape(t, [-1, ...event.map(() => 1)]);
  const c = pathCoefficients(ops, kind, tb, p.sigmaMin ?? 0);
  const xt = ops.add(ops.mul(c.alpha, x1), ops.mul(c.sigma, x0));
  const ut = ops.add(ops.mul(c.dAlpha, x1), ops.mul(c.dSigma, x0));
  return { xt, t, ut, x0 };
}
