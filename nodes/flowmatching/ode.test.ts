/**
 * The ODE solvers, the ODE sampler and the CNF density against closed forms:
 * - v = -x gives x(1) = x(0) e^{-1}: Euler, Heun and RK4 converge at orders 1, 2 and 4;
 * - a time-only field v = 3 t^2 checks the time grid (forwards and backwards);
 * - a linear field v(x) = A x moves x(0) to x(1) = e^{A} x(0), so p_1 = N(0, e^{A} e^{A}^T)
 *   and log p_1(x) = log N(e^{-A} x; 0, I) - tr A: the density node must reproduce it,
 *   with the exact divergence and (on average) with Hutchinson's estimator.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NodeCtx } from '../core/defineNode';
import type { PortShape } from '../core/ports';
import type { FnValue } from '../core/values';
import { initBackend } from '../../src-main/runtime/backend';
import { TfjsOps } from '../../src-main/runtime/TfjsOps';
import { cnfDensity } from './cnfDensity';
import { integrate, SOLVERS, timeTable, type Solver } from './ode';
import { odeSampler } from './odeSampler';

beforeAll(async () => {
  await initBackend('cpu');
});

function ctxOf(ops: TfjsOps, batchSize: number): NodeCtx<tf.Tensor> {
  const none = (): never => {
    throw new Error('not used here');
  };
  return { ops, nodeId: 'n', batchSize, mode: 'sample', param: none, feed: none };
}

function field(g: (x: tf.Tensor, t: tf.Tensor) => tf.Tensor): FnValue<tf.Tensor> {
  return { kind: 'Fn', owner: 'field', in: [2], out: [2], timeConditioned: true, time: 'continuous', call: (x, t) => g(x, t!) };
}

/**
 * v(x) = A x for rows x (x A^T), A = [[a, b], [0, c]] (upper triangular: e^{tA} in closed
 * form), written with ops like every network, so ops.grad sees through it
 */
const shear = (ops: TfjsOps, a: number, b: number, c: number) => {
  const At = ops.constant([a, 0, b, c], [2, 2]);
  return field((x) => ops.matmul(x, At));
};

/** rows x mapped by e^{s A}, A = [[a, b], [0, c]]: e^{[[p, q], [0, r]]} = [[e^p, q (e^p - e^r) / (p - r)], [0, e^r]] */
function expShear(x: Float32Array, a: number, b: number, c: number, s: number): Float64Array {
  const [p, q, r] = [a * s, b * s, c * s];
  const off = Math.abs(p - r) < 1e-12 ? q * Math.exp(p) : (q * (Math.exp(p) - Math.exp(r))) / (p - r);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i += 2) {
    out[i] = Math.exp(p) * x[i]! + off * x[i + 1]!;
    out[i + 1] = Math.exp(r) * x[i + 1]!;
  }
  return out;
}

/** the closed-form log p_1 of the shear flow at rows x */
function shearLogP(x: Float32Array, a: number, b: number, c: number): Float64Array {
  const z = expShear(x, a, b, c, -1);
  const out = new Float64Array(x.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = -0.5 * (z[2 * i]! ** 2 + z[2 * i + 1]! ** 2) - Math.log(2 * Math.PI) - (a + c);
  return out;
}

const maxAbs = (u: ArrayLike<number>, v: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < u.length; i++) m = Math.max(m, Math.abs(u[i]! - v[i]!));
  return m;
};

function solve(solver: Solver, steps: number, f: FnValue<tf.Tensor>, x0: tf.Tensor, t0 = 0, t1 = 1): Float32Array {
  const ops = new TfjsOps({ seed: 0 });
  return tf.tidy(() => {
    const [x] = integrate(ops, { solver, steps, t0, t1, times: timeTable(ops, t0, t1, steps), init: [x0], f: (t, [y]) => [f.call(y!, t)] });
    return x!.dataSync() as Float32Array;
  });
}

