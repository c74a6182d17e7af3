/**
 * The abstract tensor machine every node's `apply` is written against.
 *
 * Interpreters:
 * - `TfjsOps` (src-main/runtime/) executes eagerly on a tfjs backend: training, sampling, eval.
 * - `OnnxOps` (src-main/export/) records the same calls as ONNX nodes: export.
 *
 * Conventions
 * - Every tensor carries a leading batch dimension unless it is a parameter or a constant.
 * - Binary element-wise ops broadcast with numpy rules.
 * - Randomness only through `randomNormal*` / `randomUniform*`, so an interpreter can
 *   replace draws with named inputs (ONNX "noise as inputs" mode) or seed them.
 * - `shape(x)` returns the static shape where it is known; an interpreter with a symbolic
 *   batch returns -1 for that dimension. Nodes must only use it for non-batch dimensions.
 */
export type DType = 'float32' | 'int32';

export type Init =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  | { kind: 'glorot' }
  | { kind: 'normal'; std: number };

export interface ParamSpec {
  /** `${nodeId}/${local}` */
  name: string;
  shape: number[];
  init: Init;
}

export interface Ops<T> {
  readonly name: string;

  // creation
  constant(values: ArrayLike<number>, shape: number[], dtype?: DType): T;
  scalar(value: number, dtype?: DType): T;
  zerosLike(x: T): T;
  onesLike(x: T): T;
  fill(shapeOf: T, value: number): T;
  cast(x: T, dtype: DType): T;

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
  square(x: T): T;
  abs(x: T): T;
  tanh(x: T): T;
  sigmoid(x: T): T;
  /** log(1 + exp(x)), numerically stable */
  softplus(x: T): T;
  relu(x: T): T;
  leakyRelu(x: T, alpha: number): T;
  silu(x: T): T;
  sin(x: T): T;
  cos(x: T): T;
  clip(x: T, lo: number, hi: number): T;

  // reductions (axes default: all)
  sum(x: T, axes?: number[], keepDims?: boolean): T;
  mean(x: T, axes?: number[], keepDims?: boolean): T;

  // shape and linear algebra
  matmul(a: T, b: T): T;
  reshape(x: T, shape: number[]): T;
  transpose(x: T, perm?: number[]): T;
  concat(xs: T[], axis: number): T;
  /** contiguous slice along one axis; has a gradient on every backend */
  sliceAxis(x: T, axis: number, begin: number, size: number): T;
  /** gather rows of a constant table by integer indices (no gradient needed) */
  gather(table: T, indices: T): T;
  /** NHWC conv, filter [kh, kw, inC, outC]; gradients for x and filter */
  conv2d(x: T, filter: T, stride: number, pad: 'same' | 'valid'): T;
  conv2dTranspose(x: T, filter: T, outShape: number[], stride: number, pad: 'same' | 'valid'): T;
  shape(x: T): number[];

  // randomness
  randomNormal(shape: number[]): T;
  randomNormalLike(x: T): T;
  randomUniformLike(x: T): T;
  /** integers uniform in [0, n) as float32, one per batch row of x */
  randomIntLike(x: T, n: number): T;

  // autodiff and control
  stopGradient(x: T): T;
  /**
   * Runs `body` n times; carry is threaded through. `i` is the iteration number (0..n-1)
   * as an int32 scalar. Interpreters may compile this into one loop (ONNX Loop).
   */
  loop(n: number, carry: T[], body: (i: T, carry: T[]) => T[]): T[];
}
