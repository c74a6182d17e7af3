import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { expectSame, LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';
import { samplerFn } from '../core/samplerShapes';
import { sumEvent, type FnValue, type ScheduleValue } from '../core/values';
import { axisFrom, axisShape, CM_SDE_IN, type CmAxis } from './cm';

export const METRICS = ['l2', 'l1', 'pseudoHuber'] as const;

/**
 * The consistency loss (CT, eq. 10; CD, eq. 7):
 *   L^N(theta, theta^-) = E[ lambda(t_n) d( f_theta(x_{t_{n+1}}, t_{n+1}), f_{theta^-}(x_{t_n}, t_n) ) ]
 * the target f_{theta^-} under stop-gradient (its Fn is; applied again here). d per row:
 * - l2: ||a - b||^2 / D (the squared L2 of the paper, per dimension);
 * - l1: ||a - b||_1 / D;
 * - pseudoHuber: sqrt(||a - b||^2 + c^2) - c (improved CT: c = 0.00054 sqrt(D)).
 * lambda(t_n): 1 (the paper's CT and CD) or 1 / (t_{n+1} - t_n) (improved CT).
 * The pair comes from a training-pairs node (CT: x + t z with a shared z; CD: a teacher ODE step).
 */
export const consistencyLoss = defineNode({
  type: 'loss.consistency',
  version: 1,
  title: 'Consistency loss',
  category: 'loss',
  role: 'objective',
  inputs: {
    f: { type: { kind: 'Fn' }, doc: 'the consistency function f_theta (trained)' },
    target: { type: { kind: 'Fn' }, doc: 'the target network f_{theta^-} (EMA, stop-gradient)' },
    xNext: { type: { kind: 'Tensor' }, doc: 'x_{t_{n+1}}' },
    uNext: { type: { kind: 'Tensor', semantic: 'time' }, doc: 'u of t_{n+1}' },
    xCur: { type: { kind: 'Tensor' }, doc: 'x_{t_n} (or the teacher\'s x^_{t_n})' },
    uCur: { type: { kind: 'Tensor', semantic: 'time' }, doc: 'u of t_n' },
    sde: CM_SDE_IN,
  },
  outputs: LOSS_OUT,
  params: z.object({
    ...objectiveFields,
    /** d: the distance between the two outputs */
    metric: z.enum(METRICS).default('l2'),
    /** c of the pseudo-Huber metric (0: 0.00054 sqrt(D)) */
    huberC: z.number().min(0).max(100).default(0),
    /** lambda(t_n): uniform (1) or 1 / (t_{n+1} - t_n) */
    weighting: z.enum(['uniform', 'inverseGap']).default('uniform'),
  }),
  math: {
    latex:
      '\\mathcal{L}^N(\\theta, \\theta^-) = \\mathbb{E}\\big[\\lambda(t_n)\\, d\\big(f_\\theta(x_{t_{n+1}}, t_{n+1}),\\ \\operatorname{sg}[f_{\\theta^-}(x_{t_n}, t_n)]\\big)\\big]\\ \\text{(eq. 7, 10)},\\quad d(a, b) \\in \\{\\|a - b\\|_2^2,\\ \\|a - b\\|_1,\\ \\sqrt{\\|a - b\\|^2 + c^2} - c\\}',
    explain:
      'The consistency loss asks the model to give the same output at two neighbouring points of one trajectory: the point at the higher noise level goes through the trained network, the one at the lower level through the target network, whose output is held fixed (stop-gradient). Because the model is the identity at the lowest level, agreement propagates from the clean end up the whole trajectory, and in the limit the model maps every noise level straight to data.',
  },
  ui: { ...OBJECTIVE_UI, huberC: { advanced: true, showWhen: { metric: ['pseudoHuber'] } }, weighting: { advanced: true } },
  fixture: {
    inputs: {
      f: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' },
      target: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' },
      xNext: { kind: 'Tensor', shape: [2] },
      uNext: { kind: 'Tensor', shape: [] },
      xCur: { kind: 'Tensor', shape: [2] },
      uCur: { kind: 'Tensor', shape: [] },
      sde: { kind: 'Schedule', T: 10 },
    },
  },
  describe: () => ({
    divergence: 'no divergence between distributions directly: the self-consistency of f_theta along probability-flow ODE trajectories (the distance d between f_theta at t_{n+1} and the EMA target at t_n); at its minimum f_theta inverts the ODE, so its samples follow p_data (CT: the score estimated from the data; CD: the teacher\'s ODE)',
    likelihood: { kind: 'none', text: 'no likelihood: a one-step generator trained by self-consistency (the ODE of the teacher or of the data would give one)' },
  }),
  infer(shapes) {
    const f = samplerFn(shapes, 'f', { timed: true, square: true, time: 'continuous' });
    samplerFn(shapes, 'target', { timed: true, square: true, time: 'continuous' });
    expectSame('xNext', tensorShape(shapes, 'xNext'), f.in, 'the point must match the consistency function');
    expectSame('xCur', tensorShape(shapes, 'xCur'), f.in, 'the point must match the consistency function');
    tensorShape(shapes, 'uNext');
    tensorShape(shapes, 'uCur');
    axisShape(shapes);
    return { loss: { kind: 'Loss' } };
  },
  build: (ctx, _p, _shapes, statics): { axis: CmAxis } => ({ axis: axisFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined) }),
  apply(ctx, { inputs, params, built, shapes }) {
    const { ops } = ctx;
    const f: FnValue<any> = inputs.f;
    const target: FnValue<any> = inputs.target;
    const event = (shapes.xNext as { shape: number[] }).shape;
    const D = event.reduce((a, b) => a * b, 1);
    const uNext = ops.clip(inputs.uNext, 0, 1);
    const uCur = ops.clip(inputs.uCur, 0, 1);
    const a = f.call(inputs.xNext, uNext);
    const b = ops.stopGradient(target.call(inputs.xCur, uCur));
    const r = ops.sub(a, b);
    let perRow: any;
    if (params.metric === 'l2') perRow = ops.mul(sumEvent(ops, ops.square(r)), ops.scalar(1 / D));
    else if (params.metric === 'l1') perRow = ops.mul(sumEvent(ops, ops.abs(r)), ops.scalar(1 / D));
    else {
      const c = params.huberC > 0 ? params.huberC : 0.00054 * Math.sqrt(D);
      perRow = ops.sub(ops.sqrt(ops.add(sumEvent(ops, ops.square(r)), ops.scalar(c * c))), ops.scalar(c));
    }
    const consistency = ops.mean(perRow);
    let value = consistency;
    if (params.weighting === 'inverseGap') {
      const sig = (u: any) => ops.mul(ops.exp(ops.mul(u, ops.scalar(built.axis.L))), ops.scalar(built.axis.eps));
      const gap = ops.maximum(ops.sub(sig(uNext), sig(uCur)), ops.scalar(1e-6));
      value = ops.mean(ops.div(perRow, gap));
    }
    return { loss: { kind: 'Loss', value, terms: { consistency, ...(params.weighting === 'inverseGap' && { weighted: value }) } } };
  },
});
