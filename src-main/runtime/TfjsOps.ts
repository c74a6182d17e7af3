/**
 * Eager tfjs interpreter of the node ops (training, sampling, eval).
 *
 * Every method is a thin call into tfjs: no validation and no per-op tidy, so the
 * interpreter costs about what hand-written tfjs costs. Callers own memory: run a step
 * inside tf.tidy / optimizer.minimize (ops built from several kernels, e.g. silu, leave
 * their intermediates to the enclosing scope). `loop` is the exception: it tidies each
 * iteration itself (except under a gradient tape, below).
 *
 * Backend notes (tfjs 4.22), see TfjsOps.test.ts for the checks:
 * - Maximum, Minimum and BatchMatMul return unreduced gradients when their inputs
 *   broadcast (all backends): those cases go through tfjsGradients; [.., M, K] x [K, N]
 *   is folded into one 2-D matmul instead.
 * - wasm has no Conv2DBackpropFilter: conv2d / conv2dTranspose switch to the custom
 *   gradients in tfjsGradients.ts (filter gradient as a forward conv) on any backend
 *   without that kernel; backends that have it use tfjs's own gradients.
 * - StridedSlice has no gradient anywhere: sliceAxis uses tf.slice (gradient: PadV2).
 * - UnsortedSegmentSum (gather's gradient) is missing on wasm: under tf autodiff gather
 *   is for constant tables only (ops.grad differentiates the table by a one-hot matmul).
 * - Composites (square, silu, leakyRelu, mean, zerosLike ...) come from OpsBase; the
 *   primitives are TFJS_RULES. Each primitive costs one extra check (is a gradient tape
 *   active) over the bare tfjs call.
 * - `ops.grad` inside a training step: the backward ops it emits are tfjs ops, so
 *   tf.variableGrads / optimizer.minimize differentiate through them (gradient penalties).
 *   While a tape is active `loop` does not tidy per iteration (the backward pass reads
 *   the intermediates), so a gradient through a loop works here.
 * - softplus uses the Softplus kernel: it is the stable formula on both wasm and cpu,
 *   whereas wasm's Log1p is a plain log(1 + x), so max(x,0) + log1p(exp(-|x|)) loses
 *   everything below ~1e-7 there.
 */
import * as tf from '@tensorflow/tfjs';
import { OpsBase, installRules, type DType } from '../../nodes/core/ops';
import type { Rules } from '../../nodes/core/primitives';
import { tfjsGradients, type ConvPad } from './tfjsGradients';

type T = tf.Tensor;

