import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { SAMPLES_OUT } from '../core/samplerShapes';
import { runStepper } from '../core/stepper';
import { rbmShape } from './gibbsNegatives';
import { bernoulli, chainStart, fixtureRbm, gibbsStep, isRbmFn, visibleProbs } from './rbmOps';

/**
 * Sampling a deep belief net (Hinton, Osindero & Teh 2006): its top two layers are an RBM
 * (an undirected associative memory), the layers below are directed, top-down. So a sample
 * runs block Gibbs in the top RBM, then one downward pass through each lower RBM's
 * generative weights:
 *   h^(1) ~ Gibbs_K(p_top(h^(1), h^(2))),   v ~ p(v | h^(1)) = Bern(sigmoid(b + W h^(1)))
 * Here with two layers: `top` is the RBM trained on the hidden probabilities of `below`.
 */
export const dbnSampler = defineNode({
  type: 'sampler.dbn',
  version: 1,
  title: 'Deep belief net sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: {
    top: { type: { kind: 'Fn' }, doc: 'the top RBM (trained on the hidden units of the RBM below)' },
    below: { type: { kind: 'Fn' }, doc: 'the bottom RBM, over the data' },
  },
  outputs: SAMPLES_OUT,
  params: z.object({
    steps: z.number().int().min(1).max(100000).default(1000),
    /** return p(v = 1 | h) of the downward pass instead of a binary draw */
    lastMean: z.boolean().default(true),
  }),
  math: {
    latex: 'h^{(1)}_K \\sim \\text{Gibbs}_K\\big(p_{\\text{top}}(h^{(1)}, h^{(2)})\\big),\\qquad v \\sim p(v \\mid h^{(1)}_K) = \\operatorname{Bern}\\big(\\sigma(b + W h^{(1)}_K)\\big)',
    explain:
      'A deep belief net is a stack of RBMs trained one on top of the other: the second learns the hidden features of the first. As a generative model only its top two layers are undirected; below them the connections point down. So a sample is drawn by running the top RBM\'s Gibbs chain for a while, then passing its state down once through the lower RBM\'s weights to the pixels.',
  },
  ui: { steps: { units: 'steps' }, lastMean: { advanced: true } },
  fixture: {
    inputs: { top: { kind: 'Fn', in: [4], out: [1], timeConditioned: false }, below: { kind: 'Fn', in: [6], out: [1], timeConditioned: false } },
    params: { steps: 3 },
    values: { top: fixtureRbm(4, 3), below: fixtureRbm(6, 4) },
  },
  describe: (p) => ({ sampler: { calls: p.steps + 1, text: `${p.steps} block Gibbs steps in the top RBM, then one downward pass to the data` } }),
  infer(shapes) {
    rbmShape(shapes, 'top');
    const below = rbmShape(shapes, 'below');
    return { samples: { kind: 'Tensor', shape: below.in } };
  },
  apply(ctx, { inputs, params: p }) {
    const { ops } = ctx;
    const { top, below } = inputs;
    if (!isRbmFn(below) || !isRbmFn(top)) throw new Error('deep belief net sampler: "top" and "below" must both be driven by RBMs');
    if (top.visible !== below.hidden) throw new Error(`deep belief net sampler: the top RBM has ${top.visible} visible units but the RBM below has ${below.hidden} hidden units`);
    const h1 = runStepper(ops, { steps: p.steps, init: () => [chainStart(ops, top, ctx.batchSize)], step: (_i, [v]) => [gibbsStep(ops, top, v!).v] });
    const pv = visibleProbs(ops, below, h1);
    return { samples: ops.stopGradient(p.lastMean ? pv : bernoulli(ops, pv)) };
  },
});
