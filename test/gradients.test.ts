/**
 * Reverse mode (`ops.grad`): the VJP of every primitive against central finite differences
 * on TfjsOps (cpu and wasm), the same gradients recorded through OnnxOps and run by
 * onnxruntime-node against tfjs (<= 1e-4), nested gradients, tfjs's autodiff through
 * ops.grad (a gradient penalty), an exact divergence, broadcasting, and gradients inside
 * (ONNX, tfjs) and through (tfjs) loops.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { VJP } from '../nodes/core/grad';
import type { GradOpName, Ops } from '../nodes/core/ops';
import { PRIMITIVES, type Primitive } from '../nodes/core/primitives';
import { buildModel, checkParity, type Fill, type IoSpec, type Recipe, type RunCtx, type WeightSource } from '../src-main/export/harness';
import { BATCH, OnnxOps, type NoiseMode, type OpName } from '../src-main/export/OnnxOps';
import { OnnxUnsupportedError } from '../src-main/export/errors';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { expectCheckerPasses } from './onnxChecker';

type F = <T>(o: Ops<T>, ...xs: T[]) => T;
/** any: U(-1.5, 1.5); off: >= 0.15 away from multiples of 1/2; on: within 0.1 of one; pos: U(0, 1); idx: integers in [0, T) */
type Gen = 'any' | 'off' | 'on' | 'pos' | 'idx';
interface In {
  shape: number[];
  /** the first dimension is the batch (an ONNX input); otherwise a parameter */
  batch: boolean;
  gen: Gen;
  T?: number;
}
interface Case {
  f: F;
  inputs: In[];
  /** inputs to differentiate (default: all) */
  wrt?: number[];
  /** the gradient is zero by definition: checked exactly, not by finite differences */
  zero?: boolean;
  eps?: number;
}

const bIn = (shape: number[], gen: Gen = 'any'): In => ({ shape, batch: true, gen });
const pIn = (shape: number[], gen: Gen = 'any'): In => ({ shape, batch: false, gen });
const idxIn = (T: number): In => ({ shape: [], batch: true, gen: 'idx', T });

const convOut = (h: number, k: number, s: number, pad: 'same' | 'valid') => (pad === 'same' ? Math.ceil(h / s) : Math.floor((h - k) / s) + 1);

