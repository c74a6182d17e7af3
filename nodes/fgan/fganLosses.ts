import { z } from 'zod';
import { defineNode, InferError, type NodeFacts } from '../core/defineNode';
import type { Ops } from '../core/ops';
import type { PortShape } from '../core/ports';
import { LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';
import { DIVERGENCE_TABLE, DIVERGENCES, type Divergence } from './divergences';

/**
 * f-GAN losses (Nowozin, Cseke & Tomioka 2016). The critic's raw output V(x) (the logits
 * of critic.mlp) becomes T(x) = g_f(V(x)) (Table 2), and the two players share one
 * objective (eq. 6):
 *
 *   F(theta, omega) = E_{x~P}[g_f(V_omega(x))] - E_{x~Q_theta}[f*(g_f(V_omega(x)))],
 *
 * P = p_data, Q_theta = p_g. The critic maximises F: for a rich enough critic its maximum
 * is D_f(P || Q_theta) (the bound of Section 2.2, tight at T* = f'(p/q)); the generator
 * then minimises that divergence. Rows of the divergences: divergences.ts.
 */

const divergence = z.enum(DIVERGENCES).default('js');

/** the rows of Table 1/2 as one KaTeX array, for the math panels */
const TABLE_LATEX =
  '\\begin{array}{lll} & g_f(v) & f^*(t) \\\\ \\hline ' +
  DIVERGENCES.map((d) => `\\text{${d}} & ${DIVERGENCE_TABLE[d].gLatex} & ${DIVERGENCE_TABLE[d].conjLatex}`).join(' \\\\ ') +
  ' \\end{array}';

const facts = (d: Divergence): NodeFacts => ({
  divergence: `${DIVERGENCE_TABLE[d].label}, through its Fenchel-dual variational bound`,
  likelihood: { kind: 'none', text: `no likelihood: an implicit model trained adversarially (f-GAN) to minimise ${DIVERGENCE_TABLE[d].label}, estimated by the critic's variational bound` },
});

/** the critic's output must be one number per example */
function criticScalar(shapes: Record<string, PortShape | undefined>, port: string): void {
  const s = tensorShape(shapes, port);
  if (s.reduce((a, b) => a * b, 1) !== 1) {
    throw new InferError(port, `input "${port}" must be the critic's scalar output V(x), shape [B, 1]; got [B, ${s.join(', ')}]`);
  }
}

/** E[T] over a batch of critic outputs v: the mean of g_f(v) */
export function meanActivation<T>(ops: Ops<T>, d: Divergence, v: T): T {
  return ops.mean(DIVERGENCE_TABLE[d].activation(ops, v));
}

/** E[f*(T)] over a batch of critic outputs v: the mean of f*(g_f(v)) */
export function meanConjugate<T>(ops: Ops<T>, d: Divergence, v: T): T {
  return ops.mean(DIVERGENCE_TABLE[d].conjugateOfActivation(ops, v));
}

/**
 * The critic's objective: minimise -F (eq. 6), i.e.
 *   L_critic = -E_P[g_f(V(x))] + E_Q[f*(g_f(V(G(z))))].
 * Term `bound` = F, the critic's lower bound on D_f(p_data || p_g).
 */
export const fganCritic = defineNode({
  type: 'loss.fganCritic',
  version: 1,
  title: 'f-GAN critic loss',
  category: 'loss',
  role: 'objective',
  inputs: {
    realLogit: { type: { kind: 'Tensor', semantic: 'logit' }, doc: 'the critic output V(x) on data' },
    fakeLogit: { type: { kind: 'Tensor', semantic: 'logit' }, doc: 'the critic output V(x) on generated samples' },
  },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields, divergence }),
  math: {
    latex:
      '\\mathcal{L}_T = -\\Big(\\mathbb{E}_{x\\sim p_{\\text{data}}}\\big[g_f(V(x))\\big] - \\mathbb{E}_{z\\sim p(z)}\\big[f^*\\big(g_f(V(G(z)))\\big)\\big]\\Big),\\qquad ' +
      'D_f(P\\,\\|\\,Q) = \\int q\\,f\\!\\left(\\tfrac{p}{q}\\right)dx \\ \\ge\\ \\sup_T\\ \\mathbb{E}_P[T] - \\mathbb{E}_Q[f^*(T)]\\qquad ' +
      TABLE_LATEX,
    explain:
      'The critic estimates an f-divergence between the data and the generator from samples alone. Any function T gives a lower bound E_data[T] - E_gen[f*(T)] on D_f(p_data || p_g), where f* is the convex conjugate of f (Fenchel duality); the best T is f\'(p_data / p_g), so maximising the bound makes the critic a density-ratio estimator. The critic\'s raw score V(x) is first mapped into the domain of f* by the output activation g_f of the chosen divergence (Nowozin et al. 2016, Table 2). This loss trains only the critic; its `bound` term is the current estimate of the divergence.',
  },
  ui: OBJECTIVE_UI,
  fixture: { inputs: { realLogit: { kind: 'Tensor', shape: [1] }, fakeLogit: { kind: 'Tensor', shape: [1] } } },
  defaultTrains: { only: ['critic'] },
  evaluators: [{ kind: 'terms', metric: 'bound', sum: ['bound'], report: [] }],
  describe: (p) => facts(p.divergence),
  infer(shapes) {
    criticScalar(shapes, 'realLogit');
    criticScalar(shapes, 'fakeLogit');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs, params }) {
    const { ops } = ctx;
    const real = meanActivation(ops, params.divergence, inputs.realLogit);
    const fake = meanConjugate(ops, params.divergence, inputs.fakeLogit);
    const bound = ops.sub(real, fake);
    return { loss: { kind: 'Loss', value: ops.neg(bound), terms: { real, fake, bound } } };
  },
});

