/**
 * The consistency-model family (nodes/consistency/):
 * - the parameterisation (eq. 5): c_skip(eps) = 1, c_out(eps) = 0, so f(x, eps) = x to 1e-6
 *   for any weights, and the coefficients match their closed forms elsewhere;
 * - the Karras boundaries and the curriculum N(k) (Appendix C); the training-pairs node puts
 *   both points on one trajectory (shared z) at consecutive boundaries of N(k), counts its
 *   step in a node state, and visits every level;
 * - the target network is under stop-gradient: no gradient reaches its weights; one training
 *   step moves the EMA shadow to mu theta^- + (1 - mu) theta;
 * - the loss and its metrics in closed form; the distillation pairs follow the exact
 *   probability-flow trajectory of Gaussian data, where the closed-form consistency function
 *   has (near) zero loss; the samplers map noise through that function to N(0, c^2 I);
 * - a short run of consistency-8gaussians meets one- and two-step bars that a moment-matched
 *   Gaussian fails; both samplers export as one ONNX model each, parity <= 1e-4.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyNodeSpec, NodeCtx } from '../nodes/core/defineNode';
import type { FnValue, LossValue } from '../nodes/core/values';
import { axisOfSde, coefficients, consistencyFn, curriculumN, karrasBoundaries, sigmaAt, uAt, veScore, type CmAxis } from '../nodes/consistency/cm';
import { consistencyFunction } from '../nodes/consistency/function';
import { consistencyLoss } from '../nodes/consistency/loss';
import { cdPairs, ctPairs } from '../nodes/consistency/pairs';
import { multistepSampler, oneStepSampler } from '../nodes/consistency/samplers';
import { buildMlp } from '../nodes/core/mlp';
import { coefAt, NUM, opsAlg, sdeOf, sdeSchedule, veSde, vpSde, type Sde } from '../nodes/sde/sdes';
import { linearSchedule } from '../nodes/diffusion/schedules';
import { evaluateRun } from '../src-main/eval/evaluate';
import { energyDistance } from '../src-main/eval/metrics';
import { exportOnnx, formatParityReport, listTargets, parityCheck } from '../src-main/export/exportModel';
import { decodeModel } from '../src-main/export/onnxGraph';
import { initBackend } from '../src-main/runtime/backend';
import { ParamStore } from '../src-main/runtime/ParamStore';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { analyze } from '../src-renderer/model/compare';
import { fitGaussian } from './baselines';
import { loadTemplate, trainTemplate } from './trainTemplate';

let ops: TfjsOps;

beforeAll(async () => {
  await initBackend('wasm');
  ops = new TfjsOps({ seed: 1 });
});

const VE = veSde(0.002, 20, 1e-5);
const VE_SCHED = sdeSchedule(VE, 100, 've');
const AXIS: CmAxis = axisOfSde(VE);
const arr = (t: tf.Tensor) => Array.from(t.dataSync());
const maxAbs = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);

/** a ctx with a ParamStore and node states in a map (state is set at once, as after a step) */
function ctxOf(rows: number, store = new ParamStore(3), states = new Map<string, tf.Tensor>(), id = 'n'): NodeCtx<tf.Tensor> {
  return {
    ops,
    nodeId: id,
    param: (name, shape, init) => store.get(`${id}/${name}`, shape, init),
    batchSize: rows,
    mode: 'train',
    feed: () => tf.zeros([1]),
    state: (name, shape) => states.get(name) ?? (states.set(name, tf.zeros(shape)), states.get(name)!),
    setState: (name, v) => void states.set(name, v),
  };
}

function run(spec: AnyNodeSpec, params: Record<string, unknown>, inputs: Record<string, unknown>, shapes: Record<string, unknown>, ctx: NodeCtx<tf.Tensor>): Record<string, any> {
  const p = spec.params.parse(params);
  spec.infer(shapes as never, p);
  const statics = Object.fromEntries(Object.entries(inputs).filter(([, v]) => (v as { kind?: string }).kind === 'Schedule'));
  const built = spec.build?.(ctx, p, shapes as never, statics as never);
  return spec.apply(ctx, { inputs: inputs as never, params: p, shapes: shapes as never, built }) as never;
}

