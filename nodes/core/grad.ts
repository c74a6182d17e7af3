/**
 * Reverse mode over the primitives of primitives.ts.
 *
 * While `grad` runs f, a Tape records every primitive call with an input the tape tracks
 * (the argument of f and everything computed from it): the primitive, its arguments and its
 * output, which becomes tracked. Backward walks the tape in reverse, applying one VJP rule
 * per primitive. The rules are written against Ops, so they run on the interpreter that
 * recorded: eager tfjs, or ONNX nodes added to the graph being recorded. Their primitive
 * calls are themselves recorded on any enclosing tape, which gives grad of grad; and in
 * training tfjs's own autodiff differentiates through them.
 *
 * Values are tracked by identity. An op whose output is one of its inputs (an identity
 * reshape, a one-input concat) records nothing: the value is already tracked.
 */
import type { Ops } from './ops';
import type { PrimSigs, Primitive } from './primitives';

/** (input, contribution to its cotangent) pairs */
export type Cotangents<T> = ReadonlyArray<readonly [T, T]>;

/**
 * The VJP of one primitive: given g = dL/dy for y = prim(...args), the contributions
 * dL/dv for the inputs v with need(v) (the others may be left out).
 */
export type VjpRule<K extends Primitive> = <T>(o: Ops<T>, g: T, y: T, need: (v: T) => boolean, ...args: Parameters<PrimSigs<T>[K]>) => Cotangents<T>;

/** a primitive whose output is a constant as far as derivatives go; `why` says why */
export interface NoGrad {
  readonly noGrad: string;
}

interface TapeNode<T> {
  readonly prim: Primitive;
  readonly out: T;
  readonly args: readonly unknown[];
}

export class Tape<T> {
  readonly nodes: TapeNode<T>[] = [];
  /** the seeds and every recorded output */
  readonly tracked = new Set<T>();
  /** set while an interpreter records a region the tape cannot see into (an ONNX Loop body) */
  frozen = false;
  constructor(readonly outer: Tape<T> | null) {}
}

const dependsOn = <T>(t: Tape<T>, v: unknown): boolean => t.tracked.has(v as T) || (Array.isArray(v) && v.some((u) => t.tracked.has(u as T)));

const isInput = (y: unknown, v: unknown): boolean => y === v || (Array.isArray(v) && v.includes(y));

/**
 * Records y = prim(a, b, c, d, e) on every tape from `top` outwards that tracks one of the
 * arguments. `onFrozen` is called (and must throw) for a frozen tape that would record.
 */
export function record<T>(top: Tape<T>, prim: Primitive, y: T, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, onFrozen: (prim: Primitive) => never): void {
  if (typeof VJP[prim] !== 'function') return;
  let args: unknown[] | undefined;
  for (let t: Tape<T> | null = top; t !== null; t = t.outer) {
    if (!(dependsOn(t, a) || dependsOn(t, b) || dependsOn(t, c) || dependsOn(t, d) || dependsOn(t, e))) continue;
    if (isInput(y, a) || isInput(y, b) || isInput(y, c)) return;
    if (t.frozen) onFrozen(prim);
    args ??= [a, b, c, d, e];
    t.nodes.push({ prim, out: y, args });
    t.tracked.add(y);
  }
}

/**
 * Cotangents of `wrt` (seeds of `tape`) for L = <seed, y>, the tape already closed.
 * undefined: L does not depend on that seed.
 */
export function backward<T>(o: Ops<T>, tape: Tape<T>, y: T, seed: T, wrt: readonly T[]): (T | undefined)[] {
  const cot = new Map<T, T>([[y, seed]]);
  const need = (v: T) => tape.tracked.has(v);
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const n = tape.nodes[i]!;
    const g = cot.get(n.out);
    if (g === undefined) continue;
    const rule = VJP[n.prim] as unknown as (o: Ops<T>, g: T, y: T, need: (v: T) => boolean, ...args: unknown[]) => Cotangents<T>;
    for (const [v, gv] of rule(o, g, n.out, need, ...n.args)) {
      if (!need(v)) continue;
      const prev = cot.get(v);
      cot.set(v, prev === undefined ? gv : o.add(prev, gv));
    }
  }
  return wrt.map((w) => cot.get(w));
}

// ------------------------------------------------------------------ helpers

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);

const normAxis = (a: number, rank: number) => (a < 0 ? a + rank : a);

/** the pairs that are not false */
function cots<T>(...ps: (readonly [T, T] | false)[]): Cotangents<T> {
  return ps.filter((p): p is readonly [T, T] => p !== false);
}

/**
 * Sums g (the shape of a broadcast result) back to an input of shape `to`: over the leading
 * axes `to` lacks and the axes where `to` is 1 and g is not. -1 (a symbolic batch) in `to`
 * is never reduced; a 1 in `to` against -1 in g is.
 */
