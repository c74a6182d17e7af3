import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, initBackend } from './backend';
import { TfjsOps } from './TfjsOps';
import { batchMatMulGrad, matMulT, tfjsGradients } from './tfjsGradients';

type T = tf.Tensor;
type In = { v: number[]; s: number[] };

const vals = (t: T): number[] => Array.from(t.dataSync());

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`index ${i}: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})\n got ${Array.from(actual)}\n exp ${Array.from(expected)}`);
    }
  }
}

/** Deterministic pseudo-random numbers in [lo, hi) for test inputs. */
function rand(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(lo + ((s >>> 8) / 16777216) * (hi - lo));
  }
  return out;
}

/** Values in [lo, hi) at least `gap` away from every point of `kinks`. */
function randAway(n: number, seed: number, kinks: number[], gap = 0.05, lo = -2, hi = 2): number[] {
  return rand(n * 4, seed, lo, hi)
    .filter((v) => kinks.every((k) => Math.abs(v - k) > gap))
    .slice(0, n);
}

/**
 * Checks tf.grads of L = sum(f(xs) * r) (r fixed, non-uniform) against central finite
 * differences. The function runs in float32 on the active backend; the weighted sum is
 * taken in float64 so only the op's own rounding enters the difference quotient.
 */
function gradCheck(f: (...xs: T[]) => T, inputs: In[], opts: { eps?: number; rtol?: number; atol?: number } = {}): void {
  const eps = opts.eps ?? 1e-2;
  const rtol = opts.rtol ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const outSize = tf.tidy(() => f(...inputs.map((x) => tf.tensor(x.v, x.s))).size);
  const r = rand(outSize, 7, 0.5, 1.5);
  const loss = (values: number[][]): number => {
    const y = tf.tidy(() => f(...values.map((v, k) => tf.tensor(v, inputs[k].s))));
    const d = y.dataSync();
    y.dispose();
    let acc = 0;
    for (let i = 0; i < d.length; i++) acc += d[i] * r[i];
    return acc;
  };
  const analytic = tf.tidy(() => {
    const rt = tf.tensor(r, f(...inputs.map((x) => tf.tensor(x.v, x.s))).shape);
    const g = tf.grads((...xs: T[]) => tf.sum(tf.mul(f(...xs), rt)));
    return g(inputs.map((x) => tf.tensor(x.v, x.s))).map(vals);
  });
  inputs.forEach((x, k) => {
    const numeric = x.v.map((_, i) => {
      const plus = inputs.map((y) => y.v.slice());
      const minus = inputs.map((y) => y.v.slice());
      plus[k][i] += eps;
      minus[k][i] -= eps;
      return (loss(plus) - loss(minus)) / (2 * eps);
    });
    const scale = Math.max(1, ...numeric.map(Math.abs));
    try {
      expectClose(analytic[k], numeric, atol * scale, rtol);
    } catch (e) {
      throw new Error(`gradient of input ${k}: ${(e as Error).message}`);
    }
  });
}

/** Runs fn with backend `name` active, then restores the previous backend. */
async function onBackend<R>(name: string, fn: () => R): Promise<R> {
  const prev = tf.getBackend();
  await tf.setBackend(name);
  try {
    return fn();
  } finally {
    await tf.setBackend(prev);
  }
}

const CONV_CASES = [
  { h: 7, w: 6, c: 2, k: 3, o: 3, s: 1, p: 'same' },
  { h: 7, w: 6, c: 2, k: 3, o: 3, s: 2, p: 'same' },
  { h: 8, w: 8, c: 3, k: 4, o: 2, s: 2, p: 'same' },
  { h: 8, w: 6, c: 2, k: 1, o: 2, s: 2, p: 'same' }, // stride skips the last row/column
  { h: 7, w: 6, c: 2, k: 3, o: 3, s: 1, p: 'valid' },
  { h: 8, w: 7, c: 2, k: 3, o: 3, s: 2, p: 'valid' }, // last row never read
  { h: 5, w: 5, c: 1, k: 2, o: 2, s: 2, p: 'valid' },
] as const;
type ConvCase = (typeof CONV_CASES)[number];

function convData(c: ConvCase) {
  const x: In = { v: rand(2 * c.h * c.w * c.c, 11), s: [2, c.h, c.w, c.c] };
  const f: In = { v: rand(c.k * c.k * c.c * c.o, 12), s: [c.k, c.k, c.c, c.o] };
  const [, oh, ow] = tf.tidy(() => tf.conv2d(tf.tensor4d(x.v, x.s as never), tf.tensor4d(f.v, f.s as never), c.s, c.p).shape);
  const y: In = { v: rand(2 * oh * ow * c.o, 13), s: [2, oh, ow, c.o] };
  return { x, f, y };
}

