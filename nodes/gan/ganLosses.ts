import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { LOSS_OUT, objectiveFields, tensorShape, OBJECTIVE_UI } from '../core/objective';

/**
 * GAN value (Goodfellow et al. 2014, eq. 1):
 *   min_G max_D  E_data[log D(x)] + E_z[log(1 - D(G(z)))],  D = sigmoid(logit)
 * With logits l: -log D = softplus(-l), -log(1 - D) = softplus(l).
 */
/** the minimax game's divergence at the optimal critic (Goodfellow et al. 2014, Theorem 1) */
const GAN_FACTS = {
  divergence: 'the Jensen-Shannon divergence (2 JS(p_data || p_g) - log 4 at the optimal critic)',
  likelihood: { kind: 'none', text: 'no likelihood at all: trained adversarially, an implicit model' },
} as const;

export const ganCritic = defineNode({
  type: 'loss.ganCritic',
  version: 1,
  title: 'GAN critic loss',
  category: 'loss',
  role: 'objective',
  inputs: {
    realLogit: { type: { kind: 'Tensor', semantic: 'logit' }, doc: 'critic logits on data' },
    fakeLogit: { type: { kind: 'Tensor', semantic: 'logit' }, doc: 'critic logits on generated samples' },
  },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields }),
  math: {
    latex: '\\mathcal{L}_D = -\\mathbb{E}_{x\\sim p_{\\text{data}}}\\big[\\log D(x)\\big] - \\mathbb{E}_{z\\sim p(z)}\\big[\\log\\big(1 - D(G(z))\\big)\\big]',
    explain:
      'The critic is a classifier of real against generated samples, trained by binary cross-entropy. It only updates the critic: the generator is held fixed during this objective. At its optimum the GAN value equals -log 4 + 2 JS(p_data || p_g).',
  },
  ui: OBJECTIVE_UI,
  fixture: { inputs: { realLogit: { kind: 'Tensor', shape: [1] }, fakeLogit: { kind: 'Tensor', shape: [1] } } },
  defaultTrains: { only: ['critic'] },
  describe: () => GAN_FACTS,
  infer(shapes) {
    tensorShape(shapes, 'realLogit');
    tensorShape(shapes, 'fakeLogit');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs }) {
    const { ops } = ctx;
    const real = ops.mean(ops.softplus(ops.neg(inputs.realLogit)));
    const fake = ops.mean(ops.softplus(inputs.fakeLogit));
    return { loss: { kind: 'Loss', value: ops.add(real, fake), terms: { real, fake } } };
  },
});

export const ganGenerator = defineNode({
  type: 'loss.ganGenerator',
  version: 1,
  title: 'GAN generator loss',
  category: 'loss',
  role: 'objective',
  inputs: { fakeLogit: { type: { kind: 'Tensor', semantic: 'logit' }, doc: 'critic logits on generated samples' } },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields, variant: z.enum(['nonSaturating', 'minimax']).default('nonSaturating') }),
  math: {
    latex:
      '\\mathcal{L}_G^{\\text{minimax}} = \\mathbb{E}_z\\big[\\log\\big(1 - D(G(z))\\big)\\big],\\qquad \\mathcal{L}_G^{\\text{NS}} = -\\mathbb{E}_z\\big[\\log D(G(z))\\big]',
    explain:
      'The generator tries to fool the critic. The minimax form is the game as written, but its gradient vanishes when the critic confidently rejects fakes early in training; the non-saturating form has the same fixed point and strong gradients there, so it is the default.',
  },
  ui: OBJECTIVE_UI,
  fixture: { inputs: { fakeLogit: { kind: 'Tensor', shape: [1] } } },
  defaultTrains: { except: ['critic'] },
  describe: () => GAN_FACTS,
  infer(shapes) {
    tensorShape(shapes, 'fakeLogit');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs, params }) {
    const { ops } = ctx;
    const value =
      params.variant === 'minimax'
        ? ops.neg(ops.mean(ops.softplus(inputs.fakeLogit)))
        : ops.mean(ops.softplus(ops.neg(inputs.fakeLogit)));
    return { loss: { kind: 'Loss', value, terms: { [params.variant === 'minimax' ? 'minimax' : 'nonSaturating']: value } } };
  },
});