export function unbroadcast<T>(o: Ops<T>, g: T, to: readonly number[]): T {
  const from = o.shape(g);
  const lead = from.length - to.length;
  let r = lead > 0 ? o.sum(g, range(lead)) : g;
  const axes: number[] = [];
  for (let i = 0; i < to.length; i++) if (to[i] === 1 && from[lead + i] !== 1) axes.push(i);
  if (axes.length > 0) r = o.sum(r, axes, true);
  return r;
}

/** swaps the last two axes */
function mT<T>(o: Ops<T>, x: T): T {
  const r = o.shape(x).length;
  return o.transpose(x, [...range(r - 2), r - 1, r - 2]);
}

const noGrad = (why: string): NoGrad => ({ noGrad: why });

const RANDOM = noGrad('a random draw: its value does not depend on its inputs');

/**
 * One rule per primitive (exhaustive). g = dL/dy; ub = unbroadcast to the input's shape;
 * [p] is 1 where p holds, else 0.
 */
export const VJP: { readonly [K in Primitive]: VjpRule<K> | NoGrad } = {
  constant: noGrad('no tensor inputs'),
  fill: noGrad('depends on the shape of its input only'),
  // float -> float: dx = g; to an integer type: piecewise constant
  cast: (_o, g, _y, need, x, dtype) => cots(dtype === 'float32' && need(x) && [x, g]),
  identity: (_o, g, _y, _need, x) => [[x, g]],

  // da = ub(g), db = ub(g)
  add: (o, g, _y, need, a, b) => cots(need(a) && [a, unbroadcast(o, g, o.shape(a))], need(b) && [b, unbroadcast(o, g, o.shape(b))]),
  // da = ub(g), db = ub(-g)
  sub: (o, g, _y, need, a, b) => cots(need(a) && [a, unbroadcast(o, g, o.shape(a))], need(b) && [b, unbroadcast(o, o.neg(g), o.shape(b))]),
  // da = ub(g b), db = ub(g a)
  mul: (o, g, _y, need, a, b) => cots(need(a) && [a, unbroadcast(o, o.mul(g, b), o.shape(a))], need(b) && [b, unbroadcast(o, o.mul(g, a), o.shape(b))]),
  // y = a / b: da = ub(g / b), db = ub(-g y / b)
  div: (o, g, y, need, a, b) =>
    cots(need(a) && [a, unbroadcast(o, o.div(g, b), o.shape(a))], need(b) && [b, unbroadcast(o, o.neg(o.div(o.mul(g, y), b)), o.shape(b))]),
  // da = ub(g [a >= b]), db = ub(g [b > a]) (a wins ties)
  maximum: (o, g, _y, need, a, b) => {
    const gb = o.mul(g, o.step(o.sub(b, a)));
    return cots(need(a) && [a, unbroadcast(o, o.sub(g, gb), o.shape(a))], need(b) && [b, unbroadcast(o, gb, o.shape(b))]);
  },
  // da = ub(g [a <= b]), db = ub(g [b < a]) (a wins ties)
  minimum: (o, g, _y, need, a, b) => {
    const gb = o.mul(g, o.step(o.sub(a, b)));
    return cots(need(a) && [a, unbroadcast(o, o.sub(g, gb), o.shape(a))], need(b) && [b, unbroadcast(o, gb, o.shape(b))]);
  },

  // dx = -g
  neg: (o, g, _y, _need, x) => [[x, o.neg(g)]],
  // dx = g y
  exp: (o, g, y, _need, x) => [[x, o.mul(g, y)]],
  // dx = g / x
  log: (o, g, _y, _need, x) => [[x, o.div(g, x)]],
  // dx = g / (2 y)
  sqrt: (o, g, y, _need, x) => [[x, o.div(g, o.mul(y, o.scalar(2)))]],
  // dx = g sign(x)
  abs: (o, g, _y, _need, x) => [[x, o.mul(g, o.sign(x))]],
  sign: noGrad('piecewise constant: derivative 0 almost everywhere'),
  step: noGrad('piecewise constant: derivative 0 almost everywhere'),
  // dx = g (1 - y^2)
  tanh: (o, g, y, _need, x) => [[x, o.mul(g, o.sub(o.scalar(1), o.mul(y, y)))]],
  // dx = g y (1 - y)
  sigmoid: (o, g, y, _need, x) => [[x, o.mul(o.mul(g, y), o.sub(o.scalar(1), y))]],
  // dx = g sigmoid(x)
  softplus: (o, g, _y, _need, x) => [[x, o.mul(g, o.sigmoid(x))]],
  // dx = g [x > 0]
  relu: (o, g, _y, _need, x) => [[x, o.mul(g, o.step(x))]],
  // dx = g cos(x)
  sin: (o, g, _y, _need, x) => [[x, o.mul(g, o.cos(x))]],
  // dx = -g sin(x)
  cos: (o, g, _y, _need, x) => [[x, o.neg(o.mul(g, o.sin(x)))]],
  // dx = g [lo < x <= hi]
  clip: (o, g, _y, _need, x, lo, hi) => [[x, o.mul(g, o.sub(o.step(o.sub(x, o.scalar(lo))), o.step(o.sub(x, o.scalar(hi)))))]],

  // dx = g broadcast back over the reduced axes
  sum: (o, g, _y, _need, x, axes, keepDims) => {
    const s = o.shape(x);
    const ax = axes === undefined ? range(s.length) : axes.map((a) => normAxis(a, s.length));
    if (ax.length === 0) return [[x, g]];
    const gk = keepDims || ax.length === s.length ? g : o.reshape(g, s.map((d, i) => (ax.includes(i) ? 1 : d)));
    return [[x, o.mul(gk, o.fill(x, 1))]];
  },

  // y = a b: da = ub(g b^T), db = ub(a^T g)
  matmul: (o, g, _y, need, a, b) =>
    cots(need(a) && [a, unbroadcast(o, o.matmul(g, mT(o, b)), o.shape(a))], need(b) && [b, unbroadcast(o, o.matmul(mT(o, a), g), o.shape(b))]),
  // dx = reshape(g, shape(x))
  reshape: (o, g, _y, _need, x) => [[x, o.reshape(g, o.shape(x))]],
  // dx = transpose(g, perm^-1)
  transpose: (o, g, _y, _need, x, perm) => {
    const r = o.shape(x).length;
    const p = (perm ?? range(r).reverse()).map((a) => normAxis(a, r));
    const inv = new Array<number>(r);
    p.forEach((a, i) => (inv[a] = i));
    return [[x, o.transpose(g, inv)]];
  },
  // dx_k = the slice of g where x_k sits
  concat: (o, g, _y, need, xs, axis) => {
    const r = o.shape(xs[0]!).length;
    const ax = normAxis(axis, r);
    const out: [(typeof xs)[number], (typeof xs)[number]][] = [];
    let at = 0;
    for (const x of xs) {
      const size = o.shape(x)[ax]!;
      if (need(x)) out.push([x, o.sliceAxis(g, ax, at, size)]);
      at += size;
    }
    return out;
  },
  // dx = [0 .. g .. 0] along the axis (zeros shaped like the parts of x outside the slice)
  sliceAxis: (o, g, _y, _need, x, axis, begin, size) => {
    const s = o.shape(x);
    const ax = normAxis(axis, s.length);
    const parts = [g];
    if (begin > 0) parts.unshift(o.fill(o.sliceAxis(x, ax, 0, begin), 0));
    if (size !== -1 && begin + size < s[ax]!) parts.push(o.fill(o.sliceAxis(x, ax, begin + size, -1), 0));
    return [[x, parts.length === 1 ? g : o.concat(parts, ax)]];
  },
  // y[m] = table[idx[m]]: dtable = onehot(idx)^T g, onehot[m, r] = [|idx[m] - r| < 1/2]; no gradient for the indices
  gather: (o, g, _y, need, table, indices) => {
    if (!need(table)) return [];
    const ts = o.shape(table);
    const rows = ts[0]!;
    const rest = ts.slice(1).reduce((p, d) => p * d, 1);
    const idx = o.reshape(o.cast(indices, 'float32'), [-1, 1]);
    const onehot = o.step(o.sub(o.scalar(0.5), o.abs(o.sub(idx, o.constant(range(rows), [1, rows])))));
    const gt = o.matmul(o.transpose(onehot, [1, 0]), o.reshape(g, [-1, rest]));
    return [[table, o.reshape(gt, ts)]];
  },
  // dx = conv2dTranspose(g, W), dW = conv2dFilterGrad(x, g)
  conv2d: (o, g, _y, need, x, w, stride, pad) =>
    cots(need(x) && [x, o.conv2dTranspose(g, w, o.shape(x), stride, pad)], need(w) && [w, o.conv2dFilterGrad(x, g, o.shape(w), stride, pad)]),
  // y = conv2dTranspose(x, W) is the input gradient of conv2d(., W) at upstream x:
  // dx = conv2d(g, W), dW = conv2dFilterGrad(g, x)
  conv2dTranspose: (o, g, _y, need, x, w, _outShape, stride, pad) =>
    cots(need(x) && [x, o.conv2d(g, w, stride, pad)], need(w) && [w, o.conv2dFilterGrad(g, x, o.shape(w), stride, pad)]),
  // bilinear in (x, dy) with cotangent G of dW: dx = conv2dTranspose(dy, G), ddy = conv2d(x, G)
  conv2dFilterGrad: (o, g, _y, need, x, dy, _fs, stride, pad) =>
    cots(need(x) && [x, o.conv2dTranspose(dy, g, o.shape(x), stride, pad)], need(dy) && [dy, o.conv2d(x, g, stride, pad)]),

  randomNormal: RANDOM,
  randomNormalLike: RANDOM,
  randomUniformLike: RANDOM,
  randomIntLike: RANDOM,
  stopGradient: noGrad('stopGradient: zero gradient by definition'),
};