/** one or more cases per primitive: an exhaustive mapped type */
const PRIM_CASES: { [K in Primitive]: Record<string, Case> } = {
  constant: { 'no inputs': { f: (o, x) => o.add(o.constant([1, 2, 3], [3]), o.mul(o.stopGradient(x), o.scalar(0))), inputs: [bIn([3])], zero: true } },
  fill: { 'shape only': { f: (o, x) => o.fill(x, 2), inputs: [bIn([3])], zero: true } },
  cast: {
    'float32 -> float32': { f: (o, x) => o.cast(o.mul(x, x), 'float32'), inputs: [bIn([3])] },
    'through int32: zero': { f: (o, x) => o.cast(o.cast(o.mul(x, o.scalar(3)), 'int32'), 'float32'), inputs: [bIn([3])], zero: true },
  },
  identity: { '': { f: (o, x) => o.identity(o.sin(x)), inputs: [bIn([3])] } },
  add: {
    'same shape': { f: (o, a, b) => o.add(a, b), inputs: [bIn([3]), bIn([3])] },
    '[B, 3] + [3]': { f: (o, a, b) => o.add(a, b), inputs: [bIn([3]), pIn([3])] },
    '[B, 1] + [1, 3] + scalar': { f: (o, a, b, c) => o.add(o.add(a, b), c), inputs: [bIn([1]), pIn([1, 3]), pIn([])] },
  },
  sub: { '[3] - [B, 3]': { f: (o, a, b) => o.sub(a, b), inputs: [pIn([3]), bIn([3])] } },
  mul: {
    '[B, 2, 3] * [3]': { f: (o, a, b) => o.mul(a, b), inputs: [bIn([2, 3]), pIn([3])] },
    'x * x': { f: (o, x) => o.mul(x, x), inputs: [bIn([3])] },
  },
  div: {
    '[B, 3] / [3]': { f: (o, a, b) => o.div(a, o.add(b, o.scalar(0.5))), inputs: [bIn([3]), pIn([3], 'pos')] },
    '[3] / [B, 3]': { f: (o, a, b) => o.div(a, o.add(b, o.scalar(0.5))), inputs: [pIn([3]), bIn([3], 'pos')] },
  },
  maximum: {
    'same shape': { f: (o, a, b) => o.maximum(a, b), inputs: [bIn([3], 'off'), bIn([3], 'on')] },
    '[B, 1] vs [1, 3]': { f: (o, a, b) => o.maximum(a, b), inputs: [bIn([1], 'off'), pIn([1, 3], 'on')] },
  },
  minimum: {
    'same shape': { f: (o, a, b) => o.minimum(a, b), inputs: [bIn([3], 'on'), bIn([3], 'off')] },
    '[B, 3] vs scalar': { f: (o, a, b) => o.minimum(a, b), inputs: [bIn([3], 'off'), pIn([], 'on')] },
  },
  neg: { '': { f: (o, x) => o.neg(x), inputs: [bIn([3])] } },
  exp: { '': { f: (o, x) => o.exp(x), inputs: [bIn([3])] } },
  log: { '': { f: (o, x) => o.log(o.add(x, o.scalar(0.2))), inputs: [bIn([3], 'pos')] } },
  sqrt: { '': { f: (o, x) => o.sqrt(o.add(x, o.scalar(0.2))), inputs: [bIn([3], 'pos')] } },
  abs: { '': { f: (o, x) => o.abs(x), inputs: [bIn([3], 'off')] } },
  sign: { 'zero a.e.': { f: (o, x) => o.sign(x), inputs: [bIn([3], 'off')], zero: true } },
  step: { 'zero a.e.': { f: (o, x) => o.step(x), inputs: [bIn([3], 'off')], zero: true } },
  tanh: { '': { f: (o, x) => o.tanh(x), inputs: [bIn([3])] } },
  sigmoid: { '': { f: (o, x) => o.sigmoid(o.mul(x, o.scalar(2))), inputs: [bIn([3])] } },
  softplus: { '': { f: (o, x) => o.softplus(o.mul(x, o.scalar(3))), inputs: [bIn([3])] } },
  relu: { '': { f: (o, x) => o.relu(x), inputs: [bIn([3], 'off')] } },
  sin: { '': { f: (o, x) => o.sin(o.mul(x, o.scalar(2))), inputs: [bIn([3])] } },
  cos: { '': { f: (o, x) => o.cos(o.mul(x, o.scalar(2))), inputs: [bIn([3])] } },
  clip: { '': { f: (o, x) => o.clip(x, -0.5, 1), inputs: [bIn([4], 'off')] } },
  sum: {
    all: { f: (o, x) => o.sum(x), inputs: [bIn([2, 3])] },
    'axis 1': { f: (o, x) => o.sum(x, [1]), inputs: [bIn([2, 3])] },
    'axes [0, -1] keepDims': { f: (o, x) => o.sum(x, [0, -1], true), inputs: [bIn([2, 3])] },
    'parameter axis 0': { f: (o, x) => o.sum(x, [0]), inputs: [pIn([2, 3])] },
  },
  matmul: {
    '[B, 3] x [3, 4]': { f: (o, a, b) => o.matmul(a, b), inputs: [bIn([3]), pIn([3, 4])] },
    '[B, 2, 3] x [3, 2]': { f: (o, a, b) => o.matmul(a, b), inputs: [bIn([2, 3]), pIn([3, 2])] },
    '[B, 2, 3] x [1, 3, 2]': { f: (o, a, b) => o.matmul(a, b), inputs: [bIn([2, 3]), pIn([1, 3, 2])] },
    '[2, 3] x [B, 3, 2]': { f: (o, a, b) => o.matmul(a, b), inputs: [pIn([2, 3]), bIn([3, 2])] },
    '[B, 2, 3] x [B, 3, 2]': { f: (o, a, b) => o.matmul(a, b), inputs: [bIn([2, 3]), bIn([3, 2])] },
  },
  reshape: {
    '[B, 6] -> [-1, 2, 3]': { f: (o, x) => o.reshape(x, [-1, 2, 3]), inputs: [bIn([6])] },
    '[2, 3] -> [6]': { f: (o, x) => o.reshape(x, [6]), inputs: [pIn([2, 3])] },
  },
  transpose: {
    'perm [0, 2, 1]': { f: (o, x) => o.transpose(x, [0, 2, 1]), inputs: [bIn([2, 3])] },
    'default (reverse)': { f: (o, x) => o.transpose(x), inputs: [pIn([2, 3, 4])] },
    'perm [1, 2, 0]': { f: (o, x) => o.transpose(x, [1, 2, 0]), inputs: [pIn([2, 3, 4])] },
  },
  concat: {
    'axis 1': { f: (o, a, b) => o.concat([a, b, a], 1), inputs: [bIn([3]), bIn([2])] },
    'axis -1 with a parameter': { f: (o, a, p) => o.concat([a, o.add(o.sliceAxis(a, -1, 0, 1), p)], -1), inputs: [bIn([2, 2]), pIn([2, 3])] },
    'axis 0 of parameters': { f: (o, a, b) => o.concat([a, b], 0), inputs: [pIn([2, 3]), pIn([1, 3])] },
  },
  sliceAxis: {
    'middle of axis 1': { f: (o, x) => o.sliceAxis(x, 1, 1, 2), inputs: [bIn([4])] },
    'to the end': { f: (o, x) => o.sliceAxis(x, 1, 2, -1), inputs: [bIn([4])] },
    'start, axis -1 of 4-D': { f: (o, x) => o.sliceAxis(x, -1, 0, 1), inputs: [bIn([2, 2, 3])] },
    'parameter axis 0': { f: (o, x) => o.sliceAxis(x, 0, 1, 1), inputs: [pIn([3, 2])] },
  },
  gather: {
    'table [6, 2] at [B] indices': { f: (o, t, i) => o.gather(t, i), inputs: [pIn([6, 2]), idxIn(6)], wrt: [0] },
    'table [5] at [B]': { f: (o, t, i) => o.gather(t, i), inputs: [pIn([5]), idxIn(5)], wrt: [0] },
  },
  conv2d: Object.fromEntries(
    (
      [
        [5, 3, 1, 'same'],
        [6, 3, 2, 'same'],
        [6, 2, 2, 'same'],
        [5, 3, 1, 'valid'],
        [7, 3, 2, 'valid'],
      ] as const
    ).map(([h, k, s, pad]) => [`${h}x${h}, k ${k}, stride ${s}, ${pad}`, { f: (o, x, w) => o.conv2d(x, w, s, pad), inputs: [bIn([h, h, 2]), pIn([k, k, 2, 3])], eps: 0.1 } as Case]),
  ),
  conv2dTranspose: {
    '3x3 -> 5x5 stride 2 same': { f: (o, x, w) => o.conv2dTranspose(x, w, [5, 5, 2], 2, 'same'), inputs: [bIn([3, 3, 3]), pIn([3, 3, 2, 3])], eps: 0.1 },
    '3x3 -> 8x8 stride 2 valid': { f: (o, x, w) => o.conv2dTranspose(x, w, [-1, 8, 8, 2], 2, 'valid'), inputs: [bIn([3, 3, 3]), pIn([3, 3, 2, 3])], eps: 0.1 },
    '4x4 -> 4x4 stride 1 same': { f: (o, x, w) => o.conv2dTranspose(x, w, [4, 4, 2], 1, 'same'), inputs: [bIn([4, 4, 3]), pIn([2, 2, 2, 3])], eps: 0.1 },
  },
  conv2dFilterGrad: Object.fromEntries(
    (
      [
        [5, 3, 1, 'same'],
        [6, 3, 2, 'same'],
        [7, 3, 2, 'valid'],
        [6, 1, 2, 'same'],
      ] as const
    ).map(([h, k, s, pad]) => {
      const oh = convOut(h, k, s, pad);
      return [`${h}x${h}, k ${k}, stride ${s}, ${pad}`, { f: (o, x, dy) => o.conv2dFilterGrad(x, dy, [k, k, 2, 3], s, pad), inputs: [bIn([h, h, 2]), bIn([oh, oh, 3])], eps: 0.1 } as Case];
    }),
  ),
  randomNormal: { '': { f: (o, x) => o.add(o.mul(x, o.scalar(0)), o.randomNormal([3])), inputs: [pIn([3])], zero: true } },
  randomNormalLike: { '': { f: (o, x) => o.randomNormalLike(x), inputs: [bIn([3])], zero: true } },
  randomUniformLike: { '': { f: (o, x) => o.randomUniformLike(x), inputs: [bIn([3])], zero: true } },
  randomIntLike: { '': { f: (o, x) => o.randomIntLike(x, 5), inputs: [bIn([3])], zero: true } },
  stopGradient: { '': { f: (o, x) => o.stopGradient(x), inputs: [bIn([3])], zero: true } },
};

