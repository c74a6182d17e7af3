import { z } from 'zod';
import { defineNode, readState, writeState } from '../core/defineNode';
import { flatSize } from '../core/objective';
import { runStepper } from '../core/stepper';
import type { FnValue } from '../core/values';
import { langevinFields, langevinStep, uniformStart } from './langevin';
import { energyFn } from './langevinSampler';

/**
 * Negatives for contrastive training by stochastic gradient Langevin dynamics with a
 * persistent replay buffer (Du & Mordatch 2019, section 3.1; persistent CD, Tieleman 2008):
 * each step starts a fraction `restart` of the chains from uniform noise over the box and
 * the rest from points drawn from the buffer, runs K Langevin steps, and appends the
 * results to the buffer (first in, first out). The buffer is node state: kept between
 * steps, checkpointed and restored on resume. The node is detached: it runs before the
 * training step, outside the gradient, so the chain is never backpropagated.
 */
export const sgldNegatives = defineNode({
  type: 'negatives.sgld',
  version: 1,
  title: 'Langevin negatives (replay buffer)',
  category: 'sampler',
  role: 'none',
  inputs: { energy: { type: { kind: 'Fn' }, doc: 'E_theta(x)' } },
  outputs: { negatives: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'x-: one Langevin chain end per batch row (no gradient)' } },
  params: z.object({
    /** K: Langevin steps per training step */
    steps: z.number().int().min(1).max(10000).default(20),
    ...langevinFields,
    /** points kept in the replay buffer */
    bufferSize: z.number().int().min(1).max(1_000_000).default(10000),
    /** the fraction of chains started afresh from uniform noise (rounded to 1/1000) */
    restart: z.number().min(0).max(1).default(0.05),
  }),
  math: {
    latex:
      'x_0^- \\sim \\begin{cases} \\mathcal{U}[-b, b]^d & \\text{w.p. } \\rho \\\\ \\mathcal{B} & \\text{otherwise} \\end{cases},\\quad x_{k+1}^- = x_k^- - \\frac{\\epsilon}{2}\\nabla_x E_\\theta(x_k^-) + s\\sqrt{\\epsilon}\\,z_k,\\quad x^- = \\operatorname{sg}[x_K^-] \\to \\mathcal{B}',
    explain:
      'The model samples the contrastive loss needs, drawn by a few Langevin steps per training step. Short chains from noise would not mix, so most chains continue from a replay buffer B of earlier negatives (persistent contrastive divergence) and a few restart from uniform noise to keep exploring. The chain is a constant to the loss (sg): its steps are never backpropagated.',
  },
  ui: { stepSize: { units: 'eps' }, steps: { units: 'steps' }, box: { advanced: true }, bufferSize: { advanced: true }, restart: { advanced: true } },
  fixture: { inputs: { energy: { kind: 'Fn', in: [2], out: [1], timeConditioned: false } }, params: { steps: 2, stepSize: 0.1, bufferSize: 16 } },
  detached: true,
  describe: (p) => ({ sampler: { calls: p.steps, text: `${p.steps} Langevin steps per training step, from a replay buffer of ${p.bufferSize}` } }),
  infer(shapes) {
    const f = energyFn(shapes, 'energy');
    return { negatives: { kind: 'Tensor', shape: f.in } };
  },
  build(ctx, p, shapes) {
    const f = shapes.energy as { in: number[] } | undefined;
    if (!f) return undefined;
    // declared here so that the buffer exists (and is checkpointed) from step 0
    readState(ctx, 'buffer', [p.bufferSize, flatSize(f.in)], { kind: 'uniform', low: -p.box, high: p.box });
    return undefined;
  },
  batchDependent: true,
  apply(ctx, { inputs, params: p }) {
    const { ops } = ctx;
    const E: FnValue<any> = inputs.energy;
    const d = flatSize(E.in);
    const N = p.bufferSize;
    const buffer = readState(ctx, 'buffer', [N, d], { kind: 'uniform', low: -p.box, high: p.box });
    const ones = E.in.map(() => 1);
    const fresh = uniformStart(ops, ctx.batchSize, E.in, p.box);
    const replayed = ops.reshape(ops.gather(buffer, ops.randomIntLike(fresh, N)), [-1, ...E.in]);
    // restart mask m in {0, 1} per row: k uniform in 0..999, m = 1 iff k < 1000 rho
    const m = ops.reshape(ops.clip(ops.sub(ops.scalar(Math.round(1000 * p.restart)), ops.randomIntLike(fresh, 1000)), 0, 1), [-1, ...ones]);
    const x0 = ops.add(ops.mul(m, fresh), ops.mul(ops.sub(ops.scalar(1), m), replayed));
    const xK = runStepper(ops, {
      steps: p.steps,
      init: () => [x0],
      step: (_i, [x]) => [langevinStep(ops, E, x!, p.stepSize, p.noiseScale, p.box)],
    });
    const negatives = ops.stopGradient(xK);
    // first in, first out: the newest B points replace the oldest (only where state is kept)
    const B = ctx.batchSize;
    if (ctx.setState && B > 0) {
      const flat = ops.reshape(negatives, [-1, d]);
      writeState(ctx, 'buffer', B >= N ? ops.sliceAxis(flat, 0, B - N, N) : ops.concat([ops.sliceAxis(buffer, 0, B, N - B), flat], 0));
    }
    return { negatives };
  },
});
