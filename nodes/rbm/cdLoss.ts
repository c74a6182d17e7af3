import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { LOSS_OUT, OBJECTIVE_UI, objectiveFields, expectSame, tensorShape } from '../core/objective';
import { rbmShape } from './gibbsNegatives';
import { freeEnergy } from './rbmOps';

/**
 * Contrastive divergence as a loss (Hinton 2002): the log-likelihood gradient of an RBM is
 *   -grad log p(v) = grad F(v) - E_{p_theta}[grad F(v')]
 * with the model expectation estimated by the negatives v_k of a Gibbs chain, so
 *   L = mean F(x) - mean F(sg[v_k])
 * has the CD-k (or PCD-k) update as its gradient. Evaluated by annealed importance sampling
 * of log Z (src-main/eval/ais.ts): held-out NLL = mean F(x) + log Z.
 */
export const contrastiveDivergence = defineNode({
  type: 'loss.contrastiveDivergence',
  version: 1,
  title: 'Contrastive divergence',
  category: 'loss',
  role: 'objective',
  inputs: {
    rbm: { type: { kind: 'Fn' }, doc: 'the RBM' },
    data: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'positives x (a binary data batch)' },
    negatives: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'negatives v_k (Gibbs chain states)' },
  },
  outputs: LOSS_OUT,
  params: z.object({
    ...objectiveFields,
    /** AIS: intermediate temperatures beta_k (their number) */
    aisBetas: z.number().int().min(2).max(100000).default(10000),
    /** AIS: independent annealing runs M */
    aisChains: z.number().int().min(2).max(10000).default(100),
  }),
  math: {
    latex:
      '\\mathcal{L}(\\theta) = \\frac{1}{B}\\sum_{n} F_\\theta(x_n) - \\frac{1}{B^-}\\sum_{m} F_\\theta(\\operatorname{sg}[v^-_m]),\\qquad -\\nabla_\\theta \\log p_\\theta(x) = \\nabla_\\theta F_\\theta(x) - \\mathbb{E}_{p_\\theta}\\big[\\nabla_\\theta F_\\theta(v)\\big]',
    explain:
      'Maximum likelihood for an RBM: the gradient of -log p(x) = F(x) + log Z lowers the free energy of the data and, through log Z, raises it on samples of the model. Contrastive divergence takes those samples from a short Gibbs chain (CD-k from the data, PCD from persistent chains) and treats them as constants, so this loss has the CD update as its gradient. Its value is not the likelihood: Z is estimated separately, by annealed importance sampling, to report held-out NLL.',
  },
  ui: { ...OBJECTIVE_UI, aisBetas: { advanced: true }, aisChains: { advanced: true } },
  fixture: {
    inputs: { rbm: { kind: 'Fn', in: [6], out: [1], timeConditioned: false }, data: { kind: 'Tensor', shape: [6] }, negatives: { kind: 'Tensor', shape: [6] } },
  },
  evaluators: [{ kind: 'ais', metric: 'aisNll', rbm: 'rbm', data: 'data' }],
  describe: () => ({
    divergence: 'KL(p_data || p_theta): maximum likelihood, its gradient estimated by contrastive divergence (Gibbs-chain negatives)',
    likelihood: { kind: 'none', text: 'unnormalised during training: log p = -F(v) - log Z; log Z estimated by annealed importance sampling for held-out NLL' },
  }),
  infer(shapes) {
    const f = rbmShape(shapes, 'rbm');
    expectSame('data', tensorShape(shapes, 'data'), f.in, 'the RBM takes vectors of this shape');
    expectSame('negatives', tensorShape(shapes, 'negatives'), f.in, 'negatives must have the shape of the data');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs }) {
    const { ops } = ctx;
    const r = inputs.rbm;
    const fPos = ops.mean(freeEnergy(ops, r, inputs.data));
    const fNeg = ops.mean(freeEnergy(ops, r, ops.stopGradient(inputs.negatives)));
    const cd = ops.sub(fPos, fNeg);
    return { loss: { kind: 'Loss', value: cd, terms: { cd, fPos, fNeg } } };
  },
});