/** composites of OpsBase (their gradients come from the primitives') */
const COMPOSITE_CASES: Record<string, Case> = {
  square: { f: (o, x) => o.square(x), inputs: [bIn([3])] },
  'leakyRelu 0.2': { f: (o, x) => o.leakyRelu(x, 0.2), inputs: [bIn([3], 'off')] },
  'leakyRelu 1.5': { f: (o, x) => o.leakyRelu(x, 1.5), inputs: [bIn([3], 'off')] },
  silu: { f: (o, x) => o.silu(x), inputs: [bIn([3])] },
  'mean all (over the batch)': { f: (o, x) => o.mean(x), inputs: [bIn([3])] },
  'mean axis 1 keepDims': { f: (o, x) => o.mean(x, [1], true), inputs: [bIn([2, 3])] },
  'mean axis 0 of a parameter': { f: (o, x) => o.mean(x, [0]), inputs: [pIn([2, 3])] },
  zerosLike: { f: (o, x) => o.zerosLike(x), inputs: [bIn([3])], zero: true },
  onesLike: { f: (o, x) => o.onesLike(x), inputs: [bIn([3])], zero: true },
};

/** a small MLP energy E(x) = sum(w2 . tanh(x W1 + b1)) per row, and variants */
const mlp = <T,>(o: Ops<T>, x: T, w1: T, b1: T, w2: T) => o.sum(o.mul(o.tanh(o.add(o.matmul(x, w1), b1)), w2), [1]);