const FN2 = { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' } as const;

/** a random time-conditioned MLP F(x, u) on R^2 (glorot weights, a non-zero last layer) */
function randomNet(seed: number): FnValue<tf.Tensor> {
  const store = new ParamStore(seed);
  const ctx = ctxOf(1, store, new Map(), `net${seed}`);
  const net = buildMlp(ctx, 2, [32, 32], 2, 'silu', { timeDim: 16, timeScale: 1000 });
  return { kind: 'Fn', owner: 'net', in: [2], out: [2], timeConditioned: true, time: 'continuous', call: net };
}

describe('the parameterisation f(x, t) = c_skip(t) x + c_out(t) F(c_in(t) x, t) (eq. 5)', () => {
  it('is the identity at t = eps to 1e-6 for random networks, data scales and axes (the boundary condition)', () => {
    for (const [axis, sd, seed] of [
      [AXIS, 2, 1],
      [AXIS, 0.5, 2],
      [axisOfSde(veSde(0.01, 80, 1e-5)), 1, 3],
      [axisOfSde(vpSde({ kind: 'linear', betaMin: 0.1, betaMax: 20 }, 1e-3)), 0.5, 4],
    ] as const) {
      const f = consistencyFn(ops, randomNet(seed), axis, sd);
      const x = ops.mul(ops.randomNormal([512, 2]), ops.scalar(5));
      const u0 = tf.zeros([512]);
      expect(maxAbs(f.call(x, u0), x)).toBeLessThanOrEqual(1e-6);
      const c = coefficients(ops, axis, tf.tensor1d([0]), sd);
      expect(arr(c.skip)[0]).toBe(1);
      expect(arr(c.out)[0]).toBe(0);
      // and not the identity above eps
      expect(maxAbs(f.call(x, tf.fill([512], 0.5)), x)).toBeGreaterThan(1e-2);
    }
  });

  it('c_skip, c_out, c_in equal their closed forms at t in (eps, T]; the axis maps u = 0, 1 to eps, T', () => {
    const sd = 2;
    const us = [0.1, 0.37, 0.8, 1];
    const c = coefficients(ops, AXIS, tf.tensor1d(us), sd);
    us.forEach((u, i) => {
      const t = sigmaAt(AXIS, u);
      expect(arr(c.sigma)[i]).toBeCloseTo(t, 3);
      expect(arr(c.skip)[i]).toBeCloseTo((sd * sd) / ((t - AXIS.eps) ** 2 + sd * sd), 5);
      expect(arr(c.out)[i]).toBeCloseTo((sd * (t - AXIS.eps)) / Math.sqrt(sd * sd + t * t), 5);
      expect(arr(c.cin)[i]).toBeCloseTo(1 / Math.sqrt(t * t + sd * sd), 5);
    });
    expect(AXIS.eps).toBeCloseTo(0.002, 9);
    expect(AXIS.T).toBeCloseTo(20, 6);
    expect(uAt(AXIS, AXIS.eps)).toBeCloseTo(0, 9);
    expect(uAt(AXIS, AXIS.T)).toBeCloseTo(1, 9);
  });

  it('the function node gives the same f on both outputs at step 0 (theta^- = theta), the target under stop-gradient', () => {
    const net = randomNet(5);
    const out = run(consistencyFunction, { sigmaData: 2 }, { net, sde: VE_SCHED }, { net: FN2, sde: { kind: 'Schedule', T: 100 } }, ctxOf(8));
    const x = ops.randomNormal([8, 2]);
    const u = tf.fill([8], 0.6);
    expect(maxAbs(out.fn.call(x, u), out.target.call(x, u))).toBe(0);
  });
});

describe('the discretisation: Karras boundaries and the curriculum N(k) (Appendix C)', () => {
  it('N(0) = s0, N(K) = s1 + 1, non-decreasing; the boundaries run from eps to T, increasing', () => {
    const K = 1000;
    expect(curriculumN(0, K, 2, 150)).toBe(2);
    expect(curriculumN(K, K, 2, 150)).toBe(151);
    expect(curriculumN(2 * K, K, 2, 150)).toBe(151);
    let prev = 0;
    for (let k = 0; k <= K; k++) {
      const n = curriculumN(k, K, 2, 150);
      expect(n).toBeGreaterThanOrEqual(prev);
      prev = n;
    }
    // the paper's closed form at one point: k = K/2
    expect(curriculumN(500, K, 2, 150)).toBe(Math.ceil(Math.sqrt(0.5 * (151 * 151 - 4) + 4) - 1) + 1);
    const t = karrasBoundaries(AXIS, 18, 7);
    expect(t[0]).toBe(AXIS.eps);
    expect(t[17]).toBe(AXIS.T);
    for (let i = 1; i < 18; i++) expect(t[i]!).toBeGreaterThan(t[i - 1]!);
    expect(t[9]).toBeCloseTo((Math.pow(0.002, 1 / 7) + (9 / 17) * (Math.pow(20, 1 / 7) - Math.pow(0.002, 1 / 7))) ** 7, 6);
  });

  it('the training pairs share one z, sit at consecutive boundaries of N(k), count k in a node state and visit every level', () => {
    const states = new Map<string, tf.Tensor>();
    const params = { s0: 2, s1: 9, totalSteps: 4 };
    const shapes = { x0: { kind: 'Tensor', shape: [2] }, sde: { kind: 'Schedule', T: 100 } };
    const rows = 4000;
    const x0 = ops.randomNormal([rows, 2]);
    for (let k = 0; k <= 5; k++) {
      const N = curriculumN(k, params.totalSteps, params.s0, params.s1);
      const grid = karrasBoundaries(AXIS, N, 7);
      const out = run(ctPairs, params, { x0, sde: VE_SCHED }, shapes, ctxOf(rows, new ParamStore(1), states, 'pairs'));
      expect(arr(states.get('k')!)).toEqual([k + 1]);
      const sN = arr(out.uNext).map((u) => sigmaAt(AXIS, u));
      const sC = arr(out.uCur).map((u) => sigmaAt(AXIS, u));
      const seen = new Set<number>();
      const dn = arr(out.xNext.sub(x0));
      const dc = arr(out.xCur.sub(x0));
      for (let r = 0; r < rows; r++) {
        const i = grid.findIndex((g) => Math.abs(g - sC[r]!) <= 1e-3 * g + 1e-6);
        expect(i, `row ${r}: t_n ${sC[r]} on the grid of N = ${N}`).toBeGreaterThanOrEqual(0);
        expect(i).toBeLessThan(N - 1);
        expect(sN[r]!).toBeCloseTo(grid[i + 1]!, 2);
        seen.add(i);
        // the same z: (x_{t_{n+1}} - x) / t_{n+1} = (x_{t_n} - x) / t_n
        for (const j of [0, 1]) expect(dn[2 * r + j]! / sN[r]!).toBeCloseTo(dc[2 * r + j]! / sC[r]!, 2);
      }
      expect(seen.size).toBe(N - 1);
    }
  });
});

describe('the target network and the loss', () => {
  it('no gradient reaches the weights of the target (stop-gradient); the online weights get one', () => {
    const w0 = tf.randomNormal([2, 2], 0, 1, 'float32', 3);
    const netOf = (w: tf.Tensor): FnValue<tf.Tensor> => ({ kind: 'Fn', owner: 'n', in: [2], out: [2], timeConditioned: true, time: 'continuous', call: (x) => ops.tanh(ops.matmul(x, w)) });
    const x = ops.randomNormal([16, 2]);
    const u = tf.fill([16], 0.7);
    const lossWith = (stop: boolean) => (w: tf.Tensor) => ops.sum(ops.square(consistencyFn(ops, netOf(w), AXIS, 2, stop).call(x, u)));
    expect(Math.max(...arr(ops.grad(lossWith(true), w0)).map(Math.abs))).toBe(0);
    expect(Math.max(...arr(ops.grad(lossWith(false), w0)).map(Math.abs))).toBeGreaterThan(1e-3);
    // through the loss node: d loss / d target weights = 0
    const shapes = { f: FN2, target: FN2, xNext: { kind: 'Tensor', shape: [2] }, uNext: { kind: 'Tensor', shape: [] }, xCur: { kind: 'Tensor', shape: [2] }, uCur: { kind: 'Tensor', shape: [] }, sde: { kind: 'Schedule', T: 100 } };
    const wOnline = tf.randomNormal([2, 2], 0, 1, 'float32', 4);
    const g = ops.grads(
      (wo, wt) => {
        const f = consistencyFn(ops, netOf(wo!), AXIS, 2);
        const target = consistencyFn(ops, netOf(wt!), AXIS, 2, true);
        const out = run(consistencyLoss, {}, { f, target, xNext: x, uNext: u, xCur: ops.mul(x, ops.scalar(0.9)), uCur: tf.fill([16], 0.6), sde: VE_SCHED }, shapes, ctxOf(16));
        return (out.loss as LossValue<tf.Tensor>).value;
      },
      [wOnline, w0],
    );
    expect(Math.max(...arr(g[0]!).map(Math.abs))).toBeGreaterThan(1e-4);
    expect(Math.max(...arr(g[1]!).map(Math.abs))).toBe(0);
  });

  it('one training step moves the EMA shadow to mu theta^- + (1 - mu) theta; theta^- = theta at step 0', () => {
    const t = trainTemplate('consistency-8gaussians', { steps: 0, overrides: { net: { hidden: [16] } } });
    try {
      const names = [...t.trainer.store.vars.keys()];
      const src = 'net/l0.w';
      const shadow = names.find((n) => n.startsWith('ema/') && n.endsWith(src))!;
      expect(shadow, names.join(', ')).toBeDefined();
      const v = (n: string) => arr(t.trainer.store.vars.get(n)!);
      expect(v(shadow)).toEqual(v(src));
      const before = v(shadow);
      t.trainer.round(false);
      const after = v(src);
      const expected = before.map((b, i) => 0.95 * b + 0.05 * after[i]!);
      v(shadow).forEach((s, i) => expect(s).toBeCloseTo(expected[i]!, 6));
      expect(Math.max(...after.map((a, i) => Math.abs(a - before[i]!)))).toBeGreaterThan(0);
      expect(arr(t.trainer.store.vars.get('state/pairs/k')!)).toEqual([1]);
    } finally {
      t.trainer.dispose();
    }
  });

  it('the metrics in closed form: l2 = ||r||^2 / D, l1 = ||r||_1 / D, pseudo-Huber sqrt(||r||^2 + c^2) - c; zero for identical points', () => {
    const id: FnValue<tf.Tensor> = { kind: 'Fn', owner: 'id', in: [2], out: [2], timeConditioned: true, time: 'continuous', call: (x) => x };
    const shapes = { f: FN2, target: FN2, xNext: { kind: 'Tensor', shape: [2] }, uNext: { kind: 'Tensor', shape: [] }, xCur: { kind: 'Tensor', shape: [2] }, uCur: { kind: 'Tensor', shape: [] }, sde: { kind: 'Schedule', T: 100 } };
    const a = tf.tensor2d([[1, 2], [0, 0]]);
    const b = tf.tensor2d([[0, 0], [3, 4]]);
    const u = tf.tensor1d([0.5, 0.5]);
    const lossOf = (p: Record<string, unknown>, xn = a, xc = b) =>
      (run(consistencyLoss, p, { f: id, target: id, xNext: xn, uNext: u, xCur: xc, uCur: u, sde: VE_SCHED }, shapes, ctxOf(2)).loss as LossValue<tf.Tensor>).value.dataSync()[0]!;
    expect(lossOf({ metric: 'l2' })).toBeCloseTo((5 / 2 + 25 / 2) / 2, 5);
    expect(lossOf({ metric: 'l1' })).toBeCloseTo((3 / 2 + 7 / 2) / 2, 5);
    expect(lossOf({ metric: 'pseudoHuber', huberC: 1 })).toBeCloseTo((Math.sqrt(6) - 1 + Math.sqrt(26) - 1) / 2, 5);
    for (const metric of ['l2', 'l1', 'pseudoHuber']) expect(lossOf({ metric }, a, a)).toBeCloseTo(0, 6);
  });
});

/** the exact consistency function of N(0, c^2 I) data on the VE axis: f*(x, t) = x c / sqrt(c^2 + t^2) */
function gaussianF(c: number, axis: CmAxis): FnValue<tf.Tensor> {
  return {
    kind: 'Fn', owner: 'closed-form', in: [2], out: [2], timeConditioned: true, time: 'continuous',
    call: (x, u) => {
      const t = ops.mul(ops.exp(ops.mul(u!, ops.scalar(axis.L))), ops.scalar(axis.eps));
      return ops.mul(x, ops.reshape(ops.div(ops.scalar(c), ops.sqrt(ops.add(ops.square(t), ops.scalar(c * c)))), [-1, 1]));
    },
  };
}

/** the score of N(0, c^2 I) data noised to t: -x / (c^2 + t^2) */
function gaussianScore(c: number, axis: CmAxis): FnValue<tf.Tensor> {
  return {
    kind: 'Fn', owner: 'teacher', in: [2], out: [2], timeConditioned: true, time: 'continuous',
    call: (x, u) => {
      const t = ops.mul(ops.exp(ops.mul(u!, ops.scalar(axis.L))), ops.scalar(axis.eps));
      return ops.neg(ops.div(x, ops.reshape(ops.add(ops.square(t), ops.scalar(c * c)), [-1, 1])));
    },
  };
}

/** the largest relative distance of the pairs' xCur from the exact trajectory of N(0, c^2 I) data, xNext sqrt(c^2 + t_n^2) / sqrt(c^2 + t_{n+1}^2) */
function trajectoryError(out: Record<string, any>, axis: CmAxis, c: number): number {
  const tN = arr(out.uNext).map((u) => sigmaAt(axis, u));
  const tC = arr(out.uCur).map((u) => sigmaAt(axis, u));
  const xn = arr(out.xNext);
  const xc = arr(out.xCur);
  let worst = 0;
  for (let r = 0; r < tN.length; r++) {
    const ratio = Math.sqrt(c * c + tC[r]! ** 2) / Math.sqrt(c * c + tN[r]! ** 2);
    for (const j of [0, 1]) worst = Math.max(worst, Math.abs(xc[2 * r + j]! - xn[2 * r + j]! * ratio) / (1 + Math.abs(xn[2 * r + j]!)));
  }
  return worst;
}

describe('distillation and sampling on Gaussian data N(0, c^2 I), where everything is in closed form', () => {
  const c = 1.5;
  // a teacher trained on a VP or sub-VP SDE (a DDPM) gives its score in its own time and
  // coordinates: exact here, -x / (m^2 c^2 + s^2) at the SDE time t
  const sdeScore = (sde: Sde): FnValue<tf.Tensor> => ({
    kind: 'Fn', owner: 'teacher', in: [2], out: [2], timeConditioned: true, time: 'continuous',
    call: (x, t) => {
      const k = sde.coefficients(opsAlg(ops), t!);
      return ops.neg(ops.div(x, ops.reshape(ops.add(ops.mul(ops.square(k.m), ops.scalar(c * c)), ops.square(k.s)), [-1, 1])));
    },
  });
  const DDPM = linearSchedule(1000, 1e-4, 0.02);
  const SUBVP = vpSde({ kind: 'linear', betaMin: 0.1, betaMax: 20 }, 1e-3, true);
  for (const [name, sched] of [
    ["DDPM's linear schedule (the VP SDE it discretises)", DDPM],
    ['a sub-VP SDE', sdeSchedule(SUBVP, 100, 'subvp')],
    ['a VE SDE', VE_SCHED],
  ] as const) {
    it(`the time of a noise level inverts s / m for ${name}; the teacher's score is read on the VE axis as m s(m y, t(sigma)) = -y / (c^2 + sigma^2)`, () => {
      const sde = sdeOf(sched);
      const axis = axisOfSde(sde);
      for (const sigma of [axis.eps, 0.05, 1, 10, axis.T]) {
        const t = sde.timeAt!(NUM, sigma);
        const k = coefAt(sde, t);
        expect(Math.abs(k.s / k.m - sigma) / sigma, `sigma ${sigma}`).toBeLessThan(1e-6);
      }
      const rows = 500;
      const u = ops.randomUniformLike(ops.constant(new Float32Array(rows), [rows]));
      const y = ops.mul(ops.randomNormal([rows, 2]), ops.scalar(3));
      const got = veScore(ops, sdeScore(sde), axis, [2]).call(y, u) as tf.Tensor;
      const sig = arr(u).map((v) => sigmaAt(axis, v));
      const want = tf.tensor2d(arr(y).map((v, i) => -v / (c * c + sig[Math.floor(i / 2)]! ** 2)), [rows, 2]);
      expect(maxAbs(got, want)).toBeLessThan(2e-4 * Math.max(...arr(want).map(Math.abs)));
    });
  }
  it('a cosine VP SDE has no closed-form time of a noise level: the distillation pairs say so', () => {
    const cos = sdeSchedule(vpSde({ kind: 'cosine', s: 0.008, betaClip: 20 }, 1e-3), 100, 'cos');
    expect(() => veScore(ops, sdeScore(sdeOf(cos)), axisOfSde(sdeOf(cos)), [2])).toThrow(/no closed-form time/);
  });
  it("on DDPM's schedule the Heun step with a VP teacher follows the exact trajectory of the VE coordinates y = x / m", () => {
    const sde = sdeOf(DDPM);
    const axis = axisOfSde(sde);
    const rows = 2000;
    const x0 = ops.mul(ops.randomNormal([rows, 2]), ops.scalar(c));
    const shapes = { x0: { kind: 'Tensor', shape: [2] }, teacher: FN2, sde: { kind: 'Schedule', T: 1000 } };
    const out = run(cdPairs, { N: 18, solver: 'heun' }, { x0, teacher: sdeScore(sde), sde: DDPM }, shapes, ctxOf(rows));
    expect(trajectoryError(out, axis, c)).toBeLessThan(0.02);
  });
  it("the teacher's Heun step follows the exact trajectory x(t) = x(T) sqrt(c^2 + t^2) / sqrt(c^2 + T^2); the exact f* has ~zero CD loss, a wrong one does not", () => {
    const rows = 2000;
    const x0 = ops.mul(ops.randomNormal([rows, 2]), ops.scalar(c));
    const shapes = { x0: { kind: 'Tensor', shape: [2] }, teacher: FN2, sde: { kind: 'Schedule', T: 100 } };
    const out = run(cdPairs, { N: 18, solver: 'heun' }, { x0, teacher: gaussianScore(c, AXIS), sde: VE_SCHED }, shapes, ctxOf(rows));
    expect(trajectoryError(out, AXIS, c)).toBeLessThan(0.02);
    const lossShapes = { f: FN2, target: FN2, xNext: { kind: 'Tensor', shape: [2] }, uNext: { kind: 'Tensor', shape: [] }, xCur: { kind: 'Tensor', shape: [2] }, uCur: { kind: 'Tensor', shape: [] }, sde: { kind: 'Schedule', T: 100 } };
    const lossWith = (f: FnValue<tf.Tensor>) =>
      (run(consistencyLoss, {}, { f, target: f, xNext: out.xNext, uNext: out.uNext, xCur: out.xCur, uCur: out.uCur, sde: VE_SCHED }, lossShapes, ctxOf(rows)).loss as LossValue<tf.Tensor>).value.dataSync()[0]!;
    const good = lossWith(gaussianF(c, AXIS));
    const bad = lossWith(gaussianF(2 * c, AXIS));
    console.log(`CD loss on N(0, ${c}^2): exact f* ${good.toExponential(2)}, f* of the wrong scale ${bad.toExponential(2)}`);
    expect(good).toBeLessThan(1e-4);
    expect(bad).toBeGreaterThan(20 * good);
  });

  it('the one-step and multistep samplers map noise through f* to mean 0 and variance c^2', () => {
    const f = gaussianF(c, AXIS);
    const shapes = { f: FN2, sde: { kind: 'Schedule', T: 100 } };
    for (const [spec, params] of [
      [oneStepSampler, {}],
      [multistepSampler, { times: [5, 0.8, 0.1] }],
    ] as const) {
      const x = arr(run(spec, params, { f, sde: VE_SCHED }, shapes, ctxOf(20000)).samples);
      for (const j of [0, 1]) {
        const col = x.filter((_, i) => i % 2 === j);
        const m = col.reduce((p, q) => p + q, 0) / col.length;
        const v = col.reduce((p, q) => p + (q - m) ** 2, 0) / col.length;
        // standard errors at n = 20000: mean 0.011, variance 0.023 (1%)
        expect(Math.abs(m), spec.type).toBeLessThan(0.05);
        expect(Math.abs(v / (c * c) - 1), spec.type).toBeLessThan(0.05);
      }
    }
  });
});

const QUICK_STEPS = 3000;
// the template's nets, the curriculum compressed to the short run, a larger step size
const QUICK = { pairs: { totalSteps: QUICK_STEPS }, loss: { optimizer: { lr: 0.002 } } };
// measured (seed 0): one-step 0.054, two-step 0.034; a moment-matched Gaussian 0.084 (REFERENCE: 0.094)
const QUICK_BARS = { one: 0.07, two: 0.05 };

describe('consistency-8gaussians (short run)', () => {
  let t: ReturnType<typeof trainTemplate>;
  let seconds = 0;
  beforeAll(() => {
    const t0 = Date.now();
    t = trainTemplate('consistency-8gaussians', { steps: QUICK_STEPS, overrides: QUICK });
    seconds = (Date.now() - t0) / 1000;
  }, 300_000);
  afterAll(() => t?.trainer.dispose());

  it(`after ${QUICK_STEPS} steps the one-step sampler is within energy ${QUICK_BARS.one} and the two-step within ${QUICK_BARS.two}; a moment-matched Gaussian fails both`, () => {
    const m = evaluateRun(t.trainer, t.program, t.feeds, { n: 2000 });
    const feed = t.feeds.get('data')!;
    const base = energyDistance(fitGaussian(feed).sample(2000, 4242), feed.heldOut(2000), 2);
    console.log(`consistency-8gaussians ${QUICK_STEPS} steps (${seconds.toFixed(0)} s): one ${m['one.energy']!.toFixed(4)} (${m['one.modes']} modes), two ${m['two.energy']!.toFixed(4)} (${m['two.modes']} modes); Gaussian fit ${base.toFixed(4)}`);
    expect(base).toBeGreaterThan(QUICK_BARS.one);
    expect(base).toBeGreaterThan(QUICK_BARS.two);
    expect(m['one.energy']).toBeLessThanOrEqual(QUICK_BARS.one);
    expect(m['two.energy']).toBeLessThanOrEqual(QUICK_BARS.two);
  }, 300_000);

  it('offers both samplers as export targets', () => {
    expect(listTargets(t.program).map((x) => x.id)).toEqual(expect.arrayContaining(['sampler:one', 'sampler:two']));
  });

  for (const [id, loops] of [['sampler:one', 0], ['sampler:two', 1]] as const) {
    it(`exports ${id} as one ONNX model (${loops} Loop), equal to tfjs to 1e-4 (noise as inputs, and drawn inside)`, async () => {
      const weights = t.trainer.store.snapshot();
      for (const noise of ['inputs', 'internal'] as const) {
        const model = exportOnnx(t.program, weights, id, { noise });
        const graph = decodeModel(model.bytes).graph!;
        expect(graph.node!.filter((n) => n.opType === 'Loop')).toHaveLength(loops);
        const r = await parityCheck(t.program, weights, id, { noise, model, n: 16, seed: 7 });
        expect(r.problems, formatParityReport(r)).toEqual([]);
        expect(r.pass, formatParityReport(r)).toBe(true);
        expect(r.maxError).toBeLessThanOrEqual(1e-4);
        if (noise === 'internal') expect(r.internalRun?.ok).toBe(true);
        console.log(`consistency-8gaussians ${id}, noise ${noise}: parity ${r.maxError.toExponential(2)}, ${model.nodeCount} nodes`);
      }
    }, 120_000);
  }
});

describe('the compare view', () => {
  it('consistency-8gaussians: noise as the latent, no likelihood, samplers of 1 and 2 network evaluations', () => {
    const a = analyze(loadTemplate('consistency-8gaussians'));
    expect(a.errors).toBe(0);
    expect(a.likelihood.kind).toBe('none');
    expect(a.samplers.find((s) => s.id === 'one')!.calls).toBe(1);
    expect(a.samplers.find((s) => s.id === 'two')!.calls).toBe(2);
  });
});

describe('consistency-distill-8gaussians', () => {
  it('validates; the consistency loss trains only the student, the score loss only the teacher; samplers of 1 and 2 evaluations', () => {
    const t = trainTemplate('consistency-distill-8gaussians', { steps: 0, overrides: { teacher: { hidden: [16] }, net: { hidden: [16] } } });
    try {
      const byId = new Map(t.program.objectives.map((o) => [o.nodeId, o]));
      expect(byId.get('loss')!.paramNames.length).toBeGreaterThan(0);
      expect(byId.get('loss')!.paramNames.every((n) => n.startsWith('net/'))).toBe(true);
      expect(byId.get('dsm')!.paramNames.every((n) => n.startsWith('teacher/'))).toBe(true);
      // the teacher objective runs first in each round
      expect(t.program.objectives.map((o) => o.nodeId)).toEqual(['dsm', 'loss']);
    } finally {
      t.trainer.dispose();
    }
    const a = analyze(loadTemplate('consistency-distill-8gaussians'));
    expect(a.errors).toBe(0);
    expect(a.samplers.find((s) => s.id === 'one')!.calls).toBe(1);
  });
});



// the teacher of another graph: ddpm-swissroll trained on its own, its weights imported
const DISTIL = { teacher: 2000, student: 2000 };
describe(`consistency-distill-ddpm-swissroll (teacher ${DISTIL.teacher} steps, student ${DISTIL.student})`, () => {
  let s: ReturnType<typeof trainTemplate>;
  let untrained: ReturnType<typeof trainTemplate>;
  let seconds = 0;
  beforeAll(() => {
    const t0 = Date.now();
    const teacher = trainTemplate('ddpm-swissroll', { steps: DISTIL.teacher });
    const weights = teacher.trainer.store.snapshot();
    teacher.trainer.dispose();
    s = trainTemplate('consistency-distill-ddpm-swissroll', { steps: DISTIL.student, teacher: weights });
    untrained = trainTemplate('consistency-distill-ddpm-swissroll', { steps: 0, teacher: weights });
    seconds = (Date.now() - t0) / 1000;
  }, 400_000);
  afterAll(() => {
    s?.trainer.dispose();
    untrained?.trainer.dispose();
  });

  it("the student's one step lands where the teacher's probability-flow ODE takes the same noise (paired), far closer than unpaired points of the same distribution", () => {
    const axis = axisOfSde(sdeOf(linearSchedule(1000, 1e-4, 0.02)));
    const fnOf = (t: ReturnType<typeof trainTemplate>, node: string) => t.trainer.runner.evaluate([{ node, port: 'fn' }], { batchSize: 0, mode: 'sample' })[0] as FnValue<tf.Tensor>;
    const rows = 1000;
    const xT = ops.mul(ops.randomNormal([rows, 2]), ops.scalar(axis.T));
    // the teacher's ODE, dy/dsigma = -sigma score(y, sigma), by Heun on 80 Karras levels (finer than the 18 the student learned on)
    const score = veScore(ops, fnOf(s, 'score'), axis, [2]);
    const levels = karrasBoundaries(axis, 80, 7).reverse();
    const uCol = (sig: number) => ops.constant(new Float32Array(rows).fill(uAt(axis, sig)), [rows]);
    const slope = (y: tf.Tensor, sig: number) => ops.mul(score.call(y, uCol(sig)), ops.scalar(-sig));
    let y = xT;
    for (let i = 0; i + 1 < levels.length; i++) {
      const [a, b] = [levels[i]!, levels[i + 1]!];
      const d1 = slope(y, a);
      const e = ops.add(y, ops.mul(d1, ops.scalar(b - a)));
      y = ops.add(y, ops.mul(ops.add(d1, slope(e, b)), ops.scalar(0.5 * (b - a))));
    }
    const ones = ops.constant(new Float32Array(rows).fill(1), [rows]);
    const rms = (a: tf.Tensor, b: tf.Tensor) => Math.sqrt(tf.tidy(() => a.sub(b).square().mean().dataSync()[0]!));
    const student = rms(fnOf(s, 'cm').call(xT, ones) as tf.Tensor, y);
    const before = rms(fnOf(untrained, 'cm').call(xT, ones) as tf.Tensor, y);
    const perm = tf.tensor1d(Array.from({ length: rows }, (_, i) => (i * 389 + 17) % rows), 'int32');
    const unpaired = rms(tf.gather(y, perm), y);
    const m = evaluateRun(s.trainer, s.program, s.feeds, { n: 2000 });
    console.log(
      `consistency-distill-ddpm-swissroll (${seconds.toFixed(0)} s with its teacher): one step to the teacher's ODE end, rms ${student.toFixed(3)}; untrained ${before.toFixed(3)}; unpaired points of the ODE's own samples ${unpaired.toFixed(3)}; energy one ${m['one.energy']!.toFixed(4)}, two ${m['two.energy']!.toFixed(4)}`,
    );
    // measured (seed 0): 0.138 against 1.49 untrained and 2.05 unpaired; the data's scale is 1.4 per coordinate
    expect(student).toBeLessThan(0.2 * Math.min(before, unpaired));
    expect(student).toBeLessThan(0.25);
  });
});
