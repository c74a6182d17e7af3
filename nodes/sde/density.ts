import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import type { Ops } from '../core/ops';
import { rowZeros, sumEvent, type DistValue, type FnValue, type ScheduleValue } from '../core/values';
import { CALLS_PER_STEP, DIVERGENCES, divergence, integrate, resolveDivergence, SOLVERS, timeTable, type ProbeNoise, type Solver } from '../flowmatching/ode';
import { flowField, priorDraw, SDE_LATENT } from './samplers';
import { priorStd, type Sde } from './sdes';
import { SCORE_IN, scoreShape, SDE_IN, sdeFrom, sdeShape } from './shared';

export interface FlowDensityOptions {
  solver: Solver;
  steps: number;
  divergence: 'exact' | 'hutchinson';
  probe: ProbeNoise;
}

/**
 * The exact likelihood of a score model through the probability-flow ODE (Song et al.
 * 2021, sec. 4.3 and Appendix D.2; the instantaneous change of variables of
 * Chen et al. 2018):
 *   log p_0(x(0)) = log p_1(x(1)) + int_0^1 div F(x(t), t) dt,   F = f x - 1/2 g^2 s_theta (eq. 13)
 * x(t) from integrating dx/dt = F forwards from x(tEps) = x; the divergence rides along as a
 * second state (the machinery of flow matching's CNF density: the same solvers, exact trace
 * in 2-D, Hutchinson's estimator above). p_1 = N(0, s(1)^2 I). What is computed is the
 * density at tEps, of the data blurred by s(tEps) (0.01 for the VP default): in nats.
 */
export function flowDensity<T>(ops: Ops<T>, sde: Sde, f: FnValue<T>, o: FlowDensityOptions, tables: { forward: T; backward: T }): DistValue<T> {
  const event = f.in;
  const d = event[0]!;
  const sd = priorStd(sde);
  // log N(x; 0, sd^2 I) = -1/2 sum (x^2 / sd^2 + log(2 pi sd^2))
  const priorLogProb = (x: T) => sumEvent(ops, ops.mul(ops.add(ops.mul(ops.square(x), ops.scalar(1 / (sd * sd))), ops.scalar(Math.log(2 * Math.PI * sd * sd))), ops.scalar(-0.5)));
  const F = (x: T, t: T) => flowField(ops, sde, f, x, t);
  return {
    kind: 'Dist',
    family: 'probabilityFlow',
    event,
    sample: (n) => {
      const [x] = integrate(ops, { solver: o.solver, steps: o.steps, t0: 1, t1: sde.tEps, times: tables.backward, init: [priorDraw(ops, sde, n, event)], f: (t, [y]) => [F(y!, t)] });
      return ops.stopGradient(x!);
    },
    logProb: (x) => {
      // d/dt [x, L] = [F, div F] from tEps (L = 0) up to 1: L(1) = int div F dt
      const [x1, integral] = integrate(ops, {
        solver: o.solver,
        steps: o.steps,
        t0: sde.tEps,
        t1: 1,
        times: tables.forward,
        init: [x, rowZeros(ops, x)],
        f: (t, [y]) => [F(y!, t), divergence(ops, (z) => F(z, t), y!, d, o.divergence, o.probe)],
      });
      return ops.add(priorLogProb(x1!), integral!);
    },
    params: {},
  };
}

export const flowDensityNode = defineNode({
  type: 'sde.density',
  version: 1,
  title: 'Probability-flow likelihood',
  category: 'flow',
  role: 'none',
  inputs: { score: SCORE_IN, sde: SDE_IN },
  outputs: { dist: { type: { kind: 'Dist' }, doc: 'p_0: log p by the probability-flow ODE with the divergence; samples by the same ODE' } },
  params: z.object({
    solver: z.enum(SOLVERS).default('rk4'),
    steps: z.number().int().min(1).max(10000).default(32),
    /** exact: one gradient per dimension; hutchinson: one gradient, unbiased; auto: exact up to 2-D */
    divergence: z.enum(DIVERGENCES).default('auto'),
    probe: z.enum(['rademacher', 'gaussian']).default('rademacher'),
  }),
  math: {
    latex:
      '\\log p_0(x(0)) = \\log p_1(x(1)) + \\int_0^1 \\nabla \\cdot \\Big[f(x(t), t) - \\tfrac{1}{2} g(t)^2 s_\\theta(x(t), t)\\Big]\\,dt\\ \\ \\text{(App. D.2)}',
    explain:
      'The probability-flow ODE is a continuous normalising flow, so the diffusion model has an exact likelihood: carry the data point forwards along the ODE to the prior at t = 1, and add up on the way how much the flow expands volume (the divergence of its velocity, exact in 2-D, estimated with one random probe in more dimensions). Reported in nats per point; it is exact for the model the learned score defines, which is not quite the model the SDE samplers draw from.',
  },
  fixture: { inputs: { score: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, sde: { kind: 'Schedule', T: 10 } }, params: { steps: 3 } },
  exports: [{ kind: 'density', port: 'dist', doc: 'log p(x) by the probability-flow ODE with the divergence' }],
  evaluators: [{ kind: 'nll', dist: 'dist' }],
  ui: { steps: { units: 'steps' }, divergence: { advanced: true }, probe: { advanced: true, showWhen: { divergence: ['auto', 'hutchinson'] } } },
  describe: (p, shapes) => {
    const f = shapes.score;
    const dim = f?.kind === 'Fn' ? (f.in[0] ?? 0) : 0;
    const how = resolveDivergence(p.divergence, dim) === 'exact' ? 'the exact divergence' : "Hutchinson's divergence estimate";
    return {
      latent: SDE_LATENT,
      likelihood: { kind: 'exact', text: `exact log-likelihood by the probability-flow ODE with ${how}, ${p.steps} ${p.solver} steps (${p.steps * CALLS_PER_STEP[p.solver]} field evaluations)` },
    };
  },
  infer(shapes) {
    const f = scoreShape(shapes);
    sdeShape(shapes);
    if (f.in.length !== 1) throw new InferError('score', `the ODE likelihood needs flat vectors [B, d]; the network on "score" takes [B, ${f.in.join(', ')}]`);
    return { dist: { kind: 'Dist', event: f.in } };
  },
  build(ctx, p, _shapes, statics): { sde: Sde; forward: any; backward: any } {
    const sde = sdeFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined);
    return { sde, forward: timeTable(ctx.ops, sde.tEps, 1, p.steps), backward: timeTable(ctx.ops, 1, sde.tEps, p.steps) };
  },
  apply(ctx, { inputs, params, built }) {
    const f: FnValue<any> = inputs.score;
    const opts: FlowDensityOptions = { solver: params.solver, steps: params.steps, divergence: resolveDivergence(params.divergence, f.in[0]!), probe: params.probe };
    return { dist: flowDensity(ctx.ops, built.sde, f, opts, built) };
  },
});