/** nested: the inner gradient is differentiated again (second order through every rule it uses) */
const SECOND_ORDER_CASES: Record<string, Case> = {
  'd/dx sum(grad_x sum(x^3)) = 6x': { f: (o, x) => o.grad((y) => o.sum(o.mul(o.mul(y, y), y)), x), inputs: [bIn([3])] },
  'grad_x of a tanh MLP, w.r.t. x and weights': {
    f: (o, x, w1, b1, w2) => o.grad((y) => mlp(o, y, w1, b1, w2), x),
    inputs: [bIn([2]), pIn([2, 5]), pIn([5]), pIn([5])],
  },
  'grad_x through softplus, sigmoid, exp, log, sqrt, div': {
    f: (o, x, w) => {
      const g = o.grad((y) => {
        const h = o.matmul(y, w);
        return o.add(o.div(o.softplus(h), o.add(o.exp(o.neg(o.square(h))), o.scalar(1))), o.mul(o.log(o.add(o.sigmoid(h), o.scalar(0.5))), o.sqrt(o.add(o.square(h), o.scalar(1)))));
      }, x);
      return g;
    },
    inputs: [bIn([3]), pIn([3, 2])],
  },
  'grad_x through sin, cos, silu, mean, concat, sliceAxis, transpose, reshape': {
    f: (o, x, w) =>
      o.grad((y) => {
        const z = o.concat([o.sin(y), o.cos(o.sliceAxis(y, 1, 1, 2))], 1);
        const r = o.transpose(o.reshape(o.matmul(z, w), [-1, 2, 2]), [0, 2, 1]);
        return o.mean(o.silu(o.reshape(r, [-1, 4])), [1]);
      }, x),
    inputs: [bIn([3]), pIn([5, 4])],
  },
  'grad_x of a conv net, w.r.t. x and filters': {
    f: (o, x, w, wt) =>
      o.grad((y) => {
        const h = o.softplus(o.conv2d(y, w, 2, 'same'));
        return o.sum(o.tanh(o.conv2dTranspose(h, wt, [5, 5, 1], 2, 'same')), [1, 2, 3]);
      }, x),
    inputs: [bIn([5, 5, 1]), pIn([3, 3, 1, 2]), pIn([3, 3, 1, 2])],
    eps: 0.03,
  },
  'grad_x through gather, broadcasting and maximum': {
    f: (o, x, t, i, p) => o.grad((y) => o.mul(o.maximum(o.add(y, p), o.scalar(-2)), o.sum(o.mul(o.gather(t, i), y), [1], true)), x),
    inputs: [bIn([2]), pIn([4, 2]), idxIn(4), pIn([2])],
    wrt: [0, 1, 3],
  },
};

/** grad, grads and vjp themselves */
const API_CASES: Record<string, Case> = {
  'grads of two inputs': { f: (o, a, b) => o.concat(o.grads((x, y) => o.mul(o.sin(x), o.exp(y)), [a, b]), 1), inputs: [bIn([2]), bIn([2])] },
  'vjp with a cotangent': { f: (o, a, c) => o.vjp((x) => o.tanh(o.mul(x, o.scalar(2))), a, c), inputs: [bIn([3]), bIn([3])] },
  'grad of a function closing over its argument': { f: (o, a) => o.grad((x) => o.mul(o.sin(x), a), a), inputs: [bIn([3])] },
  'grad of a constant function is zero': { f: (o, a) => o.add(a, o.grad(() => o.scalar(1), a)), inputs: [bIn([3])] },
};

/** every Ops member that came with reverse mode has an ONNX parity case */
const GRAD_OP_CASES: { [K in GradOpName]: Case } = {
  identity: PRIM_CASES.identity['']!,
  sign: { f: (o, x) => o.sign(x), inputs: [bIn([3], 'off')] },
  step: { f: (o, x) => o.step(x), inputs: [bIn([3], 'off')] },
  conv2dFilterGrad: PRIM_CASES.conv2dFilterGrad['6x6, k 3, stride 2, same']!,
  grad: SECOND_ORDER_CASES['d/dx sum(grad_x sum(x^3)) = 6x']!,
  grads: API_CASES['grads of two inputs']!,
  vjp: API_CASES['vjp with a cotangent']!,
};

// ------------------------------------------------------------------ machinery

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** deterministic uniform numbers in [0, 1) */
function uniforms(n: number, seed: number): number[] {
  let s = (seed * 2654435761) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push((s >>> 8) / 16777216);
  }
  return out;
}

function values(inp: In, n: number, seed: number): number[] {
  const u = uniforms(n * 2, seed);
  return Array.from({ length: n }, (_, i) => {
    const a = u[2 * i]!;
    const b = u[2 * i + 1]!;
    switch (inp.gen) {
      case 'any':
        return -1.5 + 3 * a;
      case 'off':
        return 0.5 * (Math.floor(a * 6) - 3) + 0.25 + 0.2 * (b - 0.5);
      case 'on':
        return 0.5 * (Math.floor(a * 6) - 3) + 0.2 * (b - 0.5);
      case 'pos':
        return a;
      case 'idx':
        return Math.floor(a * inp.T!);
    }
  });
}

/** the weight of the test loss L = sum(f(x) * w(f(x))), held constant: w in [0.5, 1.5], varied */
const weight = <T,>(o: Ops<T>, y: T) => o.add(o.scalar(1), o.mul(o.scalar(0.5), o.sin(o.add(o.mul(y, o.scalar(7)), o.scalar(1)))));

/** the gradients of L with respect to every input (what is compared) */
function lossGrads<T>(o: Ops<T>, c: Case, xs: T[]): T[] {
  return o.grads((...ys) => {
    const y = c.f(o, ...ys);
    return o.sum(o.mul(y, o.stopGradient(weight(o, y))));
  }, xs);
}

const B_FD = 2;
const shapeOf = (inp: In, n: number) => (inp.batch ? [n, ...inp.shape] : inp.shape);

