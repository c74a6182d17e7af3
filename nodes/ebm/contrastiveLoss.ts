import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { expectSame, LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';

/**
 * Contrastive divergence with an energy regulariser (Du & Mordatch 2019, eq. 2 and 3; the
 * gradient of the log-likelihood of  with Z's gradient estimated by
 * model samples):
 *   grad_theta E_data[-log p_theta(x)] = E_data[grad E_theta(x+)] - E_{p_theta}[grad E_theta(x-)]
 *   L = mean E(x+) - mean E(sg[x-]) + alpha (mean E(x+)^2 + mean E(sg[x-])^2)
 */
export const contrastiveEnergy = defineNode({
  type: 'loss.contrastiveEnergy',
  version: 1,
  title: 'Contrastive energy loss',
  category: 'loss',
  role: 'objective',
  inputs: {
    energy: { type: { kind: 'Fn' }, doc: 'E_theta' },
    data: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'positives x+ (a data batch)' },
    negatives: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'negatives x- (samples of the model, e.g. Langevin chains)' },
  },
  outputs: LOSS_OUT,
  params: z.object({
    ...objectiveFields,
    /** weight of the energy regulariser alpha (E(x+)^2 + E(x-)^2) */
    alpha: z.number().min(0).max(100).default(0.1),
  }),
  math: {
    latex:
      '\\mathcal{L}(\\theta) = \\mathbb{E}_{x^+\\sim p_{\\text{data}}}\\big[E_\\theta(x^+)\\big] - \\mathbb{E}_{x^-\\sim p_\\theta}\\big[E_\\theta(\\operatorname{sg}[x^-])\\big] + \\alpha\\,\\Big(\\mathbb{E}\\big[E_\\theta(x^+)^2\\big] + \\mathbb{E}\\big[E_\\theta(x^-)^2\\big]\\Big)',
    explain:
      'Maximum likelihood for an EBM: since log p_theta(x) = -E_theta(x) - log Z(theta), its gradient pushes the energy of data down and, through log Z, the energy of the model\'s own samples up. Those negatives come from Langevin dynamics and are constants here (sg): no gradient flows back through the sampling chain. The alpha term keeps the energies near zero, so the two terms cannot drift off together.',
  },
  ui: { ...OBJECTIVE_UI, alpha: { advanced: true } },
  fixture: {
    inputs: { energy: { kind: 'Fn', in: [2], out: [1], timeConditioned: false }, data: { kind: 'Tensor', shape: [2] }, negatives: { kind: 'Tensor', shape: [2] } },
  },
  describe: () => ({
    divergence: 'KL(p_data || p_theta): maximum likelihood, its gradient estimated with MCMC negatives',
    likelihood: { kind: 'none', text: 'unnormalised: log p = -E(x) - log Z with Z intractable; trained by contrastive divergence' } }),
  infer(shapes) {
    const f = shapes.energy;
    if (!f) throw new InferError('energy', 'connect the energy network', 'bad-input');
    if (f.kind !== 'Fn') throw new InferError('energy', '"energy" must be a network function', 'bad-input');
    if (f.out.length !== 1 || f.out[0] !== 1) throw new InferError('energy', `the energy must be one scalar per point, the network gives [B, ${f.out.join(', ')}]`);
    expectSame('data', tensorShape(shapes, 'data'), f.in, 'the energy takes points of this shape');
    expectSame('negatives', tensorShape(shapes, 'negatives'), f.in, 'negatives must have the shape of the data');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs, params }) {
    const { ops } = ctx;
    const E = inputs.energy;
    const pos = E.call(inputs.data);
    const neg = E.call(ops.stopGradient(inputs.negatives));
    const ePos = ops.mean(pos);
    const eNeg = ops.mean(neg);
    const cd = ops.sub(ePos, eNeg);
    const reg = ops.add(ops.mean(ops.square(pos)), ops.mean(ops.square(neg)));
    return { loss: { kind: 'Loss', value: ops.add(cd, ops.mul(reg, ops.scalar(params.alpha))), terms: { cd, reg, ePos, eNeg } } };
  },
});
