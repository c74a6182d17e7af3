import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { expectSame, LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';
import { sumEvent, type ScheduleValue } from '../core/values';
import { coefColumns, SDE_IN, sdeFrom, sdeShape } from './shared';
import { opsAlg, type Sde } from './sdes';

/**
 * Continuous-time denoising score matching (Song et al. 2021, eq. 7):
 *   theta* = argmin E_t { lambda(t) E_{x(0)} E_{x(t) | x(0)} || s_theta(x(t), t) - grad log p_0t(x(t) | x(0)) ||^2 }
 * with grad log p_0t = -(x(t) - m x(0)) / s^2 = -epsilon / s. Per dimension, one t per row:
 * - prediction eps (the network is epsilon_theta, s_theta = -epsilon_theta / s) and
 *   lambda(t) = s(t)^2:  || epsilon_theta - epsilon ||^2, DDPM's loss in continuous time;
 * - prediction score and lambda = s^2:  || s s_theta + epsilon ||^2.
 * weighting 'likelihood' uses lambda(t) = g(t)^2 (Song, Durkan, Murray & Ermon 2021, the
 * weighting under which the loss bounds the KL), i.e. the s^2 form times g^2 / s^2.
 */
export const sdeScoreLoss = defineNode({
  type: 'loss.sdeScoreMatching',
  version: 1,
  title: 'Continuous-time score matching',
  category: 'loss',
  role: 'objective',
  inputs: {
    pred: { type: { kind: 'Tensor' }, doc: 'the network at (x(t), t): epsilon_theta or s_theta' },
    eps: { type: { kind: 'Tensor', semantic: 'noise' }, doc: 'the noise epsilon of the perturbation' },
    t: { type: { kind: 'Tensor', semantic: 'time' }, doc: 'the time t of each row' },
    sde: SDE_IN,
  },
  outputs: LOSS_OUT,
  params: z.object({
    ...objectiveFields,
    /** what the network predicts: the noise epsilon or the score */
    prediction: z.enum(['eps', 'score']).default('eps'),
    /** lambda(t): s(t)^2 (epsilon regression) or g(t)^2 (likelihood weighting) */
    weighting: z.enum(['sigma2', 'likelihood']).default('sigma2'),
  }),
  math: {
    latex:
      '\\mathcal{L}(\\theta) = \\mathbb{E}_t\\Big\\{\\lambda(t)\\,\\mathbb{E}_{x(0)}\\mathbb{E}_{x(t) \\mid x(0)}\\big\\| s_\\theta(x(t), t) - \\nabla_{x(t)} \\log p_{0t}(x(t) \\mid x(0)) \\big\\|^2\\Big\\}\\ \\text{(eq. 7)},\\quad \\lambda = s(t)^2:\\ \\ \\|\\epsilon_\\theta - \\epsilon\\|^2',
    explain:
      'Denoising score matching at every time of the SDE at once: the score of the Gaussian perturbation kernel is known, -epsilon / s(t), and the network regressed onto it learns the score of the whole perturbed data distribution p_t. With the weight lambda(t) = s(t)^2 and a network that predicts the noise, this is exactly DDPM\'s epsilon regression with a continuous time; the likelihood weighting lambda = g(t)^2 makes it a bound on the KL divergence instead.',
  },
  ui: { ...OBJECTIVE_UI, weighting: { advanced: true } },
  fixture: { inputs: { pred: { kind: 'Tensor', shape: [2] }, eps: { kind: 'Tensor', shape: [2] }, t: { kind: 'Tensor', shape: [] }, sde: { kind: 'Schedule', T: 10 } } },
  describe: () => ({
    divergence: 'the Fisher divergence between the model score and grad_x log p_t(x) integrated over t in [0, 1] (weighted by lambda(t)); with lambda = g^2 a bound on KL(p_data || p_theta) of the probability-flow model',
    likelihood: { kind: 'bound', text: 'trained by score matching; the exact likelihood comes from the probability-flow ODE' } }),
  infer(shapes) {
    expectSame('pred', tensorShape(shapes, 'pred'), tensorShape(shapes, 'eps'), 'the prediction must match the noise');
    tensorShape(shapes, 't');
    sdeShape(shapes);
    return { loss: { kind: 'Loss' } };
  },
  build: (ctx, _p, _shapes, statics): { sde: Sde } => ({ sde: sdeFrom(ctx.nodeId, statics.sde as ScheduleValue | undefined) }),
  apply(ctx, { inputs, params, built, shapes }) {
    const { ops } = ctx;
    const event = (shapes.eps as { shape: number[] }).shape;
    const dims = event.reduce((a, b) => a * b, 1);
    // the conformance harness feeds step indices as times: keep t in [0, 1]
    const t = ops.clip(inputs.t, 0, 1);
    const c = coefColumns(ops, built.sde, t, event);
    const r = params.prediction === 'eps' ? ops.sub(inputs.pred, inputs.eps) : ops.add(ops.mul(c.s, inputs.pred), inputs.eps);
    let perRow = ops.mul(sumEvent(ops, ops.square(r)), ops.scalar(1 / dims));
    const sigma2 = ops.mean(perRow);
    if (params.weighting === 'likelihood') {
      const cr = built.sde.coefficients(opsAlg(ops), t);
      perRow = ops.mul(perRow, ops.div(cr.g2, ops.square(cr.s)));
    }
    const value = ops.mean(perRow);
    return { loss: { kind: 'Loss', value, terms: { dsm: value, ...(params.weighting === 'likelihood' && { sigma2 }) } } };
  },
});