/** analytic (ops.grads on TfjsOps) against central differences of sum(f(x) * w0), w0 fixed at x */
function fdCheck(ops: TfjsOps, c: Case, seed: number): { maxErr: number } {
  const shapes = c.inputs.map((i) => shapeOf(i, B_FD));
  const xs0 = c.inputs.map((inp, k) => values(inp, prod(shapes[k]!), seed + 17 * k));
  const wrt = c.wrt ?? c.inputs.map((_, k) => k);
  const { grads, w0 } = tf.tidy(() => {
    const xs = xs0.map((v, k) => tf.tensor(v, shapes[k]));
    const gs = lossGrads(ops, c, xs);
    const y = c.f(ops, ...xs);
    return { grads: gs.map((g) => Array.from(g.dataSync())), w0: Array.from(weight(ops, y).dataSync()) };
  });
  grads.forEach((g, k) => expect(g.length, `gradient ${k} has the input's size`).toBe(xs0[k]!.length));
  if (c.zero) {
    for (const k of wrt) expect(grads[k]!.every((v) => v === 0), `gradient ${k} is zero`).toBe(true);
    return { maxErr: 0 };
  }
  const loss = (vs: number[][]): number =>
    tf.tidy(() => {
      const d = c.f(ops, ...vs.map((v, k) => tf.tensor(v, shapes[k]))).dataSync();
      let acc = 0;
      for (let i = 0; i < d.length; i++) acc += d[i]! * w0[i]!;
      return acc;
    });
  const eps = c.eps ?? 1e-2;
  let maxErr = 0;
  for (const k of wrt) {
    const numeric = xs0[k]!.map((_, i) => {
      const plus = xs0.map((v) => v.slice());
      const minus = xs0.map((v) => v.slice());
      plus[k]![i]! += eps;
      minus[k]![i]! -= eps;
      return (loss(plus) - loss(minus)) / (2 * eps);
    });
    const scale = Math.max(1, ...numeric.map(Math.abs));
    numeric.forEach((want, i) => {
      const got = grads[k]![i]!;
      const err = Math.abs(got - want);
      maxErr = Math.max(maxErr, err / scale);
      if (!(err <= 2e-3 * scale + 1e-2 * Math.abs(want))) {
        throw new Error(`d/dx${k}[${i}]: vjp ${got}, finite differences ${want}\n vjp ${grads[k]}\n fd  ${numeric}`);
      }
    });
  }
  return { maxErr };
}

const fillOf = (inp: In): Fill => (inp.gen === 'pos' ? { kind: 'uniform' } : inp.gen === 'idx' ? { kind: 'steps', T: inp.T! } : { kind: 'normal' });

/** parameters for parity runs: deterministic, in the input's domain */
function paramSource(c: Case): WeightSource {
  return (name, shape) => {
    const k = Number(name.slice(1));
    return Float32Array.from(values(c.inputs[k]!, prod(shape), 1000 + k));
  };
}

function recipeOf(title: string, c: Case): Recipe {
  const inputs: IoSpec[] = [];
  c.inputs.forEach((inp, k) => {
    if (inp.batch) inputs.push({ name: `x${k}`, shape: [BATCH, ...inp.shape], dtype: 'float32', doc: `input ${k}`, fill: fillOf(inp) });
  });
  return {
    title,
    inputs,
    outputDocs: {},
    countInput: false,
    run: <T,>(ctx: RunCtx<T>) => {
      const xs = c.inputs.map((inp, k) => (inp.batch ? ctx.inputs[`x${k}`]! : ctx.param(`p${k}`, inp.shape)));
      const out: Record<string, T> = { y: c.f(ctx.ops, ...xs) };
      lossGrads(ctx.ops, c, xs).forEach((g, k) => (out[`g${k}`] = g));
      return out;
    },
  };
}

/** records the case's gradients with OnnxOps, runs them with onnxruntime, compares with tfjs */
async function onnxParity(title: string, c: Case, noise: NoiseMode = 'inputs') {
  const recipe = recipeOf(title, c);
  const weights = paramSource(c);
  const model = buildModel(recipe, weights, noise, { doc: title, metadata: {}, producerVersion: 'test' });
  const r = await checkParity(recipe, weights, model, { n: 3, seed: 5 });
  expect(r.problems).toEqual([]);
  expect(r.maxError, JSON.stringify(r.outputs)).toBeLessThanOrEqual(1e-4);
  expect(r.pass).toBe(true);
  models.push({ name: `${title}-${noise}`.replace(/[^A-Za-z0-9_-]+/g, '_'), bytes: model.bytes });
  return { r, model };
}

/** every recorded model, for the ONNX checker */
const models: { name: string; bytes: Uint8Array }[] = [];

const flat = (cases: Record<string, Record<string, Case>>): [string, Case][] =>
  Object.entries(cases).flatMap(([p, cs]) => Object.entries(cs).map(([n, c]) => [n ? `${p}: ${n}` : p, c] as [string, Case]));

const ALL: [string, Case][] = [
  ...flat(PRIM_CASES),
  ...Object.entries(COMPOSITE_CASES).map(([n, c]) => [`composite ${n}`, c] as [string, Case]),
  ...Object.entries(SECOND_ORDER_CASES).map(([n, c]) => [`nested: ${n}`, c] as [string, Case]),
  ...Object.entries(API_CASES).map(([n, c]) => [`api: ${n}`, c] as [string, Case]),
];

// ------------------------------------------------------------------ tests

beforeAll(async () => {
  await initBackend('wasm'); // registers wasm
  await initBackend('cpu');
});