describe('ODE solvers', () => {
  const start = () => tf.tensor2d([[1, -2], [0.5, 3]]);
  const decay = field((x) => tf.neg(x));
  const errorOf = (solver: Solver, steps: number) => {
    const x0 = start();
    const got = solve(solver, steps, decay, x0);
    const want = Array.from(x0.dataSync(), (v) => v * Math.exp(-1));
    x0.dispose();
    return maxAbs(got, want) / 3;
  };

  it('v = -x: x(1) = x(0) e^{-1}; Euler, Heun and RK4 errors shrink as h, h^2 and h^4', () => {
    const ratio = (s: Solver, n: number) => errorOf(s, n) / errorOf(s, 2 * n);
    expect(ratio('euler', 16)).toBeGreaterThan(1.8);
    expect(ratio('euler', 16)).toBeLessThan(2.2);
    expect(ratio('heun', 16)).toBeGreaterThan(3.6);
    expect(ratio('heun', 16)).toBeLessThan(4.4);
    expect(ratio('rk4', 4)).toBeGreaterThan(13);
    expect(ratio('rk4', 4)).toBeLessThan(22);
    // and in absolute terms: 100 Euler steps ~ 2e-3 relative, 20 Heun ~ 2e-4, 20 RK4 ~ 1e-7
    expect(errorOf('euler', 100)).toBeLessThan(2.5e-3);
    expect(errorOf('heun', 20)).toBeLessThan(3e-4);
    expect(errorOf('rk4', 20)).toBeLessThan(2e-6);
  });

  it('v = 3 t^2 (time only): Euler is a left Riemann sum, Heun the trapezoid rule, RK4 Simpson (exact)', () => {
    const f = field((x, t) => tf.mul(tf.zerosLike(x), 0).add(tf.mul(tf.square(tf.reshape(t, [-1, 1])), 3)));
    const x0 = tf.zeros([2, 2]);
    const S = 10;
    const h = 1 / S;
    const euler = solve('euler', S, f, x0)[0]!;
    const heun = solve('heun', S, f, x0)[0]!;
    const rk4 = solve('rk4', S, f, x0)[0]!;
    expect(euler).toBeCloseTo(3 * h ** 3 * ((S - 1) * S * (2 * S - 1)) / 6, 5); // 0.855
    expect(heun).toBeCloseTo(1 + h * h / 2, 5); // 1.005
    expect(rk4).toBeCloseTo(1, 5);
    // backwards from t = 1 to 0: x(0) = x(1) - 1; Euler samples the right end of each interval
    expect(solve('rk4', S, f, x0, 1, 0)[0]!).toBeCloseTo(-1, 5);
    expect(solve('euler', S, f, x0, 1, 0)[0]!).toBeCloseTo((-3 * h ** 3 * (S * (S + 1) * (2 * S + 1))) / 6, 5); // -1.155
    x0.dispose();
  });
});

describe('the ODE sampler node', () => {
  it('integrates from its own noise x(0) to e^{A} x(0): Heun 20 and RK4 20 to 1e-3 and 1e-5, Euler 100 to 2e-2', () => {
    const [a, b, c] = [0.4, -0.7, -0.3];
    const n = 64;
    for (const [solver, steps, tol] of [
      ['euler', 100, 2e-2],
      ['heun', 20, 1e-3],
      ['rk4', 20, 1e-5],
    ] as const) {
      const ops = new TfjsOps({ seed: 0 });
      tf.tidy(() => {
        ops.reseed(11);
        const x0 = ops.randomNormal([n, 2]).dataSync() as Float32Array;
        ops.reseed(11);
        const p = odeSampler.params.parse({ solver, steps });
        const ctx = ctxOf(ops, n);
        const built = odeSampler.build!(ctx, p, {} as never, {});
        const out = odeSampler.apply(ctx, { inputs: { velocity: shear(ops, a, b, c) }, params: p, shapes: {} as never, built });
        expect(maxAbs(out.samples!.dataSync(), expShear(x0, a, b, c, 1)), `${solver} ${steps}`).toBeLessThan(tol);
      });
    }
  });

  it('describes its cost: steps x calls per step', () => {
    const calls = SOLVERS.map((solver) => odeSampler.describe!(odeSampler.params.parse({ solver, steps: 20 }), {} as never).sampler!.calls);
    expect(calls).toEqual([20, 40, 80]);
  });
});

