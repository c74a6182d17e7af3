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
 *
 * Gaussian-Bernoulli RBM (real-valued v in R^D, per-dimension sigma; Hinton & Salakhutdinov
 * 2006, Cho et al. 2011 for the learned sigma):
 *   E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - c.h - (v / sigma) W h
 *   F(v)    = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_j softplus(c_j + ((v / sigma) W)_j)
 *   p(h_j = 1 | v) = sigmoid(c_j + ((v / sigma) W)_j),   v | h ~ N(b + sigma o (W h), diag sigma^2)
 * Completing the square in v, its marginal is a mixture of 2^H Gaussians with one shared
 * diagonal covariance (see `gaussianRbmMixture`).
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
  /** Gaussian visible units (a Gaussian-Bernoulli RBM): log sigma [D]; absent for binary visible units */
  logSigma?: T;
}

/** F(v) [B] for v [B, D] (any other energy Fn: its value) */
export function freeEnergy<T>(ops: Ops<T>, r: FnValue<T>, v: T): T {
  if (!isRbmFn(r)) return ops.reshape(r.call(v), [-1]);
  if (r.logSigma) {
    const quad = ops.sum(ops.mul(ops.square(ops.sub(v, r.b)), ops.mul(ops.exp(ops.mul(r.logSigma, ops.scalar(-2))), ops.scalar(0.5))), [1]);
    return ops.sub(quad, ops.sum(ops.softplus(ops.add(ops.matmul(scaled(ops, r, v), r.W), r.c)), [1]));
  }
  const vb = ops.sum(ops.mul(v, r.b), [1]);
  const hidden = ops.sum(ops.softplus(ops.add(ops.matmul(v, r.W), r.c)), [1]);
  return ops.neg(ops.add(vb, hidden));
}

/** a Bernoulli draw with probabilities p (1 where u < p, u uniform) */
export function bernoulli<T>(ops: Ops<T>, p: T): T {
  return ops.step(ops.sub(p, ops.randomUniformLike(p)));
}

/** v / sigma for Gaussian visible units, v itself for binary ones */
function scaled<T>(ops: Ops<T>, r: RbmFn<T>, v: T): T {
  return r.logSigma ? ops.mul(v, ops.exp(ops.neg(r.logSigma))) : v;
}

/** p(h = 1 | v) [B, H] */
export function hiddenProbs<T>(ops: Ops<T>, r: RbmFn<T>, v: T): T {
  return ops.sigmoid(ops.add(ops.matmul(scaled(ops, r, v), r.W), r.c));
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
  if (r.logSigma) {
    // v ~ N(b + sigma o (W h), sigma^2); pv: that mean
    const sigma = ops.exp(r.logSigma);
    const mean = ops.add(r.b, ops.mul(sigma, ops.matmul(h, ops.transpose(r.W))));
    return { v: ops.add(mean, ops.mul(sigma, ops.randomNormalLike(mean))), pv: mean };
  }
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

/**
 * n chain starts [n, D]: binary units v ~ Bern(sigmoid(b)) (b = 0 for an energy Fn that is
 * not an RBM); Gaussian units v ~ N(b, sigma^2)
 */
export function chainStart<T>(ops: Ops<T>, f: FnValue<T>, n: number): T {
  const D = visibleUnits(f);
  const eps = ops.randomNormal([n, D]);
  if (isRbmFn(f) && f.logSigma) return ops.add(f.b, ops.mul(ops.exp(f.logSigma), eps));
  const b = isRbmFn(f) ? f.b : ops.constant(new Array(D).fill(0), [D]);
  return ops.step(ops.sub(ops.sigmoid(b), ops.randomUniformLike(eps)));
}

/** whether an RBM's visible units are Gaussian (real-valued data) */
export function isGaussianRbm<T>(f: FnValue<T>): f is RbmFn<T> & { logSigma: T } {
  return isRbmFn(f) && f.logSigma !== undefined;
}

/** a conformance-fixture builder: a Bernoulli RBM with D visible and H hidden units whose weights come from `param` */
export function fixtureRbm(D: number, H: number) {
  return <T>(ops: Ops<T>, param: (name: string, shape: number[]) => T): RbmFn<T> => {
    const fn: RbmFn<T> = {
      kind: 'Fn',
      owner: 'fixture',
      in: [D],
      out: [1],
      timeConditioned: false,
      visible: D,
      hidden: H,
      W: param('W', [D, H]),
      b: param('b', [D]),
      c: param('c', [H]),
      call: (v) => ops.reshape(freeEnergy(ops, fn, v), [-1, 1]),
    };
    return fn;
  };
}
