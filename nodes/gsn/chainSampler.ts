import { z } from 'zod';
import { defineNode, emaOf } from '../core/defineNode';
import type { Ops } from '../core/ops';
import { SAMPLES_OUT } from '../core/samplerShapes';
import { runStepper } from '../core/stepper';
import type { FnValue } from '../core/values';
import { drawRecon, reconMean, transitionFn } from './transitionOps';

/** x_0 for each of n chains: uniform over [-b, b]^d, or N(0, I) */
function chainStart<T>(ops: Ops<T>, n: number, event: number[], start: 'uniform' | 'normal', box: number): T {
  const z0 = ops.randomNormal([n, ...event]);
  if (start === 'normal') return z0;
  // u ~ U[0, 1) of z0's shape; x_0 = b (2u - 1)
  return ops.mul(ops.sub(ops.mul(ops.randomUniformLike(z0), ops.scalar(2)), ops.scalar(1)), ops.scalar(box));
}

/**
 * Sampling a GSN = running its Markov chain (Bengio, Yao, Alain & Vincent 2013, section 2,
 * Theorem 1: the stationary law of x~_t ~ C(. | x_t), x_{t+1} ~ P_theta(. | x~_t) estimates
 * the data distribution): n parallel chains start from noise and take K transitions,
 *   x_0 ~ U[-b, b]^d or N(0, I);   x_{t+1} ~ P_theta(x | x~_t),  x~_t = x_t + sigma eps_t
 * and x_K (burn-in K) is the sample; optionally mu_theta(x~_{K-1}), the mean of the last
 * reconstruction, instead of a draw. With `ema` > 0 the chain runs on an exponential moving
 * average of the network's weights: the stationary law is sensitive to small systematic
 * errors of mu_theta (a drift of delta per step, against a diffusion of about sigma^2,
 * tilts the law by exp(2 int delta / sigma^2) along the data), and the average removes the
 * step-to-step noise of the optimiser (gsn-moons after 1200 rounds: energy distance 0.38
 * on the raw weights, 0.007 on an EMA with decay 0.99). A stepper: one ONNX Loop in export.
 */
export const gsnChainSampler = defineNode({
  type: 'sampler.gsnChain',
  version: 1,
  title: 'GSN chain sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: { transition: { type: { kind: 'Fn' }, doc: 'the transition operator: x_t -> parameters of P(x_{t+1} | C(x_t))' } },
  outputs: SAMPLES_OUT,
  params: z.object({
    /** K: transitions from noise before the chain state is returned (burn-in; one network call each) */
    steps: z.number().int().min(1).max(100000).default(200),
    /** the law of x_0 */
    start: z.enum(['uniform', 'normal']).default('uniform'),
    /** b: uniform starts in [-b, b]^d */
    box: z.number().positive().max(1000).default(3),
    /** return mu_theta(x~_{K-1}), the mean of the last reconstruction, instead of a draw */
    lastMean: z.boolean().default(false),
    /** run the chain with an exponential moving average of the network's weights (decay per step; 0 = the weights as trained) */
    ema: z.number().min(0).lt(1).default(0.998),
  }),
  math: {
    latex:
      'x_0 \\sim \\mathcal{U}[-b, b]^d\\ \\text{or}\\ \\mathcal{N}(0, I);\\quad \\tilde x_t = x_t + \\sigma\\,\\epsilon_t,\\quad x_{t+1} \\sim P_\\theta(\\cdot \\mid \\tilde x_t) = \\mathcal{N}\\big(\\mu_\\theta(\\tilde x_t), \\operatorname{diag} e^{2 s_\\theta(\\tilde x_t)}\\big),\\quad t = 0..K-1',
    explain:
      'A GSN has no density to sample from directly: its model is the long-run distribution of its Markov chain. The sampler starts many chains from noise and runs the learned transition (corrupt, then sample a reconstruction) for K burn-in steps; after burn-in the chains are distributed approximately as the stationary law, which training makes close to the data. Small errors of the learned mean add up over hundreds of steps, so by default the chain runs on an average of the network\'s recent weights (EMA). Optionally the last step returns the reconstruction mean instead of a draw, removing the last step\'s noise.',
  },
  ui: { steps: { units: 'steps' }, box: { advanced: true, showWhen: { start: ['uniform'] } }, lastMean: { advanced: true }, ema: { advanced: true } },
  fixture: { inputs: { transition: { kind: 'Fn', in: [2], out: [2, 2], timeConditioned: false } }, params: { steps: 3 } },
  describe: (p) => ({
    latent: { text: 'no latent variable: samples are the states of a Markov chain over data space', rank: 0 },
    likelihood: { kind: 'none', text: 'implicit: the stationary law of a learned Markov chain has no tractable density' },
    sampler: {
      calls: p.steps,
      text: `Markov chain: ${p.steps} burn-in transitions (one network call each) from ${p.start === 'uniform' ? `uniform noise on [-${p.box}, ${p.box}]^d` : 'N(0, I)'}${p.lastMean ? ', the last one its mean' : ''}${p.ema > 0 ? `, on EMA weights (decay ${p.ema})` : ''}`,
    },
  }),
  infer(shapes) {
    const f = transitionFn(shapes, 'transition');
    return { samples: { kind: 'Tensor', shape: f.in } };
  },
  build(ctx, p, _shapes, statics): { fn: FnValue<any> | undefined } {
    return { fn: p.ema > 0 ? emaOf(ctx, 'transition', p.ema, statics.transition) : undefined };
  },
  apply(ctx, { inputs, params: p, built }) {
    const { ops } = ctx;
    const f: FnValue<any> = built.fn ?? inputs.transition;
    const event = f.in;
    const samples = runStepper(ops, {
      steps: p.steps,
      init: () => {
        const x0 = chainStart(ops, ctx.batchSize, event, p.start, p.box);
        return p.lastMean ? [x0, x0] : [x0];
      },
      step: (_i, [x]) => {
        const out = f.call(x!);
        const next = drawRecon(ops, out, event);
        return p.lastMean ? [next, reconMean(ops, out, event)] : [next];
      },
      result: (carry) => (p.lastMean ? carry[1]! : carry[0]!),
    });
    return { samples };
  },
});
