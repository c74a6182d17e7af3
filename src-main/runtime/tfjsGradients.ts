/**
 * Gradients tfjs lacks on some backends, written with kernels every backend has.
 *
 * The wasm backend has no Conv2DBackpropFilter kernel, so neither tf.conv2d nor
 * tf.conv2dTranspose can differentiate their filter there. `conv2dFilterGrad` expresses
 * that gradient as one forward conv2d on transposed tensors:
 *
 *   dW[kh, kw, ci, co] = sum_{n, oh, ow} xPad[n, oh*s + kh, ow*s + kw, ci] * dy[n, oh, ow, co]
 *
 * i.e. a stride-1 conv whose "batch" is ci, whose "channels" are n, whose input is x
 * transposed to [ci, H, W, n] and whose filter is dy transposed to [OH, OW, n, co],
 * dilated by the forward stride s. Its output [ci, KH, KW, co] is transposed back.
 *
 * tfjs 4.22 also gets some broadcasting gradients wrong on every backend: Maximum,
 * Minimum and BatchMatMul return the gradient in the broadcast output's shape instead of
 * summing it back to the input's ("The gradient of input 'b' has shape ..."). The
 * broadcasting variants below reduce it themselves.
 *
 * The matMul gradient dA = dY B^T, dB = A^T dY is a matMul with transposeA or transposeB,
 * which the wasm backend runs 2-30x slower than an explicit transpose followed by a plain
 * matMul (bench/interpreter.bench.ts, "matMul gradient"); the cpu backend runs both about
 * equally. `matMulT` takes the fast form on wasm, and the BatchMatMul gradient is
 * registered again with it (every tf.matMul under a tape, hence every dense layer).
 */
import * as tf from '@tensorflow/tfjs';

export type ConvPad = 'same' | 'valid';

type T = tf.Tensor;
type T4 = tf.Tensor4D;

/**
 * Gradient of `conv2d(x, W, stride, pad)` with respect to W, given the upstream gradient
 * dy (NHWC, filter [KH, KW, inC, outC]). Uses forward conv2d only.
 */
function conv2dFilterGrad(
  x: T4,
  dy: T4,
  filterShape: readonly number[],
  stride: number,
  pad: ConvPad,
): T4 {
  return tf.tidy(() => {
    const [kh, kw] = filterShape;
    const [, h, w] = x.shape;
    const [, oh, ow] = dy.shape;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape,
      filterShape as [number, number, number, number],
      [stride, stride],
      [1, 1],
      pad,
    );
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    // Padding at the far side that makes the correlation produce exactly KH x KW outputs;
    // negative when the forward conv never reads the last rows / columns of x.
    const bottom = (oh - 1) * stride + kh - h - top;
    const right = (ow - 1) * stride + kw - w - left;
    let xt: T4 = tf.transpose(x, [3, 1, 2, 0]); // [ci, H, W, n]
    if (bottom < 0 || right < 0) {
      xt = tf.slice(xt, [0, 0, 0, 0], [-1, h + Math.min(bottom, 0), w + Math.min(right, 0), -1]);
    }
    const dyt = tf.transpose(dy, [1, 2, 0, 3]) as T4; // [OH, OW, n, co]
    const b = Math.max(bottom, 0);
    const r = Math.max(right, 0);
    const padArg: 'valid' | [[number, number], [number, number], [number, number], [number, number]] =
      top === 0 && left === 0 && b === 0 && r === 0
        ? 'valid'
        : [
            [0, 0],
            [top, b],
            [left, r],
            [0, 0],
          ];
    const g = tf.conv2d(xt, dyt, 1, padArg, 'NHWC', [stride, stride]); // [ci, KH, KW, co]
    return tf.transpose(g, [1, 2, 0, 3]);
  });
}

/** tf.conv2d whose input and filter gradients use forward convolutions only. */
const conv2dCustom = (stride: number, pad: ConvPad) =>
  tf.customGrad((...args: Array<T | tf.GradSaveFunc>) => {
    const [x, filter, save] = args as [T, T, tf.GradSaveFunc];
    save([x, filter]);
    return {
      value: tf.conv2d(x as T4, filter as T4, stride, pad),
      gradFunc: (dy: T, saved: T[]): T[] => {
        const [sx, sf] = saved as T4[];
        return [
          tf.conv2dTranspose(dy as T4, sf, sx.shape, stride, pad),
          conv2dFilterGrad(sx, dy as T4, sf.shape, stride, pad),
        ];
      },
    };
  });

/**
 * tf.conv2dTranspose (filter [KH, KW, outC, inC], tfjs convention) whose gradients use
 * forward convolutions only.
 */
const conv2dTransposeCustom = (outShape: [number, number, number, number], stride: number, pad: ConvPad) =>
  tf.customGrad((...args: Array<T | tf.GradSaveFunc>) => {
    const [x, filter, save] = args as [T, T, tf.GradSaveFunc];
    save([x, filter]);
    return {
      value: tf.conv2dTranspose(x as T4, filter as T4, outShape, stride, pad),
      gradFunc: (dy: T, saved: T[]): T[] => {
        const [sx, sf] = saved as T4[];
        return [
          tf.conv2d(dy as T4, sf, stride, pad),
          // y = conv2dTranspose(x, W) is the input-gradient of conv2d(y', W) at dy' = x, so
          // dL/dW = conv2dFilterGrad(input = dL/dy, upstream = x).
          conv2dFilterGrad(dy as T4, sx, sf.shape, stride, pad),
        ];
      },
    };
  });

