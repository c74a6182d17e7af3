import { z } from 'zod';
import { defineNode, emaOf, InferError } from '../core/defineNode';
import { standardNormal } from '../core/dists';
import type { Ops } from '../core/ops';
import { samplerFn } from '../core/samplerShapes';
import { rowZeros, type DistValue, type FnValue } from '../core/values';
import { CALLS_PER_STEP, DIVERGENCES, divergence, integrate, resolveDivergence, SOLVERS, timeTable, type ProbeNoise, type Solver } from './ode';
import { ODE_LATENT } from './paths';

export interface CnfOptions {
  solver: Solver;
  steps: number;
  divergence: 'exact' | 'hutchinson';
  probe: ProbeNoise;
}

/**
 * The density of a continuous normalising flow (the instantaneous
 * change of variables, Chen et al. 2018; Hutchinson's trace estimator, Grathwohl et al.
 * 2019, FFJORD):
 *   log p_1(x) = log N(x(0); 0, I) - int_0^1 div v(x(t), t) dt,
 * with x(t) from integrating dx/dt = v backwards from x(1) = x; the integral of the
 * divergence rides along as a second state. Sampling integrates forwards from noise.
 */
export function cnfDist<T>(ops: Ops<T>, f: FnValue<T>, o: CnfOptions, tables: { forward: T; backward: T }): DistValue<T> {
  const event = f.in;
  const d = event[0]!;
  const base = standardNormal(ops, event);
  const v = (x: T, t: T) => f.call(x, t);
  const draw = (n: number) => {
    const [x1] = integrate(ops, { solver: o.solver, steps: o.steps, t0: 0, t1: 1, times: tables.forward, init: [base.sample(n)], f: (t, [x]) => [v(x!, t)] });
    return ops.stopGradient(x1!);
  };
  return {
    kind: 'Dist',
    family: 'cnf',
    event,
    sample: draw,
    logProb: (x) => {
      // d/dt [x, L] = [v, -div v] from t = 1 (L = 0) down to t = 0, so L(0) = int_0^1 div v dt
      const [x0, integral] = integrate(ops, {
        solver: o.solver,
        steps: o.steps,
        t0: 1,
        t1: 0,
        times: tables.backward,
        init: [x, rowZeros(ops, x)],
        f: (t, [y]) => [v(y!, t), ops.neg(divergence(ops, (z) => v(z, t), y!, d, o.divergence, o.probe))],
      });
      return ops.sub(base.logProb(x0!), integral!);
    },
    params: {},
  };
}

export const cnfDensity = defineNode({
  type: 'cnf.density',
  version: 1,
  title: 'CNF density (ODE likelihood)',
  category: 'flow',
  role: 'none',
  inputs: { velocity: { type: { kind: 'Fn' }, doc: 'the velocity field v_theta(x, t), t in [0, 1]' } },
  outputs: { dist: { type: { kind: 'Dist' }, doc: 'p_1: log p by the ODE with the divergence; samples by the forward ODE' } },
  params: z.object({
    solver: z.enum(SOLVERS).default('rk4'),
    steps: z.number().int().min(1).max(10000).default(32),
    /** exact: one gradient per dimension; hutchinson: one gradient, unbiased; auto: exact up to 2-D */
    divergence: z.enum(DIVERGENCES).default('auto'),
    /** the probe of Hutchinson's estimator */
    probe: z.enum(['rademacher', 'gaussian']).default('rademacher'),
    /** use an exponential moving average of the network's weights (decay per step; 0 = the weights as trained) */
    ema: z.number().min(0).lt(1).default(0),
  }),
  math: {
    latex:
      '\\frac{d \\log p_t(\\mathbf{x}(t))}{dt} = -\\nabla\\!\\cdot f_\\theta(\\mathbf{x}(t), t):\\quad \\log p_1(\\mathbf{x}) = \\log \\mathcal{N}(\\mathbf{x}(0); 0, I) - \\int_0^1 \\sum_i \\frac{\\partial f_{\\theta,i}}{\\partial x_i}(\\mathbf{x}(t), t)\\, dt',
    explain:
      'A continuous normalising flow has an exact likelihood: integrate the ODE backwards from the data point x(1) = x to its noise x(0), and add up how much the flow expands volume on the way (the divergence of the velocity, the trace of its Jacobian). In 2-D the trace is exact, one gradient per dimension; in higher dimensions Hutchinson\'s estimator eps^T J eps needs one gradient and is unbiased. Sampling runs the same ODE forwards from noise.',
  },
  fixture: { inputs: { velocity: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' } }, params: { steps: 3 } },
  exports: [{ kind: 'density', port: 'dist', doc: 'log p(x) by the ODE with the divergence' }],
  evaluators: [{ kind: 'nll', dist: 'dist' }],
  ui: { steps: { units: 'steps' }, divergence: { advanced: true }, probe: { advanced: true, showWhen: { divergence: ['auto', 'hutchinson'] } }, ema: { advanced: true } },
  describe: (p, shapes) => {
    const f = shapes.velocity;
    const dim = f?.kind === 'Fn' ? (f.in[0] ?? 0) : 0;
    const how = resolveDivergence(p.divergence, dim) === 'exact' ? 'the exact divergence' : "Hutchinson's divergence estimate (an unbiased estimate of log p)";
    return {
      latent: ODE_LATENT,
      likelihood: { kind: 'exact', text: `exact log-likelihood by the ODE with ${how}, ${p.steps} ${p.solver} steps (${p.steps * CALLS_PER_STEP[p.solver]} field evaluations)` },
    };
  },
  infer(shapes) {
    const f = samplerFn(shapes, 'velocity', { timed: true, square: true, time: 'continuous' });
    if (f.in.length !== 1) throw new InferError('velocity', `the ODE density needs flat vectors [B, d]; the network on "velocity" takes [B, ${f.in.join(', ')}]`);
    return { dist: { kind: 'Dist', event: f.in } };
  },
  build(ctx, p, _shapes, statics): { forward: any; backward: any; fn: FnValue<any> | undefined } {
    return {
      forward: timeTable(ctx.ops, 0, 1, p.steps),
      backward: timeTable(ctx.ops, 1, 0, p.steps),
      fn: p.ema > 0 ? emaOf(ctx, 'velocity', p.ema, statics.velocity) : undefined,
    };
  },
  apply(ctx, { inputs, params, built }) {
    const f: FnValue<any> = built.fn ?? inputs.velocity;
    const opts: CnfOptions = { solver: params.solver, steps: params.steps, divergence: resolveDivergence(params.divergence, f.in[0]!), probe: params.probe };
    return { dist: cnfDist(ctx.ops, f, opts, built) };
  },
});