describe('the tables are exhaustive and consistent', () => {
  it('every primitive has a rule in VJP, either a function or an explicit no-gradient reason', () => {
    for (const p of PRIMITIVES) {
      const r = VJP[p];
      expect(typeof r === 'function' || (typeof r === 'object' && r.noGrad.length > 0), p).toBe(true);
    }
    expect(Object.keys(VJP).sort()).toEqual([...PRIMITIVES].sort());
  });

  it('a primitive has zero-gradient cases only when its VJP says it has no gradient', () => {
    for (const p of PRIMITIVES) {
      const cases = Object.values(PRIM_CASES[p]);
      expect(cases.length, p).toBeGreaterThan(0);
      if (typeof VJP[p] !== 'function') expect(cases.every((c) => c.zero), p).toBe(true);
      else expect(cases.some((c) => !c.zero), p).toBe(true);
    }
  });

  it('Ops is the per-op ONNX cases plus the reverse-mode members', () => {
    // a member in neither list does not compile here
    const none: Exclude<keyof Ops<unknown>, 'name' | OpName | GradOpName> | undefined = undefined;
    expect(none).toBeUndefined();
    expect(Object.keys(GRAD_OP_CASES).length).toBe(7);
  });

  it('no gradient tape outside grad: the fast path', () => {
    const ops = new TfjsOps({ seed: 0 });
    expect(ops.tape).toBeNull();
    tf.tidy(() => {
      ops.grad((x) => ops.sum(ops.mul(x, x)), tf.ones([2]));
    });
    expect(ops.tape).toBeNull();
  });
});

describe.each(['cpu', 'wasm'])('vjp against central finite differences, TfjsOps on %s', (backend) => {
  let ops: TfjsOps;
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    ops = new TfjsOps({ seed: 1 });
  });
  it.each(ALL)('%s', (_name, c) => {
    fdCheck(ops, c, 11);
    fdCheck(ops, c, 29);
  });
});

describe('the same gradients recorded as ONNX (onnxruntime) equal tfjs (<= 1e-4)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  it.each(ALL)('%s', async (name, c) => {
    await onnxParity(name, c);
  });
  it.each(Object.entries(GRAD_OP_CASES))('member %s', async (name, c) => {
    await onnxParity(name, c, 'internal');
  });
});

