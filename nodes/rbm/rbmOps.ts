/**
 * The maths of a Bernoulli-Bernoulli restricted Boltzmann machine (Smolensky 1986; Hinton
 * 2002), visible v in {0, 1}^D, hidden h in {0, 1}^H, weights W [D, H], biases b [D], c [H]:
 *   E(v, h) = -b.v - c.h - v W h,      p(v, h) = exp(-E(v, h)) / Z
 *   F(v)    = -log sum_h exp(-E(v, h)) = -b.v - sum_j softplus(c_j + (v W)_j)
 *   p(h_j = 1 | v) = sigmoid(c_j + (v W)_j),   p(v_i = 1 | h) = sigmoid(b_i + (W h)_i)
 * so p(v) = exp(-F(v)) / Z and a block Gibbs step samples all of h given v, then all of v
 * given h. The tempered RBM of annealed importance sampling (Salakhutdinov & Murray 2008,
 * eq. 11-13) interpolates geometrically between a base RBM with W = 0, c = 0 and visible
 * biases b_A and the model:
 *   log f_beta(v) = (1 - beta) b_A.v + beta b.v + sum_j softplus(beta (c_j + (v W)_j))
 * and its Gibbs step uses beta (vW + c) for h and (1 - beta) b_A + beta (b + W h) for v.
 */
import type { Ops } from '../core/ops';
import type { FnValue } from '../core/values';

/** the Fn of an RBM node: call(v) = F(v) [B, 1] (the energy of the visible marginal), plus its parameters */
export interface RbmFn<T> extends FnValue<T> {
  visible: number;
  hidden: number;
  /** W [D, H] */
  W: T;
  /** visible biases b [D] */
  b: T;
  /** hidden biases c [H] */
  c: T;
}

/** F(v) [B] for v [B, D] (any other energy Fn: its value) */
export function freeEnergy<T>(ops: Ops<T>, r: FnValue<T>, v: T): T {
  if (!isRbmFn(r)) return ops.reshape(r.call(v), [-1]);
  const vb = ops.sum(ops.mul(v, r.b), [1]);
  const hidden = ops.sum(ops.softplus(ops.add(ops.matmul(v, r.W), r.c)), [1]);
  return ops.neg(ops.add(vb, hidden));
}

/** a Bernoulli draw with probabilities p (1 where u < p, u uniform) */
export function bernoulli<T>(ops: Ops<T>, p: T): T {
  return ops.step(ops.sub(p, ops.randomUniformLike(p)));
}

/** p(h = 1 | v) [B, H] */
export function hiddenProbs<T>(ops: Ops<T>, r: RbmFn<T>, v: T): T {
  return ops.sigmoid(ops.add(ops.matmul(v, r.W), r.c));
}

/** p(v = 1 | h) [B, D] */
export function visibleProbs<T>(ops: Ops<T>, r: RbmFn<T>, h: T): T {
  return ops.sigmoid(ops.add(ops.matmul(h, ops.transpose(r.W)), r.b));
}

/**
 * One Gibbs step. An RBM: the block step v -> h ~ p(h | v) -> v' ~ p(v | h); returns v' and
 * p(v' = 1 | h). Any other energy Fn F over {0, 1}^D (p(v) proportional to exp(-F(v))): one
 * sweep of single-site Gibbs, p(v_i = 1 | v_-i) = sigmoid(F(v with v_i = 0) - F(v with v_i = 1))
 * for i = 1..D in turn (2 D calls of F); pv is the last site's conditional spread over v.
 */
export function gibbsStep<T>(ops: Ops<T>, r: FnValue<T>, v: T): { v: T; pv: T } {
  if (!isRbmFn(r)) return siteGibbsSweep(ops, r, v);
  const h = bernoulli(ops, hiddenProbs(ops, r, v));
  const pv = visibleProbs(ops, r, h);
  return { v: bernoulli(ops, pv), pv };
}

function siteGibbsSweep<T>(ops: Ops<T>, f: FnValue<T>, v: T): { v: T; pv: T } {
  const D = f.in.reduce((a, b) => a * b, 1);
  let x = ops.reshape(v, [-1, D]);
  let p = x;
  for (let i = 0; i < D; i++) {
    const e = ops.constant(Array.from({ length: D }, (_, j) => (j === i ? 1 : 0)), [1, D]);
    const off = ops.mul(x, ops.sub(ops.scalar(1), e));
    const on = ops.add(off, e);
    const pi = ops.sigmoid(ops.sub(freeEnergy(ops, f, off), freeEnergy(ops, f, on)));
    p = ops.mul(ops.reshape(pi, [-1, 1]), e);
    x = ops.add(off, ops.mul(e, bernoulli(ops, p)));
  }
  return { v: ops.reshape(x, [-1, ...f.in]), pv: ops.add(ops.mul(x, ops.sub(ops.scalar(1), ops.constant(Array.from({ length: D }, (_, j) => (j === D - 1 ? 1 : 0)), [1, D]))), p) };
}

/** whether an Fn is an RBM's (carries W, b and c) */
export function isRbmFn<T>(f: FnValue<T>): f is RbmFn<T> {
  return (f as Partial<RbmFn<T>>).W !== undefined && (f as Partial<RbmFn<T>>).b !== undefined;
}

/** the visible units of an RBM or of any energy Fn over flat binary vectors */
export function visibleUnits<T>(f: FnValue<T>): number {
  return f.in.reduce((a, b) => a * b, 1);
}

/** the visible biases b of an RBM; zeros (Bernoulli(1/2) starts) for any other energy Fn */
export function visibleBias<T>(ops: Ops<T>, f: FnValue<T>): T {
  return isRbmFn(f) ? f.b : ops.constant(new Array(visibleUnits(f)).fill(0), [visibleUnits(f)]);
}