describe('the CNF density node (log p by the ODE with the divergence)', () => {
  const [a, b, c] = [0.4, -0.7, -0.3];
  const points = new Float32Array([0, 0, 1, -1, -2, 0.5, 0.3, 2.5, -1.5, -1.5]);

  function density(params: Record<string, unknown>, seed = 0) {
    const ops = new TfjsOps({ seed });
    const p = cnfDensity.params.parse(params);
    const ctx = ctxOf(ops, points.length / 2);
    const built = cnfDensity.build!(ctx, p, {} as never, {});
    return { ops, dist: cnfDensity.apply(ctx, { inputs: { velocity: shear(ops, a, b, c) }, params: p, shapes: {} as never, built }).dist! };
  }

  it('equals the closed form log N(e^{-A} x; 0, I) - tr A with the exact divergence (RK4, 32 steps)', () => {
    const { dist } = density({ solver: 'rk4', steps: 32, divergence: 'exact' });
    tf.tidy(() => {
      const got = dist.logProb(tf.tensor2d(points, [points.length / 2, 2])).dataSync();
      expect(maxAbs(got, shearLogP(points, a, b, c))).toBeLessThan(2e-5);
    });
  });

  it('converges with the solver: Euler at 100 steps is within 2e-2 of the closed form, Heun at 20 within 2e-3', () => {
    for (const [solver, steps, tol] of [
      ['euler', 100, 2e-2],
      ['heun', 20, 2e-3],
    ] as const) {
      const { dist } = density({ solver, steps, divergence: 'exact' });
      tf.tidy(() => {
        const got = dist.logProb(tf.tensor2d(points, [points.length / 2, 2])).dataSync();
        expect(maxAbs(got, shearLogP(points, a, b, c)), `${solver} ${steps}`).toBeLessThan(tol);
      });
    }
  });

  it("Hutchinson's estimate is unbiased: its mean over 20k probes matches the closed form (Rademacher and Gaussian)", () => {
    const x = new Float32Array(40_000).map((_, i) => (i % 2 === 0 ? 1 : -1));
    const want = shearLogP(new Float32Array([1, -1]), a, b, c)[0]!;
    for (const probe of ['rademacher', 'gaussian'] as const) {
      const { dist } = density({ solver: 'rk4', steps: 8, divergence: 'hutchinson', probe }, 3);
      tf.tidy(() => {
        const v = dist.logProb(tf.tensor2d(x, [x.length / 2, 2]));
        const mean = tf.mean(v).dataSync()[0]!;
        const sd = Math.sqrt(tf.moments(v).variance.dataSync()[0]!);
        expect(sd, `${probe}: the estimate is random`).toBeGreaterThan(0.05);
        expect(Math.abs(mean - want), probe).toBeLessThan((4 * sd) / Math.sqrt(x.length / 2) + 1e-3);
      });
    }
  });

  it('samples by the forward ODE: x(1) = e^{A} x(0)', () => {
    const { ops, dist } = density({ solver: 'rk4', steps: 32 });
    tf.tidy(() => {
      ops.reseed(5);
      const z = ops.randomNormal([16, 2]).dataSync() as Float32Array;
      ops.reseed(5);
      expect(maxAbs(dist.sample(16).dataSync(), expShear(z, a, b, c, 1))).toBeLessThan(1e-5);
    });
  });

  it('says its likelihood is exact, and how it is computed', () => {
    const f: PortShape = { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' };
    const facts = cnfDensity.describe!(cnfDensity.params.parse({}), { velocity: f });
    expect(facts.likelihood?.kind).toBe('exact');
    expect(facts.likelihood?.text).toMatch(/exact divergence/);
    const high = cnfDensity.describe!(cnfDensity.params.parse({}), { velocity: { ...f, in: [8], out: [8] } as PortShape });
    expect(high.likelihood?.text).toMatch(/Hutchinson/);
  });
});