// customGrad closures are cheap to build but keep one per (stride, pad, outShape).
const convCache = new Map<string, (x: T, f: T) => T>();

function conv2d(x: T, filter: T, stride: number, pad: ConvPad): T {
  const key = stride + pad;
  let fn = convCache.get(key);
  if (fn === undefined) {
    fn = conv2dCustom(stride, pad) as (x: T, f: T) => T;
    convCache.set(key, fn);
  }
  return fn(x, filter);
}

function conv2dTranspose(
  x: T,
  filter: T,
  outShape: [number, number, number, number],
  stride: number,
  pad: ConvPad,
): T {
  const key = `${outShape.join(',')}|${stride}${pad}`;
  let fn = convCache.get(key);
  if (fn === undefined) {
    fn = conv2dTransposeCustom(outShape, stride, pad) as (x: T, f: T) => T;
    convCache.set(key, fn);
  }
  return fn(x, filter);
}

/** Identity forward, zero gradient. */
const stopGradient = tf.customGrad((...args: Array<T | tf.GradSaveFunc>) => {
  const x = args[0] as T;
  return { value: tf.clone(x), gradFunc: (dy: T) => tf.zerosLike(dy) };
}) as (x: T) => T;

/** Sums a broadcast gradient back to `shape`. */
function reduceTo(g: T, shape: number[]): T {
  const axes = tf.backend_util.getReductionAxes(shape, g.shape);
  const r = axes.length > 0 ? tf.sum(g, axes) : g;
  return r.rank === shape.length ? r : tf.reshape(r, shape);
}

const minMax = (isMax: boolean) =>
  tf.customGrad((...args: Array<T | tf.GradSaveFunc>) => {
    const [a, b, save] = args as [T, T, tf.GradSaveFunc];
    save([a, b]);
    return {
      value: isMax ? tf.maximum(a, b) : tf.minimum(a, b),
      gradFunc: (dy: T, saved: T[]): T[] => {
        const [sa, sb] = saved;
        // same tie rule as tfjs: a wins ties
        const mask = tf.cast(isMax ? tf.greaterEqual(sa, sb) : tf.lessEqual(sa, sb), dy.dtype);
        const da = tf.mul(dy, mask);
        return [reduceTo(da, sa.shape), reduceTo(tf.sub(dy, da), sb.shape)];
      },
    };
  }) as (a: T, b: T) => T;

/** tf.maximum with a gradient that is correct under broadcasting. */
const maximum = minMax(true);
/** tf.minimum with a gradient that is correct under broadcasting. */
const minimum = minMax(false);

/** the backends on which an explicit transpose then a plain matMul beats the transposed matMul kernel */
const EXPLICIT_TRANSPOSE = new Set(['wasm']);

/** x with its last two axes swapped */
function swapLast(x: T): T {
  const r = x.rank;
  if (r === 2) return tf.transpose(x);
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

/** tf.matMul(a, b, transposeA, transposeB), with the transposes made explicit where that is faster */
export function matMulT(a: T, b: T, transposeA: boolean, transposeB: boolean): T {
  if (!(transposeA || transposeB) || !EXPLICIT_TRANSPOSE.has(tf.getBackend())) return tf.matMul(a, b, transposeA, transposeB);
  return tf.matMul(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b);
}

/**
 * The BatchMatMul gradient of tfjs (gradients/BatchMatMul_grad.ts), with matMulT: the same
 * products, so the same values; second-order gradients go through transpose and matMul.
 */
export const batchMatMulGrad: tf.GradConfig = {
  kernelName: 'BatchMatMul',
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [T, T];
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const g = dy as T;
    if (!transposeA && !transposeB) return { a: () => matMulT(g, b, false, true), b: () => matMulT(a, g, true, false) };
    if (!transposeA && transposeB) return { a: () => matMulT(g, b, false, false), b: () => matMulT(g, a, true, false) };
    if (transposeA && !transposeB) return { a: () => matMulT(b, g, false, true), b: () => matMulT(a, g, false, false) };
    return { a: () => matMulT(b, g, true, true), b: () => matMulT(g, a, true, true) };
  },
};
/** tfjs's own BatchMatMul gradient (transposed matMul kernels), kept for the speed bench */
export const tfjsBatchMatMulGrad: tf.GradConfig | undefined = tf.getGradient('BatchMatMul');
tf.registerGradient(batchMatMulGrad);

/** tf.matMul with broadcast batch dimensions and a correct gradient. */
const matMul = tf.customGrad((...args: Array<T | tf.GradSaveFunc>) => {
  const [a, b, save] = args as [T, T, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: T, saved: T[]): T[] => {
      const [sa, sb] = saved;
      return [reduceTo(matMulT(dy, sb, false, true), sa.shape), reduceTo(matMulT(sa, dy, true, false), sb.shape)];
    },
  };
}) as (a: T, b: T) => T;

export const tfjsGradients = {
  conv2dFilterGrad,
  conv2d,
  conv2dTranspose,
  stopGradient,
  maximum,
  minimum,
  matMul,
  reduceTo,
};