describe('reverse mode in use', () => {
  let ops: TfjsOps;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    ops = new TfjsOps({ seed: 2 });
  });

  it('nested: d/dx sum(grad_x sum(x^3)) = 6x exactly', () => {
    tf.tidy(() => {
      const x = tf.tensor([[-1.5, 0.25, 2]]);
      const h = ops.grad((y) => ops.sum(ops.grad((z) => ops.sum(ops.mul(ops.mul(z, z), z)), y)), x);
      const g = ops.grad((z) => ops.sum(ops.mul(ops.mul(z, z), z)), x);
      expect(Array.from(g.dataSync())).toEqual([6.75, 0.1875, 12]);
      expect(Array.from(h.dataSync())).toEqual([-9, 1.5, 12]);
      // third order: d/dx sum(d/dx sum(grad)) = 6
      const t = ops.grad((y) => ops.sum(ops.grad((u) => ops.sum(ops.grad((z) => ops.sum(ops.mul(ops.mul(z, z), z)), u)), y)), x);
      expect(Array.from(t.dataSync())).toEqual([6, 6, 6]);
    });
  });

  it('broadcasting: a [d] parameter added to a [B, d] input', () => {
    tf.tidy(() => {
      const x = tf.tensor([
        [0.1, -0.4, 0.9],
        [1.2, 0.3, -0.7],
      ]);
      const p = tf.tensor([0.5, -0.2, 0.05]);
      const [gx, gp] = ops.grads((a, b) => ops.sum(ops.tanh(ops.add(a, b))), [x, p]);
      const d = tf.sub(1, tf.square(tf.tanh(tf.add(x, p))));
      expect(gx!.shape).toEqual([2, 3]);
      expect(gp!.shape).toEqual([3]);
      expect(tf.max(tf.abs(tf.sub(gx!, d))).dataSync()[0]).toBeLessThan(1e-6);
      expect(tf.max(tf.abs(tf.sub(gp!, tf.sum(d, 0)))).dataSync()[0]).toBeLessThan(1e-6);
    });
  });

  it('stopGradient: a distinct untracked value, d/dx [sg(x) x + x] = x + 1', () => {
    tf.tidy(() => {
      const x = tf.tensor([1, -2, 3]);
      let sg: tf.Tensor | undefined;
      const g = ops.grad((y) => {
        sg = ops.stopGradient(y);
        expect(sg).not.toBe(y);
        return ops.add(ops.mul(sg, y), y);
      }, x);
      expect(Array.from(g.dataSync())).toEqual([2, -1, 4]);
    });
  });

  /** tf.variableGrads of mean_rows (||grad_x D(x)|| - 1)^2 against finite differences on every weight */
  function penaltyCheck(vars: tf.Variable[], x: tf.Tensor, critic: (y: tf.Tensor) => tf.Tensor) {
    const axes = x.shape.slice(1).map((_, i) => i + 1);
    const penalty = () =>
      tf.tidy(() => {
        const g = ops.grad(critic, x);
        const norm = ops.sqrt(ops.add(ops.sum(ops.square(g), axes), ops.scalar(1e-12)));
        return ops.mean(ops.square(ops.sub(norm, ops.scalar(1)))) as tf.Scalar;
      });
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(penalty, vars);
    const analytic = vars.map((v) => Array.from(grads[v.name]!.dataSync()));
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    const eps = 1e-2;
    const set = (v: tf.Variable, p: number[]) => {
      const t = tf.tensor(p, v.shape);
      v.assign(t);
      t.dispose();
    };
    vars.forEach((v, k) => {
      const base = Array.from(v.dataSync());
      const numeric = base.map((_, i) => {
        const at = (delta: number) => {
          const p = base.slice();
          p[i]! += delta;
          set(v, p);
          const l = penalty();
          const r = l.dataSync()[0]!;
          l.dispose();
          return r;
        };
        const r = (at(eps) - at(-eps)) / (2 * eps);
        set(v, base);
        return r;
      });
      const scale = Math.max(1, ...numeric.map(Math.abs));
      numeric.forEach((want, i) => expect(Math.abs(analytic[k]![i]! - want), `weight ${k}[${i}]: ${analytic[k]![i]} vs ${want}`).toBeLessThan(2e-3 * scale + 1e-2 * Math.abs(want)));
      expect(analytic[k]!.some((a) => Math.abs(a) > 1e-3)).toBe(true);
    });
  }

  it.each(['cpu', 'wasm'])('tfjs variableGrads differentiates through ops.grad: a gradient penalty (WGAN-GP), MLP critic, against finite differences (%s)', async (backend) => {
    await tf.setBackend(backend);
    const w1 = tf.variable(tf.tensor(values(pIn([2, 6]), 12, 3).map((v) => v * 0.8), [2, 6]));
    const b1 = tf.variable(tf.tensor(values(pIn([6]), 6, 4).map((v) => v * 0.3), [6]));
    const w2 = tf.variable(tf.tensor(values(pIn([6, 1]), 6, 5), [6, 1]));
    const x = tf.tensor(values(bIn([2]), 10, 6), [5, 2]);
    penaltyCheck([w1, b1, w2], x, (y) => ops.sum(ops.matmul(ops.softplus(ops.add(ops.matmul(y, w1), b1)), w2), [1]));
    tf.dispose([w1, b1, w2, x]);
    await tf.setBackend('cpu');
  });

  it.each(['cpu', 'wasm'])('the same with a conv critic (%s)', async (backend) => {
    await tf.setBackend(backend);
    const w1 = tf.variable(tf.tensor(values(pIn([3, 3, 1, 2]), 18, 13).map((v) => v * 0.6), [3, 3, 1, 2]));
    const w2 = tf.variable(tf.tensor(values(pIn([2]), 2, 14), [2]));
    const x = tf.tensor(values(bIn([4, 4, 1]), 48, 15), [3, 4, 4, 1]);
    penaltyCheck([w1, w2], x, (y) => ops.sum(ops.mul(ops.softplus(ops.conv2d(y, w1, 2, 'same')), w2), [1, 2, 3]));
    tf.dispose([w1, w2, x]);
    await tf.setBackend('cpu');
  });

  it('an exact 2-D divergence sum_i dv_i/dx_i of a random MLP against finite differences', () => {
    const w1 = tf.tensor(values(pIn([2, 8]), 16, 7), [2, 8]);
    const b1 = tf.tensor(values(pIn([8]), 8, 8), [8]);
    const w2 = tf.tensor(values(pIn([8, 2]), 16, 9), [8, 2]);
    const v = (y: tf.Tensor) => ops.matmul(ops.tanh(ops.add(ops.matmul(y, w1), b1)), w2);
    const div = (y: tf.Tensor) => {
      let acc: tf.Tensor | undefined;
      for (let i = 0; i < 2; i++) {
        const g = ops.grad((z) => ops.sliceAxis(v(z), 1, i, 1), y);
        const term = ops.sliceAxis(g, 1, i, 1);
        acc = acc === undefined ? term : ops.add(acc, term);
      }
      return ops.sum(acc!, [1]);
    };
    const xs = values(bIn([2]), 8, 10);
    const got = tf.tidy(() => Array.from(div(tf.tensor(xs, [4, 2])).dataSync()));
    const eps = 1e-2;
    const vAt = (p: number[]) => tf.tidy(() => Array.from(v(tf.tensor(p, [4, 2])).dataSync()));
    const want = [0, 1, 2, 3].map((r) => {
      let s = 0;
      for (let i = 0; i < 2; i++) {
        const p = xs.slice();
        const m = xs.slice();
        p[2 * r + i]! += eps;
        m[2 * r + i]! -= eps;
        s += (vAt(p)[2 * r + i]! - vAt(m)[2 * r + i]!) / (2 * eps);
      }
      return s;
    });
    got.forEach((g, r) => expect(Math.abs(g - want[r]!)).toBeLessThan(2e-3 + 1e-2 * Math.abs(want[r]!)));
    tf.dispose([w1, b1, w2]);
  });

  it('a gradient through a tfjs loop (the loop runs in JS; no per-iteration tidy under a tape)', () => {
    const c: Case = {
      f: (o, x, w) => o.loop(4, [x], (i, [y]) => [o.add(o.mul(o.tanh(y!), w), o.mul(y!, o.mul(o.cast(i, 'float32'), o.scalar(0.1))))])[0]!,
      inputs: [bIn([3]), pIn([3])],
    };
    fdCheck(ops, c, 3);
    // and no tensor outlives the enclosing tidy
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      lossGrads(ops, c, [tf.ones([2, 3]), tf.ones([3])]);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('ONNX: gradients inside a Loop (an exported Langevin sampler)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  // x <- x - eta grad_x E(x) + sqrt(2 eta) z, E a tanh MLP of trained parameters
  const langevin: Recipe = {
    title: 'langevin',
    inputs: [{ name: 'x0', shape: [BATCH, 2], dtype: 'float32', doc: 'start', fill: { kind: 'normal' } }],
    outputDocs: {},
    countInput: false,
    run: <T,>(ctx: RunCtx<T>) => {
      const o = ctx.ops;
      const w1 = ctx.param('w1', [2, 8]);
      const b1 = ctx.param('b1', [8]);
      const w2 = ctx.param('w2', [8]);
      const eta = 0.05;
      const [x] = o.loop(6, [ctx.inputs.x0!], (_i, [y]) => {
        const g = o.grad((z) => mlp(o, z, w1, b1, w2), y!);
        const noise = o.mul(o.randomNormalLike(y!), o.scalar(Math.sqrt(2 * eta)));
        return [o.add(o.sub(y!, o.mul(g, o.scalar(eta))), noise)];
      });
      return { x: x! };
    },
  };
  const weights: WeightSource = (name, shape) => Float32Array.from(values(pIn(shape), prod(shape), name.length * 31));

  it.each(['inputs', 'internal'] as NoiseMode[])('noise %s: onnxruntime matches tfjs to 1e-4, one Loop holding the backward nodes', async (noise) => {
    const model = buildModel(langevin, weights, noise, { doc: 'langevin', metadata: {}, producerVersion: 'test' });
    expect(model.loopCount).toBe(1);
    const r = await checkParity(langevin, weights, model, { n: 16, seed: 9 });
    expect(r.problems).toEqual([]);
    expect(r.maxError, JSON.stringify(r.outputs)).toBeLessThanOrEqual(1e-4);
    expect(r.pass).toBe(true);
    models.push({ name: `langevin-${noise}`, bytes: model.bytes });
  });

  it('the Loop body contains the backward graph', () => {
    const o = new OnnxOps({ noise: 'inputs' });
    const x0 = o.input('x0', [BATCH, 2], 'float32', 'x0');
    const w1 = o.param('w1', [2, 8], weights('w1', [2, 8]));
    const b1 = o.param('b1', [8], weights('b1', [8]));
    const w2 = o.param('w2', [8], weights('w2', [8]));
    const [x] = o.loop(3, [x0], (_i, [y]) => [o.sub(y!, o.mul(o.grad((z) => mlp(o, z, w1, b1, w2), y!), o.scalar(0.1)))]);
    const rec = o.finish([{ name: 'x', value: x!, doc: '' }]);
    const loop = rec.graph.nodes.find((n) => n.op === 'Loop')!;
    const body = loop.attrs[0]!.value as unknown as { nodes: { op: string }[] };
    const ops = body.nodes.map((n) => n.op);
    // forward tanh, backward 1 - y^2 and two MatMuls each way (x W1 forward, g W1^T backward)
    expect(ops.filter((k) => k === 'Tanh').length).toBe(1);
    expect(ops.filter((k) => k === 'MatMul').length).toBe(2);
    expect(ops).toContain('Transpose');
    expect(rec.graph.nodes.filter((n) => n.op !== 'Loop' && n.op !== 'Identity')).toEqual([]);
  });

  it('a gradient through a Loop is a clear error', () => {
    const o = new OnnxOps({ noise: 'inputs' });
    const x0 = o.input('x0', [BATCH, 2], 'float32', 'x0');
    expect(() => o.grad((x) => o.loop(2, [x], (_i, [y]) => [o.mul(y!, y!)])[0]!, x0)).toThrow(OnnxUnsupportedError);
    expect(() => o.grad((x) => o.loop(2, [x], (_i, [y]) => [o.mul(y!, y!)])[0]!, x0)).toThrow(/gradient cannot flow through a loop/);
    // a loop reading the differentiated value from its scope
    const o2 = new OnnxOps({ noise: 'inputs' });
    const x1 = o2.input('x0', [BATCH, 2], 'float32', 'x0');
    expect(() => o2.grad((x) => o2.loop(2, [o2.fill(x, 0)], (_i, [y]) => [o2.add(y!, x)])[0]!, x1)).toThrow(/gradient cannot flow through a loop/);
    // a graph node recording it names itself
    const o3 = new OnnxOps({ noise: 'inputs' });
    const x2 = o3.input('x0', [BATCH, 2], 'float32', 'x0');
    expect(() => o3.withNode('sampler', () => o3.grad((x) => o3.loop(2, [x], (_i, [y]) => [o3.mul(y!, y!)])[0]!, x2))).toThrow(/node "sampler" has no ONNX form/);
  });
});

describe('ONNX checker', () => {
  it('passes every recorded gradient model (full_check + strict shape inference)', () => {
    expect(models.length).toBeGreaterThan(90);
    expectCheckerPasses(models);
  });
});
