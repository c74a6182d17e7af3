import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { SAMPLES_OUT } from '../core/samplerShapes';
import { runStepper } from '../core/stepper';
import { rbmShape } from './gibbsNegatives';
import { chainStart, gibbsStep } from './rbmOps';

/**
 * Sampling an RBM by block Gibbs sampling: chains start at v_0 ~ prod_i Bernoulli(sigmoid(b_i))
 * (the visible units with the hidden ones switched off) and take K steps
 * h_t ~ p(h | v_t), v_{t+1} ~ p(v | h_t); the sample is v_K, or p(v_K = 1 | h_{K-1}) (the
 * mean image of the last step, the usual picture of an RBM sample). A stepper: one ONNX Loop.
 */
export const rbmGibbsSampler = defineNode({
  type: 'sampler.rbmGibbs',
  version: 1,
  title: 'RBM Gibbs sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: { rbm: { type: { kind: 'Fn' }, doc: 'the RBM' } },
  outputs: SAMPLES_OUT,
  params: z.object({
    /** K: block Gibbs steps from the start */
    steps: z.number().int().min(1).max(100000).default(1000),
    /** return the probabilities p(v_K = 1 | h_{K-1}) instead of a binary draw */
    lastMean: z.boolean().default(true),
  }),
  math: {
    latex: 'v_0 \\sim \\prod_i \\operatorname{Bern}(\\sigma(b_i)),\\quad h_t \\sim p_\\theta(h \\mid v_t) = \\sigma(c + W^\\top v_t),\\quad v_{t+1} \\sim p_\\theta(v \\mid h_t) = \\sigma(b + W h_t),\\quad t = 0..K-1',
    explain:
      'Block Gibbs sampling alternates between the two layers: all hidden units given the image at once, then all pixels given the hidden units. The chain\'s stationary distribution is the RBM\'s p(v, h), so after K burn-in steps v_K is approximately a sample. The last step can return the pixel probabilities instead of a binary draw, which is how RBM samples are usually shown. With Gaussian visible units (real-valued data) v given h is a Gaussian around b + sigma W h, and the chain starts from N(b, sigma^2).',
  },
  ui: { steps: { units: 'steps' }, lastMean: { advanced: true } },
  fixture: { inputs: { rbm: { kind: 'Fn', in: [6], out: [1], timeConditioned: false } }, params: { steps: 3 } },
  describe: (p) => ({ sampler: { calls: p.steps, text: `${p.steps} block Gibbs steps from the visible biases${p.lastMean ? ', the last one its pixel probabilities' : ''}` } }),
  infer(shapes) {
    const f = rbmShape(shapes, 'rbm');
    return { samples: { kind: 'Tensor', shape: f.in } };
  },
  apply(ctx, { inputs, params: p }) {
    const { ops } = ctx;
    const r = inputs.rbm;
    const start = () => chainStart(ops, r, ctx.batchSize);
    const samples = runStepper(ops, {
      steps: p.steps,
      init: () => {
        const v0 = start();
        return p.lastMean ? [v0, v0] : [v0];
      },
      step: (_i, [v]) => {
        const s = gibbsStep(ops, r, v!);
        return p.lastMean ? [s.v, s.pv] : [s.v];
      },
      result: (carry) => (p.lastMean ? carry[1]! : carry[0]!),
    });
    return { samples };
  },
});
