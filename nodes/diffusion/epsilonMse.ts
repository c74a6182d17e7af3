import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { expectSame, LOSS_OUT, objectiveFields, tensorShape, OBJECTIVE_UI } from '../core/objective';

/** DDPM simple loss (Ho et al. 2020, eq. 14): E_{t, x0, eps} || eps - eps_theta(x_t, t) ||^2, averaged per dimension. */
export const epsilonMse = defineNode({
  type: 'loss.epsilonMse',
  version: 1,
  title: 'Epsilon MSE',
  category: 'loss',
  role: 'objective',
  inputs: {
    pred: { type: { kind: 'Tensor' }, doc: 'the network prediction eps_theta(x_t, t)' },
    target: { type: { kind: 'Tensor', semantic: 'noise' }, doc: 'the noise eps that was added' },
  },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields }),
  math: {
    latex: '\\mathcal{L}_{\\text{simple}} = \\mathbb{E}_{t, x_0, \\epsilon}\\big\\lVert \\epsilon - \\epsilon_\\theta\\big(\\sqrt{\\bar\\alpha_t}x_0 + \\sqrt{1-\\bar\\alpha_t}\\,\\epsilon,\\ t\\big)\\big\\rVert^2',
    explain:
      'The DDPM objective: predict the noise that was mixed into x_0. It is a reweighted variational bound and, up to scale, denoising score matching: eps_theta estimates -sqrt(1 - alpha-bar_t) times the score of the noised data.',
  },
  ui: OBJECTIVE_UI,
  fixture: { inputs: { pred: { kind: 'Tensor', shape: [3] }, target: { kind: 'Tensor', shape: [3] } } },
  describe: () => ({
    divergence: 'KL(p_data || p_theta) through the variational bound of the reverse chain, with the per-step weights dropped (noise regression)',
    likelihood: { kind: 'bound', text: 'no exact likelihood: a reweighted variational bound, trained as noise regression' } }),
  infer(shapes) {
    expectSame('pred', tensorShape(shapes, 'pred'), tensorShape(shapes, 'target'), 'the prediction must match the noise');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs }) {
    const value = ctx.ops.mean(ctx.ops.square(ctx.ops.sub(inputs.pred, inputs.target)));
    return { loss: { kind: 'Loss', value, terms: { mse: value } } };
  },
});
