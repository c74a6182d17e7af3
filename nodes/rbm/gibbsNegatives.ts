import { z } from 'zod';
import { defineNode, InferError, readState, writeState } from '../core/defineNode';
import type { PortShape } from '../core/ports';
import { runStepper } from '../core/stepper';
import { bernoulli, gibbsStep, isGaussianRbm, visibleUnits } from './rbmOps';

/** the RBM's Fn on `port`, checked: a scalar F(v) per flat binary vector */
export function rbmShape(shapes: Record<string, PortShape | undefined>, port: string) {
  const f = shapes[port];
  if (!f) throw new InferError(port, `connect an RBM to "${port}"`, 'bad-input');
  if (f.kind !== 'Fn' || f.timeConditioned || f.in.length !== 1 || f.out.length !== 1 || f.out[0] !== 1) {
    throw new InferError(port, `"${port}" must be driven by an RBM's fn (F(v) per row)`, 'bad-input');
  }
  return f;
}

/**
 * The negatives of contrastive divergence (Hinton 2002; persistent CD: Tieleman 2008):
 * v_k after k block Gibbs steps v -> h ~ p(h|v) -> v ~ p(v|h) of the current RBM,
 * - CD-k: from the data batch (v_0 = the positives);
 * - PCD-k: from the chains left by the previous training step, kept as node state
 *   (`chains` rows, checkpointed and restored on resume); they start Bernoulli(1/2).
 * Detached: computed before the training step, outside the gradient (the loss sees sg[v_k]).
 */
export const gibbsNegatives = defineNode({
  type: 'negatives.rbmGibbs',
  version: 1,
  title: 'Gibbs negatives (CD-k / PCD-k)',
  category: 'sampler',
  role: 'none',
  inputs: {
    rbm: { type: { kind: 'Fn' }, doc: 'the RBM' },
    data: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'the data batch (the chains start here for CD-k)' },
  },
  outputs: { negatives: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'v_k: one chain state per row (no gradient)' } },
  params: z.object({
    /** k: block Gibbs steps per training step */
    steps: z.number().int().min(1).max(10000).default(1),
    /** PCD: continue persistent chains instead of restarting at the data */
    persistent: z.boolean().default(false),
    /** persistent chains (PCD only) */
    chains: z.number().int().min(1).max(100000).default(100),
  }),
  math: {
    latex:
      'v_0 = \\begin{cases} x & \\text{CD-}k \\\\ v_k^{\\text{prev}} & \\text{PCD-}k \\end{cases},\\quad h_t \\sim p_\\theta(h \\mid v_t),\\ v_{t+1} \\sim p_\\theta(v \\mid h_t),\\quad v^- = \\operatorname{sg}[v_k]',
    explain:
      'Contrastive divergence replaces the model expectation in the likelihood gradient by a short Markov chain: k block Gibbs steps of the RBM. CD-k restarts the chain at the data batch every step (cheap, biased: the chain never travels far from the data); persistent CD keeps the chains from one step to the next, so they keep mixing towards the model distribution as the weights change slowly. The chain is a constant to the loss (sg).',
  },
  ui: { steps: { units: 'steps' }, chains: { showWhen: { persistent: [true] } } },
  fixture: { inputs: { rbm: { kind: 'Fn', in: [6], out: [1], timeConditioned: false }, data: { kind: 'Tensor', shape: [6] } }, params: { steps: 2 } },
  detached: true,
  describe: (p) => ({ sampler: { calls: p.steps, text: `${p.persistent ? 'PCD' : 'CD'}-${p.steps}: ${p.steps} block Gibbs step${p.steps > 1 ? 's' : ''} per training step from ${p.persistent ? `${p.chains} persistent chains` : 'the data batch'}` } }),
  infer(shapes) {
    const f = rbmShape(shapes, 'rbm');
    return { negatives: { kind: 'Tensor', shape: f.in } };
  },
  build(ctx, p, shapes) {
    const f = shapes.rbm as { in: number[] } | undefined;
    if (f && p.persistent) readState(ctx, 'chains', [p.chains, f.in[0]!], { kind: 'uniform', low: 0, high: 1 });
    return undefined;
  },
  apply(ctx, { inputs, params: p }) {
    const { ops } = ctx;
    const r = inputs.rbm;
    const D = visibleUnits(r);
    // persistent chains start uniform in [0, 1): their first state is a Bernoulli draw of it
    const state = p.persistent ? readState(ctx, 'chains', [p.chains, D], { kind: 'uniform', low: 0, high: 1 }) : undefined;
    // (Gaussian visible units: the state is the chain itself)
    const v0 = state ? (isGaussianRbm(r) ? state : bernoulli(ops, state)) : ops.stopGradient(inputs.data);
    const vk = runStepper(ops, { steps: p.steps, init: () => [v0], step: (_i, [v]) => [gibbsStep(ops, r, v!).v] });
    const negatives = ops.stopGradient(vk);
    // a binary state read back as "uniform < state" keeps its value
    if (state) writeState(ctx, 'chains', negatives);
    return { negatives };
  },
});
