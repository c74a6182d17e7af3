import { z } from 'zod';
import { defineNode, InferError, readState, writeState } from '../core/defineNode';
import type { Ops } from '../core/ops';
import { tensorShape } from '../core/objective';
import { samplerFn } from '../core/samplerShapes';
import { rowZeros, type FnValue, type ScheduleValue } from '../core/values';
import { axisFrom, axisShape, CM_SDE_IN, col, curriculumN, veScore, type CmAxis } from './cm';

const PAIR_OUT = {
  xNext: { type: { kind: 'Tensor' }, doc: 'x_{t_{n+1}}: the data noised to t_{n+1}' },
  uNext: { type: { kind: 'Tensor', semantic: 'time' }, doc: 'u of t_{n+1} (the noise axis time in [0, 1])' },
  xCur: { type: { kind: 'Tensor' }, doc: 'x_{t_n}: the neighbouring point of the same trajectory at t_n (the target\'s input)' },
  uCur: { type: { kind: 'Tensor', semantic: 'time' }, doc: 'u of t_n' },
} as const;

const rhoField = z.number().positive().max(100).default(7);

/**
 * Per row, n uniform in {1, ..., N - 1} and the Karras boundaries t_n, t_{n+1} as u on the
 * axis: with r = (i - 1)/(N - 1), ln t_i = rho ln(eps^{1/rho} + r (T^{1/rho} - eps^{1/rho})).
 * N is a [1] tensor (the curriculum's, from the step counter) or a number; the index
 * floor(v (N - 1)), v ~ U[0, 1), is counted as sum_{m=1}^{S} step(v (N - 1) - m) (no floor op).
 */
function drawLevels<T>(ops: Ops<T>, rows: T, a: CmAxis, N: T, S: number, rho: number): { uCur: T; uNext: T } {
  const nm1 = ops.sub(N, ops.scalar(1));
  const y = ops.mul(ops.randomUniformLike(rows), nm1);
  const ms = ops.constant(Array.from({ length: S }, (_, m) => m + 1), [1, S]);
  const idx = ops.sum(ops.step(ops.sub(ops.reshape(y, [-1, 1]), ms)), [1]);
  const lo = Math.pow(a.eps, 1 / rho);
  const span = Math.pow(a.T, 1 / rho) - lo;
  const uOf = (i: T) => {
    const base = ops.add(ops.mul(ops.div(i, nm1), ops.scalar(span)), ops.scalar(lo));
    // u = (rho ln(base) - ln eps) / L
    return ops.clip(ops.div(ops.sub(ops.mul(ops.log(base), ops.scalar(rho)), ops.scalar(Math.log(a.eps))), ops.scalar(a.L)), 0, 1);
  };
  return { uCur: uOf(idx), uNext: uOf(ops.add(idx, ops.scalar(1))) };
}

/** sigma(u) = eps e^{u L} per row */
function sigmaOf<T>(ops: Ops<T>, a: CmAxis, u: T): T {
  return ops.mul(ops.exp(ops.mul(u, ops.scalar(a.L))), ops.scalar(a.eps));
}

function flatRows<T>(ops: Ops<T>, x: T, event: number[]): T {
  return rowZeros(ops, event.length === 1 ? x : ops.reshape(x, [-1, event.reduce((p, q) => p * q, 1)]));
}

/**
 * The training pairs of consistency training (Algorithm 3; the CT loss, eq. 10):
 *   n ~ U{1, ..., N(k) - 1},  z ~ N(0, I),  x_{t_{n+1}} = x + t_{n+1} z,  x_{t_n} = x + t_n z
 * (one z for both: the two points lie on the same trajectory of the unbiased estimator of
 * the score, Theorem 2). N(k) is the curriculum of Appendix C,
 *   N(k) = ceil(sqrt(k/K ((s_1 + 1)^2 - s_0^2) + s_0^2) - 1) + 1,
 * with k the optimiser step: a node state `k`, counted here (checkpointed, restored on resume).
 */