export interface TfjsOpsOptions {
  seed: number;
  /**
   * 'auto' (default): custom conv gradients only where the backend lacks
   * Conv2DBackpropFilter. 'always': use them everywhere (tests, comparisons).
   */
  convGrad?: 'auto' | 'always';
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** mulberry32 step: returns the next uint32 and advances the state. */
function nextU32(state: { s: number }): number {
  let t = (state.s = (state.s + 0x6d2b79f5) | 0);
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

export class TfjsOps extends OpsBase<T> {
  readonly name = 'tfjs';
  private readonly rng = { s: 0 };
  private readonly convGradMode: 'auto' | 'always';
  private convBackend = '';
  private convCustom = false;

  constructor(opts: TfjsOpsOptions) {
    super();
    this.convGradMode = opts.convGrad ?? 'auto';
    this.reseed(opts.seed);
  }

  /** Restarts the random stream: same seed + same backend gives the same draws. */
  reseed(seed: number): void {
    // Mix the seed once so that nearby seeds start far apart.
    this.rng.s = seed | 0;
    this.rng.s = nextU32(this.rng) ^ Math.imul(seed >>> 0, 0x9e3779b1);
  }

  /** @internal a fresh 32-bit seed for one tfjs random op */
  nextSeed(): number {
    return nextU32(this.rng);
  }

  /** @internal the next uniform draw in [0, 1) of the host stream */
  nextUniform(): number {
    return nextU32(this.rng) / 4294967296;
  }

  /**
   * While set, constants and scalars are also pushed here: a Runner's build creates
   * long-lived constants outside any tidy, and their owner disposes them.
   */
  collect: T[] | null = null;

  shape(x: T): number[] {
    return x.shape;
  }

  protected dtypeOf(x: T): DType {
    return x.dtype === 'int32' ? 'int32' : 'float32';
  }

  /** @internal whether conv2d / conv2dTranspose use the custom gradients */
  useCustomConv(): boolean {
    const b = tf.getBackend();
    if (b !== this.convBackend) {
      this.convBackend = b;
      this.convCustom = this.convGradMode === 'always' || tf.getKernel('Conv2DBackpropFilter', b) === undefined;
    }
    return this.convCustom;
  }

  loop(n: number, carry: T[], body: (i: T, carry: T[]) => T[]): T[] {
    if (this.tape !== null) {
      // a gradient may flow through: keep every intermediate for the backward pass (the
      // enclosing scope owns them)
      let c = carry;
      for (let k = 0; k < n; k++) c = body(tf.scalar(k, 'int32'), c);
      return c;
    }
    const owned = new Set<T>(carry); // the caller's tensors: never disposed here
    let cur = carry;
    for (let k = 0; k < n; k++) {
      const prev = cur;
      cur = tf.tidy(() => body(tf.scalar(k, 'int32'), prev));
      for (const t of prev) if (!owned.has(t) && !cur.includes(t)) t.dispose();
    }
    return cur;
  }
}

/** the primitives on tfjs: each a thin call into tfjs (no validation, no tidy) */
export const TFJS_RULES: Rules<T, TfjsOps> = {
  constant(o, values, shape, dtype = 'float32') {
    const v =
      values instanceof Float32Array || values instanceof Int32Array || Array.isArray(values)
        ? (values as Float32Array | Int32Array | number[])
        : Array.from(values);
    const t = tf.tensor(v, shape, dtype);
    o.collect?.push(t);
    return t;
  },
  fill: (_o, x, value) => tf.fill(x.shape, value, 'float32'),
  cast: (_o, x, dtype) => tf.cast(x, dtype),
  identity: (_o, x) => tf.clone(x),

  add: (_o, a, b) => tf.add(a, b),
  sub: (_o, a, b) => tf.sub(a, b),
  mul: (_o, a, b) => tf.mul(a, b),
  div: (_o, a, b) => tf.div(a, b),
  maximum: (_o, a, b) => (sameShape(a.shape, b.shape) ? tf.maximum(a, b) : tfjsGradients.maximum(a, b)),
  minimum: (_o, a, b) => (sameShape(a.shape, b.shape) ? tf.minimum(a, b) : tfjsGradients.minimum(a, b)),

  neg: (_o, x) => tf.neg(x),
  exp: (_o, x) => tf.exp(x),
  log: (_o, x) => tf.log(x),
  sqrt: (_o, x) => tf.sqrt(x),
  abs: (_o, x) => tf.abs(x),
  sign: (_o, x) => tf.sign(x),
  step: (_o, x) => tf.step(x, 0),
  tanh: (_o, x) => tf.tanh(x),
  sigmoid: (_o, x) => tf.sigmoid(x),
  softplus: (_o, x) => tf.softplus(x),
  relu: (_o, x) => tf.relu(x),
  sin: (_o, x) => tf.sin(x),
  cos: (_o, x) => tf.cos(x),
  clip: (_o, x, lo, hi) => tf.clipByValue(x, lo, hi),

  sum: (_o, x, axes, keepDims) => tf.sum(x, axes, keepDims),

  matmul(_o, a, b) {
    const ra = a.rank;
    const rb = b.rank;
    if (rb === 2) {
      if (ra === 2) return tf.matMul(a, b);
      // [..., M, K] x [K, N]: fold the leading dimensions into M (gradient stays exact)
      const sa = a.shape;
      const y = tf.matMul(tf.reshape(a, [-1, sa[ra - 1]]), b);
      const out = sa.slice(0, ra - 1);
      out.push(b.shape[1] as number);
      return tf.reshape(y, out);
    }
    if (ra === rb && sameShape(a.shape.slice(0, ra - 2), b.shape.slice(0, rb - 2))) return tf.matMul(a, b);
    return tfjsGradients.matMul(a, b);
  },
  reshape: (_o, x, shape) => tf.reshape(x, shape),
  transpose: (_o, x, perm) => tf.transpose(x, perm),
  concat: (_o, xs, axis) => tf.concat(xs, axis),
  sliceAxis(_o, x, axis, begin, size) {
    const rank = x.rank;
    const ax = axis < 0 ? axis + rank : axis;
    const b = new Array<number>(rank).fill(0);
    const s = new Array<number>(rank).fill(-1);
    b[ax] = begin;
    s[ax] = size;
    return tf.slice(x, b, s);
  },
  gather(_o, table, indices) {
    if (indices.dtype === 'int32') return tf.gather(table, indices);
    const idx = tf.cast(indices, 'int32');
    const out = tf.gather(table, idx);
    idx.dispose();
    return out;
  },
  conv2d(o, x, filter, stride, pad) {
    if (o.useCustomConv()) return tfjsGradients.conv2d(x, filter, stride, pad);
    return tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, stride, pad);
  },
  conv2dTranspose(o, x, filter, outShape, stride, pad) {
    const n = outShape.length;
    const s: [number, number, number, number] = [x.shape[0], outShape[n - 3], outShape[n - 2], outShape[n - 1]];
    if (o.useCustomConv()) return tfjsGradients.conv2dTranspose(x, filter, s, stride, pad as ConvPad);
    return tf.conv2dTranspose(x as tf.Tensor4D, filter as tf.Tensor4D, s, stride, pad);
  },
  conv2dFilterGrad: (_o, x, dy, filterShape, stride, pad) => tfjsGradients.conv2dFilterGrad(x as tf.Tensor4D, dy as tf.Tensor4D, filterShape, stride, pad),

  randomNormal: (o, shape) => tf.randomNormal(shape, 0, 1, 'float32', o.nextSeed()),
  randomNormalLike: (o, x) => tf.randomNormal(x.shape, 0, 1, 'float32', o.nextSeed()),
  randomUniformLike: (o, x) => tf.randomUniform(x.shape, 0, 1, 'float32', o.nextSeed()),
  randomIntLike(o, x, n) {
    const b = x.shape[0];
    const v = new Float32Array(b);
    for (let k = 0; k < b; k++) v[k] = Math.floor(o.nextUniform() * n);
    return tf.tensor1d(v, 'float32');
  },

  stopGradient: (_o, x) => tfjsGradients.stopGradient(x),
};

installRules(TfjsOps, TFJS_RULES);