/** [dx, dW] of sum(conv2d(x, W) * r) with tfjs's own gradient (cpu backend has all kernels). */
function nativeConvGrads(c: ConvCase, transpose: boolean): number[][] {
  const { x, f, y } = convData(c);
  return tf.tidy(() => {
    if (!transpose) {
      const r = tf.tensor(rand(y.v.length, 5), y.s);
      return tf
        .grads((a: T, b: T) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.p), r)))([tf.tensor(x.v, x.s), tf.tensor(f.v, f.s)])
        .map(vals);
    }
    const r = tf.tensor(rand(x.v.length, 5), x.s);
    return tf
      .grads((a: T, b: T) =>
        tf.sum(tf.mul(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, x.s as [number, number, number, number], c.s, c.p), r)),
      )([tf.tensor(y.v, y.s), tf.tensor(f.v, f.s)])
      .map(vals);
  });
}

function opsConvGrads(ops: TfjsOps, c: ConvCase, transpose: boolean): number[][] {
  const { x, f, y } = convData(c);
  return tf.tidy(() => {
    if (!transpose) {
      const r = tf.tensor(rand(y.v.length, 5), y.s);
      return tf.grads((a: T, b: T) => tf.sum(tf.mul(ops.conv2d(a, b, c.s, c.p), r)))([tf.tensor(x.v, x.s), tf.tensor(f.v, f.s)]).map(vals);
    }
    const r = tf.tensor(rand(x.v.length, 5), x.s);
    return tf
      .grads((a: T, b: T) => tf.sum(tf.mul(ops.conv2dTranspose(a, b, x.s.slice(1), c.s, c.p), r)))([tf.tensor(y.v, y.s), tf.tensor(f.v, f.s)])
      .map(vals);
  });
}

describe('initBackend', () => {
  it('lists the chain', () => {
    expect([...BACKENDS]).toEqual(['tensorflow', 'wasm', 'cpu']);
  });

  it('picks wasm by default here (tfjs-node is not installed) and is idempotent', async () => {
    const a = await initBackend();
    expect(a.backend).toBe('wasm');
    expect(a.tf).toBe(tf);
    expect(tf.getBackend()).toBe('wasm');
    const [b, c] = await Promise.all([initBackend(), initBackend('wasm')]);
    expect(b.backend).toBe('wasm');
    expect(c.backend).toBe('wasm');
    expect(tf.backend()).toBe(tf.findBackend('wasm'));
  });

  it("honours 'cpu', then keeps it active", async () => {
    const a = await initBackend('cpu');
    expect(a.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend()).backend).toBe('cpu');
  });

  it("throws a clear error when 'tensorflow' is requested but tfjs-node is absent", async () => {
    await expect(initBackend('tensorflow')).rejects.toThrow(/tfjs-node/);
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend('wasm')).backend).toBe('wasm');
  });
});

