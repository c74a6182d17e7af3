import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { distEvent, expectSame, LOSS_OUT, objectiveFields, tensorShape, OBJECTIVE_UI } from '../core/objective';

/** Maximum likelihood : minimise E_data[-log p_theta(x)], in nats. */
export const nll = defineNode({
  type: 'loss.nll',
  version: 1,
  title: 'Negative log-likelihood',
  category: 'loss',
  role: 'objective',
  inputs: {
    x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'observations' },
    dist: { type: { kind: 'Dist' }, doc: 'a model with an exact log-likelihood' },
  },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields }),
  math: {
    latex: '\\mathcal{L}(\\theta) = -\\mathbb{E}_{x\\sim p_{\\text{data}}}\\big[\\log p_\\theta(x)\\big] = H(p_{\\text{data}}, p_\\theta)',
    explain:
      'Maximum likelihood: the cross-entropy between data and model, which equals the true entropy of the data plus KL(p_data || p_theta). Its held-out value approaches the entropy of the data from above, so it is directly comparable across density models.',
  },
  ui: OBJECTIVE_UI,
  fixture: { inputs: { x: { kind: 'Tensor', shape: [3] }, dist: { kind: 'Dist', event: [3] } } },
  exports: [{ kind: 'density', input: 'dist' }],
  evaluators: [{ kind: 'nll', dist: 'dist', data: 'x' }],
  describe: () => ({
    divergence: 'KL(p_data || p_theta): maximum likelihood, exactly',
    likelihood: { kind: 'exact', text: 'exact log-likelihood (change of variables), trained by maximum likelihood' } }),
  infer(shapes) {
    expectSame('dist', distEvent(shapes, 'dist'), tensorShape(shapes, 'x'), 'the model must be over the data space');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs }) {
    const value = ctx.ops.neg(ctx.ops.mean(inputs.dist.logProb(inputs.x)));
    return { loss: { kind: 'Loss', value, terms: { nll: value } } };
  },
});
