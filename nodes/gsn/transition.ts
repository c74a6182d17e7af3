import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { buildMlp, mlpFields } from '../core/mlp';
import { flatSize, tensorShape } from '../core/objective';
import { drawRecon, type TransitionFn } from './transitionOps';

/**
 * The transition operator of a GSN (Bengio, Yao, Alain & Vincent 2013, section 2: the
 * generalized denoising auto-encoder and its Markov chain; Bengio et al. 2014 generalise it
 * to deep GSNs):
 *   corruption      C(x~ | x):     x~ = x + sigma eps,  eps ~ N(0, I)
 *   reconstruction  P_theta(x | x~) = N(x; mu_theta(x~), diag exp(2 s_theta(x~)))
 * with [m, r] = MLP(x~) (2d outputs), a = maxStd and
 *   mu_theta(x~) = x~ + m                                            (a correction of x~)
 *   s'           = log(a sigma) - softplus(c - r),  c = log(a - 1)   (below log(a sigma); log sigma at r = 0)
 *   s_theta(x~)  = s_min + softplus(s' - s_min)                      (above s_min)
 * The variance depends on x~ (heteroscedastic): the true reverse conditional P(x | x~) is
 * narrow across a thin data manifold and as wide as sigma along it, so one learned spread
 * per point and dimension keeps the chain's stationary law close to the data where a fixed
 * variance would blur it by about that variance. The cap keeps a reconstruction a local
 * move (walkback training otherwise widens it without bound, see walkbackLoss.ts).
 *
 * The chain's stationary law is sensitive to small systematic errors of mu_theta, so the
 * MLP defaults to ReLU: on moons (sigma = 0.2, 1500 rounds) it reaches a held-out
 * reconstruction NLL of -0.66 nats against -0.68 for the best diagonal Gaussian (the exact
 * posterior's moments), where SiLU and tanh networks stall near -0.53 and -0.48 and their
 * chains drift.
 *
 * The output `fn` is the whole operator on one port: call(x_t) draws x~_t = C(x_t) and
 * returns [mu, s] of P(x_{t+1} | x~_t) as [B, 2, ...event]; sample(x_t) is one transition.
 */
export const gsnTransition = defineNode({
  type: 'gsn.transition',
  version: 1,
  title: 'GSN transition operator',
  category: 'network',
  role: 'network',
  inputs: { x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'data points (they fix the shape the chain runs on)' } },
  outputs: {
    fn: {
      type: { kind: 'Fn' },
      doc: 'x_t -> [mu, log std] of P(x_{t+1} | C(x_t)) as [B, 2, ...], the corruption drawn inside; for the walkback loss and the chain sampler',
    },
  },
  params: z.object({
    ...mlpFields,
    /** sigma: the standard deviation of the Gaussian corruption C */
    sigma: z.number().positive().max(100).default(0.2),
    /** the largest standard deviation of P(x | x~), in units of sigma (a soft cap: a reconstruction is a local move) */
    maxStd: z.number().min(1.01).max(100).default(2),
    /** s_min: the smallest log standard deviation of P(x | x~) (a soft floor) */
    minLogStd: z.number().min(-20).max(5).default(-6),
  }),
  math: {
    latex:
      '\\tilde x = x + \\sigma\\,\\epsilon,\\ \\epsilon \\sim \\mathcal{N}(0, I);\\qquad P_\\theta(x \\mid \\tilde x) = \\mathcal{N}\\big(x;\\ \\mu_\\theta(\\tilde x),\\ \\operatorname{diag} e^{2 s_\\theta(\\tilde x)}\\big);\\qquad x_{t+1} \\sim P_\\theta(\\cdot \\mid \\tilde x_t),\\ \\tilde x_t \\sim C(\\cdot \\mid x_t)',
    explain:
      'A generative stochastic network learns a Markov chain instead of a density. One step corrupts the current point with Gaussian noise of scale sigma and then samples a reconstruction from a Gaussian whose mean and per-dimension spread a network predicts from the corrupted point. If the reconstruction distribution matches the true distribution of clean points given corrupted ones, the chain\'s stationary distribution is the data distribution. The spread is learned per point (heteroscedastic): across a thin data manifold the reconstruction is sharp, along it broad, so a sigma large enough for the chain to move fast does not blur the samples.',
  },
  ui: { sigma: { units: 'std' }, maxStd: { units: 'x sigma', advanced: true }, minLogStd: { advanced: true } },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [2] } }, params: { hidden: [8], sigma: 0.5 } },
  describe: (p) => ({ latent: { text: `no latent variable: a Markov chain over data space, x -> x~ = x + ${p.sigma} eps -> x ~ P(x | x~)`, rank: 0 } }),
  infer(shapes) {
    const x = tensorShape(shapes, 'x');
    return { fn: { kind: 'Fn', in: x, out: [2, ...x], timeConditioned: false } };
  },
  build(ctx, p, shapes): { fn: TransitionFn<any> } {
    const { ops } = ctx;
    const event = (shapes.x as { shape: number[] }).shape;
    const d = flatSize(event);
    const net = buildMlp(ctx, d, p.hidden, 2 * d, p.activation);
    const sMax = Math.log(p.maxStd * p.sigma);
    // softplus(c) = log a puts s' at log sigma where the network outputs r = 0
    const c = Math.log(Math.expm1(Math.log(p.maxStd)));
    const corrupt = (x: any) => ops.add(x, ops.mul(ops.randomNormalLike(x), ops.scalar(p.sigma)));
    const reconstruct = (xt: any) => {
      const flat = ops.reshape(xt, [-1, d]);
      const h = net(flat);
      const mu = ops.add(flat, ops.sliceAxis(h, 1, 0, d));
      const capped = ops.sub(ops.scalar(sMax), ops.softplus(ops.sub(ops.scalar(c), ops.sliceAxis(h, 1, d, d))));
      const s = ops.add(ops.softplus(ops.sub(capped, ops.scalar(p.minLogStd))), ops.scalar(p.minLogStd));
      return ops.reshape(ops.concat([mu, s], 1), [-1, 2, ...event]);
    };
    const call = (x: any) => reconstruct(corrupt(x));
    const fn: TransitionFn<any> = {
      kind: 'Fn',
      owner: ctx.nodeId,
      in: event,
      out: [2, ...event],
      timeConditioned: false,
      call,
      sample: (x) => drawRecon(ops, call(x), event),
      sigma: p.sigma,
      corrupt,
      reconstruct,
    };
    return { fn };
  },
  staticOutputs: ['fn'],
  apply: (_ctx, { built }) => ({ fn: built.fn }),
});
