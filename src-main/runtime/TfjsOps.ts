/**
 * Eager tfjs interpreter of the node ops (training, sampling, eval).
 *
 * Every method is a thin call into tfjs: no validation and no per-op tidy, so the
 * interpreter costs about what hand-written tfjs costs. Callers own memory: run a step
 * inside tf.tidy / optimizer.minimize (ops built from several kernels, e.g. silu, leave
 * their intermediates to the enclosing scope). `loop` is the exception: it tidies each
 * iteration itself.
 *
 * Backend notes (tfjs 4.22), see TfjsOps.test.ts for the checks:
 * - Maximum, Minimum and BatchMatMul return unreduced gradients when their inputs
 *   broadcast (all backends): those cases go through tfjsGradients; [.., M, K] x [K, N]
 *   is folded into one 2-D matmul instead.
 * - wasm has no Conv2DBackpropFilter: conv2d / conv2dTranspose switch to the custom
 *   gradients in tfjsGradients.ts (filter gradient as a forward conv) on any backend
 *   without that kernel; backends that have it use tfjs's own gradients.
 * - StridedSlice has no gradient anywhere: sliceAxis uses tf.slice (gradient: PadV2).
 * - UnsortedSegmentSum (gather's gradient) is missing on wasm: gather is for constant
 *   tables only.
 * - softplus uses the Softplus kernel: it is the stable formula on both wasm and cpu,
 *   whereas wasm's Log1p is a plain log(1 + x), so max(x,0) + log1p(exp(-|x|)) loses
 *   everything below ~1e-7 there.
 */
import * as tf from '@tensorflow/tfjs';
import type { DType, Ops } from '../../nodes/core/ops';
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

export class TfjsOps implements Ops<T> {
  readonly name = 'tfjs';
  private readonly rng = { s: 0 };
  private readonly convGradMode: 'auto' | 'always';
  private convBackend = '';
  private convCustom = false;

  constructor(opts: TfjsOpsOptions) {
    this.convGradMode = opts.convGrad ?? 'auto';
    this.reseed(opts.seed);
  }

  /** Restarts the random stream: same seed + same backend gives the same draws. */
  reseed(seed: number): void {
    // Mix the seed once so that nearby seeds start far apart.
    this.rng.s = seed | 0;
    this.rng.s = nextU32(this.rng) ^ Math.imul(seed >>> 0, 0x9e3779b1);
  }

  /** A fresh 32-bit seed for one tfjs random op. */
  private nextSeed(): number {
    return nextU32(this.rng);
  }

  /**
   * While set, constants and scalars are also pushed here: a Runner's build creates
   * long-lived constants outside any tidy, and their owner disposes them.
   */
  collect: T[] | null = null;

  // creation
  constant(values: ArrayLike<number>, shape: number[], dtype: DType = 'float32'): T {
    const v =
      values instanceof Float32Array || values instanceof Int32Array || Array.isArray(values)
        ? (values as Float32Array | Int32Array | number[])
        : Array.from(values);
    const t = tf.tensor(v, shape, dtype);
    this.collect?.push(t);
    return t;
  }
  scalar(value: number, dtype: DType = 'float32'): T {
    const t = tf.scalar(value, dtype);
    this.collect?.push(t);
    return t;
  }
  zerosLike(x: T): T {
    return tf.zerosLike(x);
  }
  onesLike(x: T): T {
    return tf.onesLike(x);
  }
  /** float32 tensor of x's shape filled with value. */
  fill(shapeOf: T, value: number): T {
    return tf.fill(shapeOf.shape, value, 'float32');
  }
  cast(x: T, dtype: DType): T {
    return tf.cast(x, dtype);
  }

  // element-wise binary
  add(a: T, b: T): T {
    return tf.add(a, b);
  }
  sub(a: T, b: T): T {
    return tf.sub(a, b);
  }
  mul(a: T, b: T): T {
    return tf.mul(a, b);
  }
  div(a: T, b: T): T {
    return tf.div(a, b);
  }
  maximum(a: T, b: T): T {
    return sameShape(a.shape, b.shape) ? tf.maximum(a, b) : tfjsGradients.maximum(a, b);
  }
  minimum(a: T, b: T): T {
    return sameShape(a.shape, b.shape) ? tf.minimum(a, b) : tfjsGradients.minimum(a, b);
  }