export const ctPairs = defineNode({
  type: 'consistency.trainingPairs',
  version: 1,
  title: 'Consistency training pairs, N(k) curriculum',
  category: 'diffusion',
  role: 'none',
  inputs: {
    x0: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'clean data x' },
    sde: CM_SDE_IN,
  },
  outputs: PAIR_OUT,
  params: z.object({
    /** s_0: N at the first step */
    s0: z.number().int().min(2).max(10000).default(2),
    /** s_1: N(K) = s_1 + 1 at the last step */
    s1: z.number().int().min(1).max(10000).default(150),
    /** K: the steps over which N grows (the run's training steps) */
    totalSteps: z.number().int().min(1).max(1000000).default(8000),
    /** rho of the Karras boundaries */
    rho: rhoField,
  }),
  math: {
    latex:
      'n \\sim \\mathcal{U}\\{1, \\dots, N(k) - 1\\},\\ z \\sim \\mathcal{N}(0, I):\\ x_{t_{n+1}} = x + t_{n+1} z,\\ x_{t_n} = x + t_n z;\\quad t_i = \\big(\\epsilon^{1/\\rho} + \\tfrac{i - 1}{N - 1}(T^{1/\\rho} - \\epsilon^{1/\\rho})\\big)^\\rho,\\quad N(k) = \\Big\\lceil \\sqrt{\\tfrac{k}{K}((s_1 + 1)^2 - s_0^2) + s_0^2} - 1 \\Big\\rceil + 1',
    explain:
      'Consistency training needs no pretrained diffusion model: two neighbouring noise levels t_n < t_{n+1} are noised with the same Gaussian draw, which puts both points on one trajectory of the probability-flow ODE whose score is estimated by the data point itself. The discretisation starts coarse (N = s_0 levels: far-apart pairs, a strong but biased signal) and grows to s_1 + 1 levels over the run (close pairs, a small bias): the curriculum N(k).',
  },
  ui: { totalSteps: { units: 'steps' }, rho: { advanced: true } },
  fixture: { inputs: { x0: { kind: 'Tensor', shape: [2] }, sde: { kind: 'Schedule', T: 10 } }, params: { s1: 10, totalSteps: 20 } },
  infer(shapes, p) {
    const x = tensorShape(shapes, 'x0');
    axisShape(shapes);
    if (p.s1 + 1 < p.s0) throw new InferError('x0', `s1 + 1 (${p.s1 + 1}) must be at least s0 (${p.s0})`, 'bad-input');
    return { xNext: { kind: 'Tensor', shape: x }, uNext: { kind: 'Tensor', shape: [] }, xCur: { kind: 'Tensor', shape: x }, uCur: { kind: 'Tensor', shape: [] } };
  },
  build(ctx, p, _shapes, statics): { axis: CmAxis; table: any; S: number } {
    const axis = axisFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined);
    const K = p.totalSteps;
    const table = ctx.ops.constant(Float32Array.from({ length: K + 1 }, (_, k) => curriculumN(k, K, p.s0, p.s1)), [K + 1]);
    readState(ctx, 'k', [1], { kind: 'zeros' });
    return { axis, table, S: Math.max(p.s0, p.s1 + 1) };
  },
  apply(ctx, { inputs, params, built, shapes }) {
    const { ops } = ctx;
    const event = (shapes.x0 as { shape: number[] }).shape;
    const k = readState(ctx, 'k', [1], { kind: 'zeros' });
    writeState(ctx, 'k', ops.add(k, ops.scalar(1)));
    const N = ops.gather(built.table, ops.clip(k, 0, params.totalSteps));
    const { uCur, uNext } = drawLevels(ops, flatRows(ops, inputs.x0, event), built.axis, N, built.S, params.rho);
    const z = ops.randomNormalLike(inputs.x0);
    const at = (u: any) => ops.add(inputs.x0, ops.mul(z, col(ops, sigmaOf(ops, built.axis, u), event)));
    return { xNext: at(uNext), uNext, xCur: at(uCur), uCur };
  },
});

