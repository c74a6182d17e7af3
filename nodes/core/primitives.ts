/**
 * The primitive tensor operations: the part of `Ops` every interpreter implements, one rule
 * per primitive in an exhaustive table (`Rules`). Everything else in `Ops` (square, silu,
 * leakyRelu, mean, zerosLike, scalar, grad ...) is written once over these, in `OpsBase`
 * (ops.ts), and every primitive has a reverse-mode rule in `VJP` (grad.ts).
 *
 * Conventions are those of ops.ts: a leading batch dimension, numpy broadcasting for the
 * binary ops, randomness only through the random* primitives.
 */
import type { DType } from './ops';

export type ConvPad = 'same' | 'valid';

export interface PrimSigs<T> {
  // creation
  constant(values: ArrayLike<number>, shape: number[], dtype?: DType): T;
  /** float32 tensor of x's shape filled with value */
  fill(shapeOf: T, value: number): T;
  cast(x: T, dtype: DType): T;
  /** y = x as a distinct value (gradient 1) */
  identity(x: T): T;

  // element-wise binary (broadcasting)
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  maximum(a: T, b: T): T;
  minimum(a: T, b: T): T;

  // element-wise unary
  neg(x: T): T;
  exp(x: T): T;
  log(x: T): T;
  sqrt(x: T): T;
  abs(x: T): T;
  /** -1, 0 or 1 */
  sign(x: T): T;
  /** 1 where x > 0, else 0 (float32) */
  step(x: T): T;
  tanh(x: T): T;
  sigmoid(x: T): T;
  /** log(1 + exp(x)), numerically stable */
  softplus(x: T): T;
  relu(x: T): T;
  sin(x: T): T;
  cos(x: T): T;
  clip(x: T, lo: number, hi: number): T;

  // reductions (axes default: all)
  sum(x: T, axes?: number[], keepDims?: boolean): T;

  // shape and linear algebra
  /** [..., M, K] x [..., K, N], batch dimensions broadcast */
  matmul(a: T, b: T): T;
  reshape(x: T, shape: number[]): T;
  transpose(x: T, perm?: number[]): T;
  concat(xs: T[], axis: number): T;
  /** contiguous slice along one axis; size -1: to the end */
  sliceAxis(x: T, axis: number, begin: number, size: number): T;
  /**
   * rows of `table` (axis 0) at integer-valued indices; ops.grad differentiates the table,
   * tfjs autodiff only off wasm (the trainer's tables are constants)
   */
  gather(table: T, indices: T): T;
  /** NHWC conv, filter [kh, kw, inC, outC] */
  conv2d(x: T, filter: T, stride: number, pad: ConvPad): T;
  /**
   * Filter [kh, kw, outC, inC] (the filter of the conv2d this op is the transpose of).
   * outShape is [H, W, C] or [B|-1, H, W, C]; the batch comes from x.
   */
  conv2dTranspose(x: T, filter: T, outShape: number[], stride: number, pad: ConvPad): T;
  /**
   * The filter gradient of conv2d(x, W, stride, pad) at upstream dy:
   * dW[kh, kw, ci, co] = sum_{n, oh, ow} xPad[n, oh*s + kh, ow*s + kw, ci] dy[n, oh, ow, co].
   */
  conv2dFilterGrad(x: T, dy: T, filterShape: number[], stride: number, pad: ConvPad): T;

  // randomness
  randomNormal(shape: number[]): T;
  randomNormalLike(x: T): T;
  randomUniformLike(x: T): T;
  /** integers uniform in [0, n) as float32, one per batch row of x */
  randomIntLike(x: T, n: number): T;

  /** identity forward, zero gradient (in `grad` and in the trainer's autodiff) */
  stopGradient(x: T): T;
}

export type Primitive = keyof PrimSigs<unknown>;

/** the rule of one primitive in an interpreter: its signature with the interpreter first */
export type Rule<T, Self, K extends Primitive> = (self: Self, ...args: Parameters<PrimSigs<T>[K]>) => ReturnType<PrimSigs<T>[K]>;

/** one rule per primitive: a primitive without a rule does not compile */
export type Rules<T, Self> = { readonly [K in Primitive]: Rule<T, Self, K> };

const NAMES: { readonly [K in Primitive]: null } = {
  constant: null,
  fill: null,
  cast: null,
  identity: null,
  add: null,
  sub: null,
  mul: null,
  div: null,
  maximum: null,
  minimum: null,
  neg: null,
  exp: null,
  log: null,
  sqrt: null,
  abs: null,
  sign: null,
  step: null,
  tanh: null,
  sigmoid: null,
  softplus: null,
  relu: null,
  sin: null,
  cos: null,
  clip: null,
  sum: null,
  matmul: null,
  reshape: null,
  transpose: null,
  concat: null,
  sliceAxis: null,
  gather: null,
  conv2d: null,
  conv2dTranspose: null,
  conv2dFilterGrad: null,
  randomNormal: null,
  randomNormalLike: null,
  randomUniformLike: null,
  randomIntLike: null,
  stopGradient: null,
};

/** every primitive, once */
export const PRIMITIVES = Object.freeze(Object.keys(NAMES) as Primitive[]);