  // element-wise unary
  neg(x: T): T {
    return tf.neg(x);
  }
  exp(x: T): T {
    return tf.exp(x);
  }
  log(x: T): T {
    return tf.log(x);
  }
  sqrt(x: T): T {
    return tf.sqrt(x);
  }
  square(x: T): T {
    return tf.square(x);
  }
  abs(x: T): T {
    return tf.abs(x);
  }
  tanh(x: T): T {
    return tf.tanh(x);
  }
  sigmoid(x: T): T {
    return tf.sigmoid(x);
  }
  softplus(x: T): T {
    return tf.softplus(x);
  }
  relu(x: T): T {
    return tf.relu(x);
  }
  leakyRelu(x: T, alpha: number): T {
    return tf.leakyRelu(x, alpha);
  }
  silu(x: T): T {
    return tf.mul(x, tf.sigmoid(x));
  }
  sin(x: T): T {
    return tf.sin(x);
  }
  cos(x: T): T {
    return tf.cos(x);
  }
  clip(x: T, lo: number, hi: number): T {
    return tf.clipByValue(x, lo, hi);
  }

  // reductions
  sum(x: T, axes?: number[], keepDims?: boolean): T {
    return tf.sum(x, axes, keepDims);
  }
  mean(x: T, axes?: number[], keepDims?: boolean): T {
    return tf.mean(x, axes, keepDims);
  }

  // shape and linear algebra
  matmul(a: T, b: T): T {
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
  }
  reshape(x: T, shape: number[]): T {
    return tf.reshape(x, shape);
  }
  transpose(x: T, perm?: number[]): T {
    return tf.transpose(x, perm);
  }
  concat(xs: T[], axis: number): T {
    return tf.concat(xs, axis);
  }
  sliceAxis(x: T, axis: number, begin: number, size: number): T {
    const rank = x.rank;
    const ax = axis < 0 ? axis + rank : axis;
    const b = new Array<number>(rank).fill(0);
    const s = new Array<number>(rank).fill(-1);
    b[ax] = begin;
    s[ax] = size;
    return tf.slice(x, b, s);
  }
  gather(table: T, indices: T): T {
    if (indices.dtype === 'int32') return tf.gather(table, indices);
    const idx = tf.cast(indices, 'int32');
    const out = tf.gather(table, idx);
    idx.dispose();
    return out;
  }
  conv2d(x: T, filter: T, stride: number, pad: 'same' | 'valid'): T {
    if (this.useCustomConv()) return tfjsGradients.conv2d(x, filter, stride, pad);
    return tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, stride, pad);
  }
  /**
   * Filter [kh, kw, outC, inC] (tfjs convention: the filter of the conv2d this op is the
   * transpose of). outShape is [H, W, C] or [B|-1, H, W, C]; the batch comes from x.
   */
  conv2dTranspose(x: T, filter: T, outShape: number[], stride: number, pad: 'same' | 'valid'): T {
    const n = outShape.length;
    const o: [number, number, number, number] = [x.shape[0], outShape[n - 3], outShape[n - 2], outShape[n - 1]];
    if (this.useCustomConv()) return tfjsGradients.conv2dTranspose(x, filter, o, stride, pad as ConvPad);
    return tf.conv2dTranspose(x as tf.Tensor4D, filter as tf.Tensor4D, o, stride, pad);
  }
  shape(x: T): number[] {
    return x.shape;
  }

  private useCustomConv(): boolean {
    const b = tf.getBackend();
    if (b !== this.convBackend) {
      this.convBackend = b;
      this.convCustom = this.convGradMode === 'always' || tf.getKernel('Conv2DBackpropFilter', b) === undefined;
    }
    return this.convCustom;
  }

  // randomness
  randomNormal(shape: number[]): T {
    return tf.randomNormal(shape, 0, 1, 'float32', this.nextSeed());
  }
  randomNormalLike(x: T): T {
    return tf.randomNormal(x.shape, 0, 1, 'float32', this.nextSeed());
  }
  randomUniformLike(x: T): T {
    return tf.randomUniform(x.shape, 0, 1, 'float32', this.nextSeed());
  }
  randomIntLike(x: T, n: number): T {
    const b = x.shape[0];
    const v = new Float32Array(b);
    for (let k = 0; k < b; k++) v[k] = Math.floor((nextU32(this.rng) / 4294967296) * n);
    return tf.tensor1d(v, 'float32');
  }

  // autodiff and control
  stopGradient(x: T): T {
    return tfjsGradients.stopGradient(x);
  }
  loop(n: number, carry: T[], body: (i: T, carry: T[]) => T[]): T[] {
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