/**
 * The generator's objective, with the critic held fixed:
 * - saddle (eq. 6 as written): minimise F over theta; E_P[T] does not depend on theta, so
 *     L_G = -E_z[f*(g_f(V(G(z))))];
 * - alternative (Section 3, the paper's practical choice, the non-saturating GAN loss for
 *   `gan`): maximise the critic's score on generated samples,
 *     L_G = -E_z[g_f(V(G(z)))].
 * Both have the fixed point p_g = p_data (where T* = f'(1) is constant); the alternative
 * has strong gradients while the critic confidently rejects the samples.
 */
export const fganGenerator = defineNode({
  type: 'loss.fganGenerator',
  version: 1,
  title: 'f-GAN generator loss',
  category: 'loss',
  role: 'objective',
  inputs: { fakeLogit: { type: { kind: 'Tensor', semantic: 'logit' }, doc: 'the critic output V(x) on generated samples' } },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields, divergence, variant: z.enum(['alternative', 'saddle']).default('alternative') }),
  math: {
    latex:
      '\\mathcal{L}_G^{\\text{saddle}} = -\\mathbb{E}_{z}\\big[f^*\\big(g_f(V(G(z)))\\big)\\big],\\qquad \\mathcal{L}_G^{\\text{alt}} = -\\mathbb{E}_{z}\\big[g_f(V(G(z)))\\big]',
    explain:
      'The generator minimises the divergence the critic estimates. The saddle form is the f-GAN objective as written (only its second term depends on the generator). The alternative, used in the f-GAN experiments, instead raises the critic\'s score T = g_f(V) on generated samples; for the GAN divergence it is the usual non-saturating loss. Set the same divergence here as on the critic loss.',
  },
  ui: OBJECTIVE_UI,
  fixture: { inputs: { fakeLogit: { kind: 'Tensor', shape: [1] } } },
  defaultTrains: { except: ['critic'] },
  describe: (p) => facts(p.divergence),
  infer(shapes) {
    criticScalar(shapes, 'fakeLogit');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs, params }) {
    const { ops } = ctx;
    const value =
      params.variant === 'saddle' ? ops.neg(meanConjugate(ops, params.divergence, inputs.fakeLogit)) : ops.neg(meanActivation(ops, params.divergence, inputs.fakeLogit));
    return { loss: { kind: 'Loss', value, terms: { [params.variant]: value } } };
  },
});
