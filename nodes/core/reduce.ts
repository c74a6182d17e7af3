/**
 * Reductions written over the primitives (Ops has `sum` but no max): a max by pairwise
 * halving with `maximum`, and the log-sum-exp that mixture densities need.
 */
import type { Ops } from './ops';

/** max over one axis (its size must be static), keeping the axis with size 1 */
export function reduceMax<T>(ops: Ops<T>, x: T, axis: number): T {
  let n = ops.shape(x)[axis]!;
  if (!(n > 0)) throw new Error(`reduceMax: axis ${axis} must have a static size, got ${n}`);
  let m = x;
  while (n > 1) {
    const h = Math.floor(n / 2);
    const pair = ops.maximum(ops.sliceAxis(m, axis, 0, h), ops.sliceAxis(m, axis, h, h));
    m = n % 2 ? ops.concat([pair, ops.sliceAxis(m, axis, 2 * h, 1)], axis) : pair;
    n = Math.ceil(n / 2);
  }
  return m;
}

/**
 * log sum_k exp(x_k) over `axis`, computed as m + log sum_k exp(x_k - m) with m = max_k x_k
 * held constant (sg[m]: the result does not depend on m, so neither does its gradient):
 * no overflow, and no underflow to log 0 while one term is representable.
 */
export function logSumExp<T>(ops: Ops<T>, x: T, axis: number, keepDims = false): T {
  const m = ops.stopGradient(reduceMax(ops, x, axis));
  const s = ops.log(ops.sum(ops.exp(ops.sub(x, m)), [axis], keepDims));
  // a sum over the size-1 axis drops it
  return ops.add(s, keepDims ? m : ops.sum(m, [axis]));
}

/** log softmax over `axis`: x - logsumexp(x) */
export function logSoftmax<T>(ops: Ops<T>, x: T, axis: number): T {
  return ops.sub(x, logSumExp(ops, x, axis, true));
}

/**
 * Inclusive prefix sums along `axis` (static size n) in ceil(log2 n) shifted adds
 * (Hillis and Steele 1986): no [n, n] constant, so it stays small in an exported model.
 */
export function cumsum<T>(ops: Ops<T>, x: T, axis: number): T {
  const n = ops.shape(x)[axis]!;
  let s = x;
  for (let shift = 1; shift < n; shift *= 2) {
    const zeros = ops.mul(ops.sliceAxis(s, axis, 0, shift), ops.scalar(0));
    s = ops.add(s, ops.concat([zeros, ops.sliceAxis(s, axis, 0, n - shift)], axis));
  }
  return s;
}