describe.each(['wasm', 'cpu'])('TfjsOps on %s', (backend) => {
  let ops: TfjsOps;

  beforeAll(async () => {
    await initBackend('wasm'); // registers the wasm backend if an earlier block did not
    expect(await tf.setBackend(backend)).toBe(true);
    await tf.ready();
    expect(tf.getBackend()).toBe(backend);
    ops = new TfjsOps({ seed: 42 });
  });

  describe('forward values', () => {
    it('creation and cast', () => {
      tf.tidy(() => {
        const c = ops.constant([1, 2, 3, 4, 5, 6], [2, 3]);
        expect(c.shape).toEqual([2, 3]);
        expect(c.dtype).toBe('float32');
        expectClose(vals(c), [1, 2, 3, 4, 5, 6]);
        expect(ops.constant(new Int32Array([1, 2]), [2], 'int32').dtype).toBe('int32');
        expectClose(vals(ops.constant({ length: 2, 0: 7, 1: 8 }, [2])), [7, 8]);
        const s = ops.scalar(2.5);
        expect(s.shape).toEqual([]);
        expectClose(vals(s), [2.5]);
        expect(ops.scalar(3, 'int32').dtype).toBe('int32');
        expectClose(vals(ops.zerosLike(c)), [0, 0, 0, 0, 0, 0]);
        expectClose(vals(ops.onesLike(c)), [1, 1, 1, 1, 1, 1]);
        const f = ops.fill(ops.constant([1, 2], [2], 'int32'), 0.5);
        expect(f.dtype).toBe('float32');
        expectClose(vals(f), [0.5, 0.5]);
        const i = ops.cast(ops.constant([1.7, -2.2, 3], [3]), 'int32');
        expect(i.dtype).toBe('int32');
        expectClose(vals(i), [1, -2, 3]);
        expect(ops.cast(i, 'float32').dtype).toBe('float32');
        expect(ops.shape(c)).toEqual([2, 3]);
        expect(ops.name).toBe('tfjs');
      });
    });

    it('binary ops broadcast', () => {
      tf.tidy(() => {
        const a = ops.constant([1, -2, 3, 4, 5, -6], [2, 3]);
        const b = ops.constant([2, 4, -1], [3]);
        expectClose(vals(ops.add(a, b)), [3, 2, 2, 6, 9, -7]);
        expectClose(vals(ops.sub(a, b)), [-1, -6, 4, 2, 1, -5]);
        expectClose(vals(ops.mul(a, b)), [2, -8, -3, 8, 20, 6]);
        expectClose(vals(ops.div(a, b)), [0.5, -0.5, -3, 2, 1.25, 6]);
        expectClose(vals(ops.maximum(a, b)), [2, 4, 3, 4, 5, -1]);
        expectClose(vals(ops.minimum(a, b)), [1, -2, -1, 2, 4, -6]);
        expectClose(vals(ops.mul(a, ops.scalar(2))), [2, -4, 6, 8, 10, -12]);
      });
    });

    it('unary ops', () => {
      tf.tidy(() => {
        const xs = [-2, -0.5, 0, 0.5, 3];
        const x = ops.constant(xs, [5]);
        const sig = (v: number) => 1 / (1 + Math.exp(-v));
        expectClose(vals(ops.neg(x)), xs.map((v) => -v));
        expectClose(vals(ops.exp(x)), xs.map(Math.exp), 1e-5, 1e-5);
        expectClose(vals(ops.log(ops.constant([1, Math.E, 10], [3]))), [0, 1, Math.log(10)], 1e-5, 1e-5);
        expectClose(vals(ops.sqrt(ops.constant([0, 4, 2], [3]))), [0, 2, Math.SQRT2], 1e-6, 1e-5);
        expectClose(vals(ops.square(x)), xs.map((v) => v * v));
        expectClose(vals(ops.abs(x)), xs.map(Math.abs));
        expectClose(vals(ops.tanh(x)), xs.map(Math.tanh), 1e-6, 1e-5);
        expectClose(vals(ops.sigmoid(x)), xs.map(sig), 1e-6, 1e-5);
        expectClose(vals(ops.softplus(x)), xs.map((v) => Math.log1p(Math.exp(v))), 1e-6, 1e-5);
        expectClose(vals(ops.relu(x)), [0, 0, 0, 0.5, 3]);
        expectClose(vals(ops.leakyRelu(x, 0.1)), [-0.2, -0.05, 0, 0.5, 3], 1e-7);
        expectClose(vals(ops.silu(x)), xs.map((v) => v * sig(v)), 1e-6, 1e-5);
        expectClose(vals(ops.sin(x)), xs.map(Math.sin), 1e-6, 1e-5);
        expectClose(vals(ops.cos(x)), xs.map(Math.cos), 1e-6, 1e-5);
        expectClose(vals(ops.clip(x, -1, 1)), [-1, -0.5, 0, 0.5, 1]);
      });
    });

    it('reverse-mode primitives and composites', () => {
      tf.tidy(() => {
        const x = ops.constant([-2, -0.5, 0, 0.5, 3], [5]);
        expectClose(vals(ops.sign(x)), [-1, -1, 0, 1, 1]);
        expectClose(vals(ops.step(x)), [0, 0, 0, 1, 1]);
        const id = ops.identity(x);
        expect(id).not.toBe(x);
        expectClose(vals(id), vals(x));
        expectClose(vals(ops.leakyRelu(x, 1.5)), [-3, -0.75, 0, 0.5, 3]);
        const i = ops.constant([1, 2, 3], [3], 'int32');
        expect(ops.zerosLike(i).dtype).toBe('int32');
        expect(ops.onesLike(i).dtype).toBe('int32');
        expectClose(vals(ops.onesLike(i)), [1, 1, 1]);
        expectClose(vals(ops.mean(ops.constant([1, 2, 3, 4, 5, 6], [2, 3]), [0, -1])), [3.5]);
        // the filter gradient primitive is conv2d's filter gradient under tfjs autodiff
        const a = ops.constant(rand(2 * 5 * 5 * 2, 3), [2, 5, 5, 2]);
        const dy = ops.constant(rand(2 * 3 * 3 * 3, 4), [2, 3, 3, 3]);
        const ref = tf.grad((w: T) => tf.sum(tf.mul(ops.conv2d(a, w, 2, 'same'), dy)))(tf.zeros([3, 3, 2, 3]));
        expectClose(vals(ops.conv2dFilterGrad(a, dy, [3, 3, 2, 3], 2, 'same')), vals(ref), 1e-4, 1e-4);
        // ops.grad on this backend
        expectClose(vals(ops.grad((y) => ops.sum(ops.mul(ops.sin(y), y)), x)), [-2, -0.5, 0, 0.5, 3].map((v) => Math.sin(v) + v * Math.cos(v)), 1e-5, 1e-5);
        expect(ops.tape).toBeNull();
      });
    });

    it('softplus is stable at the extremes', () => {
      tf.tidy(() => {
        const xs = [-1000, -100, -30, -20, -17, 0, 17, 20, 100, 1000];
        const got = vals(ops.softplus(ops.constant(xs, [xs.length])));
        const want = xs.map((v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))));
        for (let i = 0; i < xs.length; i++) {
          expect(Number.isFinite(got[i])).toBe(true);
          // relative accuracy everywhere, including exp(x) for very negative x
          if (want[i] > 1e-30) expect(Math.abs(got[i] - want[i]) / want[i]).toBeLessThan(1e-5);
          else expect(got[i]).toBeLessThan(1e-30);
        }
        const g = vals(tf.grad((t: T) => tf.sum(ops.softplus(t)))(ops.constant(xs, [xs.length])));
        xs.forEach((v, i) => expect(Math.abs(g[i] - 1 / (1 + Math.exp(-v)))).toBeLessThan(1e-6));
      });
    });

    it('reductions', () => {
      tf.tidy(() => {
        const a = ops.constant([1, 2, 3, 4, 5, 6], [2, 3]);
        expectClose(vals(ops.sum(a)), [21]);
        expect(ops.sum(a).shape).toEqual([]);
        expectClose(vals(ops.sum(a, [0])), [5, 7, 9]);
        expectClose(vals(ops.sum(a, [1], true)), [6, 15]);
        expect(ops.sum(a, [1], true).shape).toEqual([2, 1]);
        expectClose(vals(ops.mean(a)), [3.5]);
        expectClose(vals(ops.mean(a, [1])), [2, 5]);
        expect(ops.mean(a, [0], true).shape).toEqual([1, 3]);
        expectClose(vals(ops.mean(a, [-1])), [2, 5]);
      });
    });

    it('shape and linear algebra', () => {
      tf.tidy(() => {
        const a = ops.constant([1, 2, 3, 4, 5, 6], [2, 3]);
        const b = ops.constant([1, 0, 0, 1, 1, 1], [3, 2]);
        const m = ops.matmul(a, b);
        expect(m.shape).toEqual([2, 2]);
        expectClose(vals(m), [4, 5, 10, 11]);
        expect(ops.reshape(a, [3, -1]).shape).toEqual([3, 2]);
        const t = ops.transpose(a);
        expect(t.shape).toEqual([3, 2]);
        expectClose(vals(t), [1, 4, 2, 5, 3, 6]);
        const t3 = ops.transpose(ops.reshape(a, [1, 2, 3]), [2, 0, 1]);
        expect(t3.shape).toEqual([3, 1, 2]);
        expectClose(vals(t3), [1, 4, 2, 5, 3, 6]);
        const c0 = ops.concat([a, a], 0);
        expect(c0.shape).toEqual([4, 3]);
        const c1 = ops.concat([a, ops.constant([7, 8], [2, 1])], -1);
        expect(c1.shape).toEqual([2, 4]);
        expectClose(vals(c1), [1, 2, 3, 7, 4, 5, 6, 8]);
        const s = ops.sliceAxis(a, 1, 1, 2);
        expect(s.shape).toEqual([2, 2]);
        expectClose(vals(s), [2, 3, 5, 6]);
        expectClose(vals(ops.sliceAxis(a, 0, 1, 1)), [4, 5, 6]);
        expectClose(vals(ops.sliceAxis(a, -1, 0, 1)), [1, 4]);
        const x3 = ops.reshape(ops.constant(rand(24, 1), [24]), [2, 3, 4]);
        expectClose(vals(ops.sliceAxis(x3, 2, 1, 2)), vals(tf.slice(x3, [0, 0, 1], [2, 3, 2])));
      });
    });

    it('gather takes float32 or int32 indices', () => {
      tf.tidy(() => {
        const table = ops.constant([10, 11, 12, 13, 14], [5]);
        const idxF = ops.constant([4, 0, 2, 2], [4]);
        const g = ops.gather(table, idxF);
        expect(g.shape).toEqual([4]);
        expectClose(vals(g), [14, 10, 12, 12]);
        expectClose(vals(ops.gather(table, ops.constant([1, 3], [2], 'int32'))), [11, 13]);
        const t2 = ops.constant([1, 2, 3, 4, 5, 6], [3, 2]);
        const g2 = ops.gather(t2, ops.constant([2, 0], [2]));
        expect(g2.shape).toEqual([2, 2]);
        expectClose(vals(g2), [5, 6, 1, 2]);
      });
      // the int32 copy of float indices is not leaked
      const table = ops.constant([1, 2, 3], [3]);
      const idx = ops.constant([0, 2], [2]);
      const before = tf.memory().numTensors;
      const out = ops.gather(table, idx);
      expect(tf.memory().numTensors).toBe(before + 1);
      tf.dispose([table, idx, out]);
    });

    it('conv2d and conv2dTranspose by hand', () => {
      tf.tidy(() => {
        // 3x3 input 1..9, 2x2 ones filter, valid: window sums
        const x = ops.constant([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
        const ones = ops.constant([1, 1, 1, 1], [2, 2, 1, 1]);
        const y = ops.conv2d(x, ones, 1, 'valid');
        expect(y.shape).toEqual([1, 2, 2, 1]);
        expectClose(vals(y), [12, 16, 24, 28]);
        // same padding (tfjs pads bottom/right first for even kernels)
        expectClose(vals(ops.conv2d(x, ones, 1, 'same')), [12, 16, 9, 24, 28, 15, 15, 17, 9]);
        // stride 2, same: windows at (0,0), (0,2), (2,0), (2,2)
        expectClose(vals(ops.conv2d(x, ones, 2, 'same')), [12, 9, 15, 9]);
        // two output channels: identity-ish and 2x
        const f2 = ops.constant([1, 2, 0, 0, 0, 0, 0, 0], [2, 2, 1, 2]);
        expectClose(vals(ops.conv2d(x, f2, 1, 'valid')), [1, 2, 2, 4, 4, 8, 5, 10]);
        // transpose: scatter each input pixel as a 2x2 block (stride 2) -> upsampling
        const z = ops.constant([1, 2, 3, 4], [1, 2, 2, 1]);
        const up = ops.conv2dTranspose(z, ones, [4, 4, 1], 2, 'same');
        expect(up.shape).toEqual([1, 4, 4, 1]);
        expectClose(vals(up), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
        // outShape with a (symbolic) batch dimension is accepted too
        expect(ops.conv2dTranspose(z, ones, [-1, 4, 4, 1], 2, 'same').shape).toEqual([1, 4, 4, 1]);
        // stride 1 valid transpose of a single pixel = the filter
        const one = ops.constant([2], [1, 1, 1, 1]);
        const f = ops.constant([1, 2, 3, 4], [2, 2, 1, 1]);
        expectClose(vals(ops.conv2dTranspose(one, f, [2, 2, 1], 1, 'valid')), [2, 4, 6, 8]);
      });
    });

    it('random ops have the right shapes, ranges and moments', () => {
      tf.tidy(() => {
        const n = ops.randomNormal([200, 50]);
        expect(n.shape).toEqual([200, 50]);
        expect(n.dtype).toBe('float32');
        const nv = vals(n);
        const mean = nv.reduce((a, b) => a + b, 0) / nv.length;
        const sd = Math.sqrt(nv.reduce((a, b) => a + (b - mean) ** 2, 0) / nv.length);
        expect(Math.abs(mean)).toBeLessThan(0.03);
        expect(Math.abs(sd - 1)).toBeLessThan(0.03);
        const x = ops.zerosLike(ops.constant(new Array(64 * 3).fill(0), [64, 3]));
        expect(ops.randomNormalLike(x).shape).toEqual([64, 3]);
        const u = vals(ops.randomUniformLike(ops.fill(n, 0)));
        expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...u)).toBeLessThan(1);
        expect(Math.abs(u.reduce((a, b) => a + b, 0) / u.length - 0.5)).toBeLessThan(0.01);
        const ri = ops.randomIntLike(n, 7);
        expect(ri.shape).toEqual([200]);
        expect(ri.dtype).toBe('float32');
        const rv = vals(ri);
        expect(rv.every((v) => Number.isInteger(v) && v >= 0 && v < 7)).toBe(true);
        expect(new Set(rv).size).toBe(7);
      });
    });

    it('is deterministic per seed', () => {
      const draw = (o: TfjsOps) =>
        tf.tidy(() => {
          const x = tf.zeros([4, 5]);
          return [vals(o.randomNormal([3, 4])), vals(o.randomNormalLike(x)), vals(o.randomUniformLike(x)), vals(o.randomIntLike(x, 1000))];
        });
      const a = draw(new TfjsOps({ seed: 123 }));
      const b = draw(new TfjsOps({ seed: 123 }));
      const c = draw(new TfjsOps({ seed: 124 }));
      expect(a).toEqual(b);
      for (let k = 0; k < a.length; k++) expect(a[k]).not.toEqual(c[k]);
      // successive draws differ, reseed restarts the stream
      const o = new TfjsOps({ seed: 123 });
      const first = tf.tidy(() => vals(o.randomNormal([8])));
      const second = tf.tidy(() => vals(o.randomNormal([8])));
      expect(first).not.toEqual(second);
      o.reseed(123);
      expect(tf.tidy(() => vals(o.randomNormal([8])))).toEqual(first);
    });

    it('stopGradient: identity forward, zero gradient', () => {
      tf.tidy(() => {
        const x = ops.constant([1, -2, 3], [3]);
        expectClose(vals(ops.stopGradient(x)), [1, -2, 3]);
        const g = tf.grad((t: T) => tf.sum(tf.add(tf.mul(ops.stopGradient(t), t), t)))(x);
        // d/dt [sg(t) * t + t] = sg(t) + 1
        expectClose(vals(g), [2, -1, 4]);
      });
    });

    it('loop threads the carry and passes i as an int32 scalar', () => {
      tf.tidy(() => {
        const seen: number[] = [];
        const out = ops.loop(5, [ops.constant([1, 2], [2]), ops.scalar(0)], (i, [x, acc]) => {
          expect(i.dtype).toBe('int32');
          expect(i.shape).toEqual([]);
          seen.push(i.dataSync()[0]);
          return [ops.add(x, ops.cast(i, 'float32')), ops.add(acc, ops.sum(x))];
        });
        expect(seen).toEqual([0, 1, 2, 3, 4]);
        expectClose(vals(out[0]), [11, 12]);
        // acc = sum over k of (3 + 2 * (0 + ... + k-1)) = 15 + 2*(0+0+1+3+6) = 35
        expectClose(vals(out[1]), [35]);
        expect(ops.loop(0, [out[0]], () => [])[0]).toBe(out[0]);
      });
    });

    it('loop does not grow memory', () => {
      const x0 = tf.ones([16, 8]);
      const v0 = tf.zeros([16, 8]);
      const c0 = tf.scalar(0.9);
      const before = tf.memory().numTensors;
      const out = ops.loop(200, [x0, v0, c0], (i, [x, v, c]) => {
        const nv = ops.add(ops.mul(v, c), ops.mul(ops.sin(x), ops.scalar(0.01)));
        const noise = ops.mul(ops.randomNormalLike(x), ops.scalar(1e-3));
        return [ops.add(ops.add(x, nv), noise), nv, c]; // c passes through untouched
      });
      expect(out[2]).toBe(c0);
      expect(tf.memory().numTensors).toBe(before + 2);
      tf.dispose([out[0], out[1]]);
      expect(tf.memory().numTensors).toBe(before);
      expect(x0.isDisposed || v0.isDisposed || c0.isDisposed).toBe(false);

      // a slot made in iteration 0 and passed through afterwards stays alive
      const before2 = tf.memory().numTensors;
      const out2 = ops.loop(50, [x0, v0], (i, [x, v]) => [ops.add(x, ops.scalar(1)), i.dataSync()[0] === 0 ? ops.mul(v, ops.scalar(2)) : v]);
      expect(tf.memory().numTensors).toBe(before2 + 2);
      expect(out2[1].isDisposed).toBe(false);
      expectClose(vals(out2[0]).slice(0, 2), [51, 51]);
      tf.dispose([...out2, x0, v0, c0]);
    });
  });

  describe('gradients against central finite differences', () => {
    const x6 = (seed: number, kinks: number[] = []): In => ({ v: randAway(6, seed, kinks), s: [2, 3] });
    const pos6 = (seed: number): In => ({ v: rand(6, seed, 0.3, 2), s: [2, 3] });

    const unary: Array<[string, (x: T) => T, In]> = [
      ['neg', (x) => ops.neg(x), x6(1)],
      ['exp', (x) => ops.exp(x), x6(2)],
      ['log', (x) => ops.log(x), pos6(3)],
      ['sqrt', (x) => ops.sqrt(x), pos6(4)],
      ['square', (x) => ops.square(x), x6(5)],
      ['abs', (x) => ops.abs(x), x6(6, [0])],
      ['tanh', (x) => ops.tanh(x), x6(7)],
      ['sigmoid', (x) => ops.sigmoid(x), x6(8)],
      ['softplus', (x) => ops.softplus(x), { v: [-30, -3, -0.5, 0.2, 4, 40], s: [2, 3] }],
      ['relu', (x) => ops.relu(x), x6(9, [0])],
      ['leakyRelu', (x) => ops.leakyRelu(x, 0.2), x6(10, [0])],
      ['silu', (x) => ops.silu(x), x6(11)],
      ['sin', (x) => ops.sin(x), x6(12)],
      ['cos', (x) => ops.cos(x), x6(13)],
      ['clip', (x) => ops.clip(x, -0.5, 0.7), { v: [-1.5, -0.6, -0.3, 0.1, 0.6, 1.2], s: [2, 3] }],
      ['cast float32', (x) => ops.cast(x, 'float32'), x6(14)],
      ['sum all', (x) => ops.sum(x), x6(15)],
      ['sum axis', (x) => ops.sum(x, [0]), x6(16)],
      ['mean keepDims', (x) => ops.mean(x, [1], true), x6(17)],
      ['reshape', (x) => ops.reshape(x, [3, 2]), x6(18)],
      ['transpose', (x) => ops.transpose(x), x6(19)],
      ['sliceAxis 1', (x) => ops.sliceAxis(x, 1, 1, 2), x6(20)],
      ['sliceAxis 0', (x) => ops.sliceAxis(x, 0, 1, 1), x6(21)],
      ['sliceAxis -1', (x) => ops.sliceAxis(ops.reshape(x, [1, 2, 3]), -1, 0, 2), x6(22)],
    ];
    it.each(unary)('%s', (_name, f, x) => {
      gradCheck(f, [x]);
    });

    const binary: Array<[string, (a: T, b: T) => T, In, In]> = [
      ['add', (a, b) => ops.add(a, b), x6(30), { v: rand(3, 31), s: [3] }],
      ['sub', (a, b) => ops.sub(a, b), x6(32), { v: rand(3, 33), s: [3] }],
      ['mul', (a, b) => ops.mul(a, b), x6(34), { v: rand(3, 35), s: [3] }],
      ['div', (a, b) => ops.div(a, b), x6(36), { v: rand(3, 37, 0.5, 2), s: [3] }],
      // keep a and b apart so no element sits on the kink
      ['maximum', (a, b) => ops.maximum(a, b), { v: [-1, 0.5, 1.5, 0.2, -0.8, 1.1], s: [2, 3] }, { v: [0.1, -0.3, 0.9], s: [3] }],
      ['minimum', (a, b) => ops.minimum(a, b), { v: [-1, 0.5, 1.5, 0.2, -0.8, 1.1], s: [2, 3] }, { v: [0.1, -0.3, 0.9], s: [3] }],
      ['matmul', (a, b) => ops.matmul(a, b), x6(38), { v: rand(12, 39), s: [3, 4] }],
      ['matmul batched', (a, b) => ops.matmul(ops.reshape(a, [2, 1, 3]), ops.reshape(b, [2, 3, 2])), x6(40), { v: rand(12, 41), s: [12] }],
      ['matmul [B,T,K] x [K,N]', (a, b) => ops.matmul(a, b), { v: rand(12, 46), s: [2, 2, 3] }, { v: rand(6, 47), s: [3, 2] }],
      ['matmul [B,M,K] x [1,K,N]', (a, b) => ops.matmul(a, b), { v: rand(12, 48), s: [2, 2, 3] }, { v: rand(6, 49), s: [1, 3, 2] }],
      ['matmul [M,K] x [B,K,N]', (a, b) => ops.matmul(a, b), { v: rand(6, 51), s: [2, 3] }, { v: rand(12, 52), s: [2, 3, 2] }],
      ['maximum [2,1] vs [1,3]', (a, b) => ops.maximum(a, b), { v: [-0.4, 0.35], s: [2, 1] }, { v: [0.1, -0.9, 0.6], s: [1, 3] }],
      ['minimum scalar', (a, b) => ops.minimum(a, b), { v: [-1, 0.5, 1.5, 0.2, -0.8, 1.1], s: [2, 3] }, { v: [0.3], s: [] }],
      ['maximum same shape', (a, b) => ops.maximum(a, b), x6(53), { v: x6(53).v.map((v, i) => v + (i % 2 ? 0.3 : -0.3)), s: [2, 3] }],
      ['concat', (a, b) => ops.concat([a, ops.reshape(b, [2, 1])], 1), x6(42), { v: rand(2, 43), s: [2] }],
      ['gather then mul (table constant)', (a, b) => ops.mul(a, ops.gather(b, ops.constant([2, 0, 1], [3]))), x6(44), { v: rand(3, 45), s: [3] }],
    ];
    it.each(binary)('%s', (name, f, a, b) => {
      if (name.startsWith('gather')) gradCheck((x) => f(x, tf.tensor(b.v, b.s)), [a]);
      else gradCheck(f, [a, b]);
    });

    it('loop (gradient through 6 unrolled steps)', () => {
      gradCheck(
        (x, w) =>
          ops.loop(6, [x], (i, [c]) => [ops.add(ops.mul(c, w), ops.mul(ops.sin(c), ops.mul(ops.cast(i, 'float32'), ops.scalar(0.1))))])[0],
        [{ v: rand(6, 50), s: [2, 3] }, { v: [0.9, 0.8, 1.1], s: [3] }],
      );
    });

    it.each(CONV_CASES.map((c) => [JSON.stringify(c), c] as const))('conv2d %s', (_n, c) => {
      const { x, f } = convData(c);
      // conv is linear in each argument: a large step is exact up to rounding
      gradCheck((a, b) => ops.conv2d(a, b, c.s, c.p), [x, f], { eps: 0.25 });
    });

    it.each(CONV_CASES.map((c) => [JSON.stringify(c), c] as const))('conv2dTranspose %s', (_n, c) => {
      const { x, f, y } = convData(c);
      gradCheck((a, b) => ops.conv2dTranspose(a, b, x.s.slice(1), c.s, c.p), [y, f], { eps: 0.25 });
    });
  });

  describe('conv gradients against the cpu backend built-in gradient', () => {
    it('kernel availability is as documented', () => {
      const missing = tf.getKernel('Conv2DBackpropFilter', backend) === undefined;
      expect(missing).toBe(backend === 'wasm');
      if (missing) {
        // why the custom gradient exists: tfjs's own filter gradient fails here
        expect(() =>
          tf.tidy(() => tf.grad((w: T) => tf.sum(tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')))(tf.ones([2, 2, 1, 1]))),
        ).toThrow(/Conv2DBackpropFilter/);
      }
    });

    it.each(CONV_CASES.map((c) => [JSON.stringify(c), c] as const))('%s', async (_n, c) => {
      const ref = await onBackend('cpu', () => [nativeConvGrads(c, false), nativeConvGrads(c, true)]);
      const always = new TfjsOps({ seed: 0, convGrad: 'always' });
      for (const o of [ops, always]) {
        const got = [opsConvGrads(o, c, false), opsConvGrads(o, c, true)];
        for (let t = 0; t < 2; t++) for (let k = 0; k < 2; k++) expectClose(got[t][k], ref[t][k], 1e-4, 1e-4);
      }
    });

    it('conv2dFilterGrad alone matches the built-in kernel', async () => {
      for (const c of CONV_CASES) {
        const { x, f, y } = convData(c);
        const ref = await onBackend('cpu', () =>
          tf.tidy(() =>
            vals(
              tf.engine().runKernel(
                'Conv2DBackpropFilter',
                { x: tf.tensor(x.v, x.s), dy: tf.tensor(y.v, y.s) },
                { strides: [c.s, c.s], pad: c.p, dataFormat: 'NHWC', filterShape: f.s },
              ) as T,
            ),
          ),
        );
        const got = tf.tidy(() =>
          vals(tfjsGradients.conv2dFilterGrad(tf.tensor4d(x.v, x.s as never), tf.tensor4d(y.v, y.s as never), f.s, c.s, c.p)),
        );
        expectClose(got, ref, 1e-4, 1e-4);
      }
    });
  });

  it('a small conv net trains (loss decreases) without leaking', () => {
    const o = new TfjsOps({ seed: 3 });
    const w1 = tf.variable(tf.mul(tf.randomNormal([3, 3, 1, 4], 0, 1, 'float32', 1), 0.3));
    const w2 = tf.variable(tf.mul(tf.randomNormal([3, 3, 1, 4], 0, 1, 'float32', 2), 0.3));
    const x = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 3);
    const opt = tf.train.adam(0.02);
    const loss = () =>
      tf.tidy(() => {
        const h = o.silu(o.conv2d(x, w1, 2, 'same'));
        const y = o.conv2dTranspose(h, w2, [8, 8, 1], 2, 'same');
        return o.mean(o.square(o.sub(y, x))) as tf.Scalar;
      });
    const first = loss().dataSync()[0];
    opt.minimize(loss); // creates the optimizer's slots
    const before = tf.memory().numTensors;
    for (let k = 0; k < 60; k++) opt.minimize(loss);
    expect(tf.memory().numTensors).toBe(before);
    const last = loss().dataSync()[0];
    expect(last).toBeLessThan(first * 0.7);
    tf.dispose([w1, w2, x]);
    opt.dispose();
  });
});

describe('the matMul gradient (explicit transposes on wasm)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('is the registered BatchMatMul gradient', () => {
    expect(tf.getGradient('BatchMatMul')).toBe(batchMatMulGrad);
  });

  // [a shape, b shape, transposeA, transposeB]
  const CASES: [number[], number[], boolean, boolean][] = [
    [[5, 3], [3, 4], false, false],
    [[5, 3], [4, 3], false, true],
    [[3, 5], [3, 4], true, false],
    [[3, 5], [4, 3], true, true],
    [[2, 5, 3], [2, 3, 4], false, false],
    [[2, 3, 5], [2, 4, 3], true, true],
  ];
  /** d/dA and d/dB of sum(matMul(A, B) * R) with random A, B, R */
  const grads = (c: (typeof CASES)[number]) =>
    tf.tidy(() => {
      const [sa, sb, ta, tb] = c;
      const a = tf.tensor(rand(sa.reduce((x, y) => x * y, 1), 1), sa);
      const b = tf.tensor(rand(sb.reduce((x, y) => x * y, 1), 2), sb);
      const y = tf.matMul(a, b, ta, tb);
      const r = tf.tensor(rand(y.size, 3), y.shape);
      return tf.grads((u: T, v: T) => tf.sum(tf.mul(tf.matMul(u, v, ta, tb), r)))([a, b]).map(vals);
    });

  it.each(CASES.map((c) => [JSON.stringify(c), c] as const))('%s: equals the gradient with transposed matMul kernels (the cpu backend)', async (_n, c) => {
    expect(tf.getBackend()).toBe('wasm');
    const got = grads(c);
    const ref = await onBackend('cpu', () => grads(c));
    for (let k = 0; k < 2; k++) expectClose(got[k]!, ref[k]!, 1e-4, 1e-4);
  });

  it('matMulT makes the transposes explicit on wasm only, with the same values', async () => {
    const a = tf.tensor(rand(12, 4), [3, 4]);
    const b = tf.tensor(rand(20, 5), [5, 4]);
    const want = vals(tf.matMul(a, b, false, true));
    expectClose(vals(matMulT(a, b, false, true)), want);
    const kernels: string[] = [];
    const profile = await tf.profile(() => matMulT(a, b, false, true));
    kernels.push(...profile.kernels.map((k) => k.name));
    expect(kernels).toEqual(['Transpose', 'BatchMatMul']);
    const onCpu = await onBackend('cpu', async () => (await tf.profile(() => matMulT(a, b, false, true))).kernels.map((k) => k.name));
    expect(onCpu).toEqual(['BatchMatMul']);
    tf.dispose([a, b]);
  });
});