/**
 * The training pairs of consistency distillation (Algorithm 2; the CD loss, eq. 7): with a
 * pretrained score s_phi(x, t) (the teacher), one step of an ODE solver on the empirical
 * probability-flow ODE dx/dt = -t s_phi(x, t) (eq. 3, on the VE axis sigma(t) = t) from
 * x_{t_{n+1}} = x + t_{n+1} z back to t_n:
 *   x^_{t_n} = x_{t_{n+1}} + (t_n - t_{n+1}) Phi(x_{t_{n+1}}, t_{n+1}; phi)   (eq. 6)
 * Phi = -t s_phi (Euler) or Heun's average of that slope at both ends. The teacher output is
 * under stop-gradient (the teacher is not trained by this loss). N is fixed (n ~ U{1..N-1}).
 * The teacher is a score in its SDE's own time: for a VE SDE that is u itself; a VP or sub-VP
 * teacher (a DDPM through the converter) is read on the VE axis by veScore (cm.ts).
 */
export const cdPairs = defineNode({
  type: 'consistency.distillationPairs',
  version: 1,
  title: 'Consistency distillation pairs (teacher ODE step)',
  category: 'diffusion',
  role: 'none',
  inputs: {
    x0: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'clean data x' },
    teacher: { type: { kind: 'Fn' }, doc: 'the teacher score s_phi(x, u) ~ grad_x log p_t(x) (a converter reads an epsilon network as one)' },
    sde: CM_SDE_IN,
  },
  outputs: PAIR_OUT,
  params: z.object({
    /** N: the levels of the discretisation */
    N: z.number().int().min(2).max(10000).default(18),
    solver: z.enum(['euler', 'heun']).default('heun'),
    rho: rhoField,
  }),
  math: {
    latex:
      'x_{t_{n+1}} = x + t_{n+1} z,\\quad \\hat x^{\\phi}_{t_n} = x_{t_{n+1}} + (t_n - t_{n+1})\\,\\Phi(x_{t_{n+1}}, t_{n+1}; \\phi)\\ \\text{(eq. 6)},\\quad \\Phi(x, t; \\phi) = -t\\,s_\\phi(x, t)\\ \\text{(eq. 3)}',
    explain:
      'Consistency distillation takes a trained diffusion model as a teacher: from a noised data point it takes one numerical step of the teacher\'s probability-flow ODE to the next lower noise level, and the student is trained to give the same answer at both points. The student learns to jump along the teacher\'s trajectories to their end in one evaluation.',
  },
  ui: { rho: { advanced: true } },
  fixture: { inputs: { x0: { kind: 'Tensor', shape: [2] }, teacher: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, sde: { kind: 'Schedule', T: 10 } }, params: { N: 5 } },
  infer(shapes) {
    const x = tensorShape(shapes, 'x0');
    samplerFn(shapes, 'teacher', { timed: true, square: true, time: 'continuous' });
    axisShape(shapes);
    return { xNext: { kind: 'Tensor', shape: x }, uNext: { kind: 'Tensor', shape: [] }, xCur: { kind: 'Tensor', shape: x }, uCur: { kind: 'Tensor', shape: [] } };
  },
  build(ctx, _p, _shapes, statics): { axis: CmAxis } {
    return { axis: axisFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined) };
  },
  apply(ctx, { inputs, params, built, shapes }) {
    const { ops } = ctx;
    const event = (shapes.x0 as { shape: number[] }).shape;
    const teacher: FnValue<any> = veScore(ops, inputs.teacher, built.axis, event);
    const { uCur, uNext } = drawLevels(ops, flatRows(ops, inputs.x0, event), built.axis, ops.constant([params.N], [1]), params.N, params.rho);
    const sNext = col(ops, sigmaOf(ops, built.axis, uNext), event);
    const sCur = col(ops, sigmaOf(ops, built.axis, uCur), event);
    const xNext = ops.add(inputs.x0, ops.mul(ops.randomNormalLike(inputs.x0), sNext));
    const h = ops.sub(sCur, sNext);
    // Phi = dx/dt = -t s_phi(x, t)
    const slope = (x: any, u: any, s: any) => ops.neg(ops.mul(s, ops.stopGradient(teacher.call(x, u))));
    const d1 = slope(xNext, uNext, sNext);
    let xCur = ops.add(xNext, ops.mul(d1, h));
    if (params.solver === 'heun') xCur = ops.add(xNext, ops.mul(ops.mul(ops.add(d1, slope(xCur, uCur, sCur)), ops.scalar(0.5)), h));
    return { xNext, uNext, xCur: ops.stopGradient(xCur), uCur };
  },
});
