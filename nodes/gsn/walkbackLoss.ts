import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { expectSame, LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';
import type { FnValue } from '../core/values';
import { drawRecon, reconLogProb, transitionFn } from './transitionOps';

/**
 * Walkback training of a GSN (Bengio, Yao, Alain & Vincent 2013, section 3.3 and
 * Algorithm 1; Bengio et al. 2014 train deep GSNs the same way). From each data row x the
 * chain walks K steps away from it:
 *   x*_0 = x;   x~_k ~ C(x~ | x*_{k-1}),   x*_k = sg[a draw of P_theta(. | x~_k)],   k = 1..K
 * and every reconstruction is asked to bring the chain back to the ORIGINAL x:
 *   L(theta) = E_x [ sum_{k=1}^{K} p^{k-1} (-log P_theta(x | x~_k)) ]
 * K = 1 is the plain generalized denoising auto-encoder criterion. The walk visits the
 * corrupted points the chain itself would reach from the data, so the spurious modes that
 * a sampler would fall into far from the data are trained away. Algorithm 1 continues the
 * walk with probability p after each step; weighting step k by p^{k-1} is the expectation
 * of its loss over that stopping rule, truncated at K steps (p = 1: the plain sum over K
 * steps). Why it stays consistent: the walk is a corruption C' = C (P C)^j, the
 * chain alternating C' and P has the stationary law of the chain alternating C and P, and
 * P trained to invert C' makes it a Gibbs chain of p(x) C'(x~ | x).
 *
 * The price with a Gaussian P: along a direction in which the data is flat, x~_k - x is
 * a walk of k corruptions and k - 1 reconstruction draws, of variance k sigma^2 +
 * (k - 1) s^2, so the spread s^2 that fits the weighted pairs solves
 *   s^2 = E_w[k] sigma^2 + E_w[k - 1] s^2,  i.e.  s^2 = sigma^2 E_w[k] / (1 - E_w[k - 1])
 * (E_w: the average over steps with weights p^{k-1}). For p = 1 and K >= 3, E_w[k - 1] >= 1
 * and there is no solution: the spread grows until something stops it (the transition's
 * maxStd cap). p = 0.5, K = 3 gives s = 1.9 sigma; K = 1 gives s = sigma.
 *
 * The chain's states x*_k are constants (sg): the gradient is that of the sum of
 * log-densities with the visited x~_k given, never back through the sampling of the chain.
 */
export const walkbackLoss = defineNode({
  type: 'loss.walkback',
  version: 1,
  title: 'GSN walkback loss',
  category: 'loss',
  role: 'objective',
  inputs: {
    transition: { type: { kind: 'Fn' }, doc: 'the transition operator: x_t -> parameters of P(x_{t+1} | C(x_t))' },
    data: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'training rows x (every walkback step reconstructs them)' },
  },
  outputs: LOSS_OUT,
  params: z.object({
    ...objectiveFields,
    /** K: walkback steps per data row (1 = denoising reconstruction only) */
    walkback: z.number().int().min(1).max(50).default(3),
    /** p: step k is weighted p^(k-1), the chance that Algorithm 1's walk is still going (1 = the plain sum, see above) */
    continueProb: z.number().gt(0).max(1).default(0.5),
  }),
  math: {
    latex:
      '\\mathcal{L}(\\theta) = \\mathbb{E}_{x}\\Big[\\sum_{k=1}^{K} p^{k-1} \\big(-\\log P_\\theta(x \\mid \\tilde x_k)\\big)\\Big],\\quad \\tilde x_k \\sim C(\\cdot \\mid x^*_{k-1}),\\ x^*_k = \\operatorname{sg}\\big[x^* \\sim P_\\theta(\\cdot \\mid \\tilde x_k)\\big],\\ x^*_0 = x',
    explain:
      'Walkback training. Starting at a data point, the chain takes K steps of its own transition (corrupt, then sample a reconstruction), and at every step the reconstruction distribution is trained to put high probability on the original data point. The first step is ordinary denoising; later steps start from where the model itself wanders, so places the chain drifts to but the data never visits are pulled back towards the data. The visited points are constants: no gradient flows through the sampling of the chain.',
  },
  ui: { ...OBJECTIVE_UI, walkback: { units: 'steps' }, continueProb: { advanced: true } },
  fixture: {
    inputs: { transition: { kind: 'Fn', in: [2], out: [2, 2], timeConditioned: false }, data: { kind: 'Tensor', shape: [2] } },
    params: { walkback: 3 },
  },
  evaluators: [{ kind: 'terms', metric: 'walkback', sum: ['walkback'], report: ['recon'] }],
  describe: (p) => ({
    divergence: 'KL(P(x) P(x~ | x) || the learned reconstruction P_theta(x | x~)): maximum likelihood of the denoising transition, whose chain then samples the data',
    likelihood: {
      kind: 'none',
      text: `implicit: the model is the stationary law of a learned Markov chain; it is trained on -log P(x | x~) over ${p.walkback} walkback step${p.walkback === 1 ? '' : 's'}, a conditional likelihood, not log p(x)`,
    },
  }),
  infer(shapes) {
    const f = transitionFn(shapes, 'transition');
    expectSame('data', tensorShape(shapes, 'data'), f.in, 'the transition operator runs on points of this shape');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs, params }) {
    const { ops } = ctx;
    const f: FnValue<any> = inputs.transition;
    const x = inputs.data;
    const event = f.in;
    let state = x;
    let total: any;
    let recon: any;
    for (let k = 1; k <= params.walkback; k++) {
      const out = f.call(state);
      const nll = ops.neg(reconLogProb(ops, x, out, event));
      const w = Math.pow(params.continueProb, k - 1);
      const term = w === 1 ? nll : ops.mul(nll, ops.scalar(w));
      total = total === undefined ? term : ops.add(total, term);
      if (k === 1) recon = ops.mean(nll);
      // x*_k: a draw of the chain, a constant to the gradient
      if (k < params.walkback) state = ops.stopGradient(drawRecon(ops, out, event));
    }
    const walkback = ops.mean(total);
    return { loss: { kind: 'Loss', value: walkback, terms: { recon, walkback } } };
  },
});
