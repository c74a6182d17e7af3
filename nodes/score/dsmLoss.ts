import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { expectSame, LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';
import type { FnValue, ScheduleValue } from '../core/values';
import { sumEvent } from '../core/values';
import { scoreAt } from './scoreNetwork';
import { levels, scoreFn } from './scoreShapes';
import { levelTables, perturbAtRandomLevel, type LevelTables } from './sigmas';

export const SCORE_FACTS = {
  divergence: 'the Fisher divergence E ||s_theta(x, sigma) - grad_x log p_sigma(x)||^2 at every noise level sigma',
  latent: { text: 'no latent variable: a score field grad_x log p_sigma(x) over data space', rank: 0 },
  likelihood: { kind: 'none', text: 'no likelihood: the model is a score (the gradient of a log-density), never the density itself' },
} as const;

/**
 * Denoising score matching (Vincent 2011; Song & Ermon 2019, eq. 2 for one level) at the
 * noise levels of NCSN (Song & Ermon 2019, eq. 5 and 6):
 *   x~ = x + sigma z,  z ~ N(0, I),  grad_x~ log q_sigma(x~ | x) = -(x~ - x) / sigma^2
 *   l(theta; sigma) = 1/2 E || s_theta(x~, sigma) + (x~ - x) / sigma^2 ||^2
 *   L(theta) = 1/L sum_i lambda(sigma_i) l(theta; sigma_i),  lambda(sigma) = sigma^2
 * with one level drawn uniformly per row, the squared norm averaged over dimensions
 * (per-dimension loss). Its minimiser is the score of the perturbed data,
 * s*(x~, sigma) = grad log p_sigma(x~): for data N(0, I), s* = -x~ / (1 + sigma^2), and the
 * unweighted minimum per dimension is 1/2 (1/sigma^2 - 1/(1 + sigma^2)) (1.6 at
 * sigma = 0.5): the loss does not go to 0. lambda = sigma^2 makes every level's term
 * O(1), since || sigma s + z ||^2 is what is left.
 */
export const dsmLoss = defineNode({
  type: 'loss.denoisingScoreMatching',
  version: 1,
  title: 'Denoising score matching',
  category: 'loss',
  role: 'objective',
  inputs: {
    score: { type: { kind: 'Fn' }, doc: 's_theta(x, sigma)' },
    data: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'a data batch x' },
    sigmas: { type: { kind: 'Schedule' }, doc: 'the noise levels sigma_1 > ... > sigma_L' },
  },
  outputs: LOSS_OUT,
  params: z.object({
    ...objectiveFields,
    /** lambda(sigma): sigma^2 (Song & Ermon 2019) or 1 */
    weighting: z.enum(['sigma2', 'none']).default('sigma2'),
  }),
  math: {
    latex:
      '\\mathcal{L}(\\theta) = \\frac{1}{L}\\sum_{i=1}^{L} \\lambda(\\sigma_i)\\,\\frac{1}{2}\\,\\mathbb{E}_{x, \\tilde x}\\Big\\| s_\\theta(\\tilde x, \\sigma_i) + \\frac{\\tilde x - x}{\\sigma_i^2} \\Big\\|^2,\\quad \\tilde x = x + \\sigma_i z,\\quad \\lambda(\\sigma) = \\sigma^2\\quad\\text{(Song \\& Ermon 2019, eq. 5-6)}',
    explain:
      'Denoising score matching: perturb each data point with Gaussian noise of a random level sigma and regress the network onto the score of that one perturbation, -(x~ - x)/sigma^2, which points back to the clean point. Averaged over the data, the best regressor is the score of the whole perturbed distribution, so the network learns grad log p_sigma without ever evaluating a density. The weight sigma^2 balances the levels, whose targets scale like 1/sigma. The loss has a floor above zero: the same noisy point could have come from many clean points.',
  },
  ui: { ...OBJECTIVE_UI, weighting: { advanced: true } },
  fixture: {
    inputs: { score: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, data: { kind: 'Tensor', shape: [2] }, sigmas: { kind: 'Schedule', T: 5 } },
  },
  describe: () => SCORE_FACTS,
  infer(shapes) {
    const f = scoreFn(shapes, 'score');
    expectSame('data', tensorShape(shapes, 'data'), f.in, 'the score network takes points of this shape');
    levels(shapes, 'sigmas', 'the data is perturbed at these levels');
    return { loss: { kind: 'Loss' } };
  },
  build(ctx, _p, shapes, statics): LevelTables<any> | undefined {
    return levelTables(ctx.ops, statics.sigmas as ScheduleValue | undefined, (shapes.data as { shape: number[] }).shape.length);
  },
  apply(ctx, { inputs, params, built }) {
    const { ops } = ctx;
    if (!built) throw new InferError('sigmas', `${ctx.nodeId}: the noise levels must be known before training`, 'bad-input');
    const f: FnValue<any> = inputs.score;
    const x = inputs.data;
    const { sigma, sigmaRow, xt } = perturbAtRandomLevel(ops, built, x);
    // grad_x~ log q_sigma(x~ | x) = -(x~ - x) / sigma^2
    const target = ops.neg(ops.div(ops.sub(xt, x), ops.square(sigma)));
    const s = scoreAt(f, xt, sigmaRow);
    // 1/2 || s - target ||^2 per dimension, one value per row
    const dims = ops.shape(x).slice(1).reduce((a, b) => a * b, 1);
    const perRow = ops.mul(sumEvent(ops, ops.square(ops.sub(s, target))), ops.scalar(0.5 / dims));
    const unweighted = ops.mean(perRow);
    const value = params.weighting === 'sigma2' ? ops.mean(ops.mul(perRow, ops.square(sigmaRow))) : unweighted;
    return { loss: { kind: 'Loss', value, terms: { dsm: value, unweighted } } };
  },
});
