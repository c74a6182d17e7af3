import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import type { Ops } from '../core/ops';
import type { PortShape } from '../core/ports';
import { expectSame, LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';
import type { FnValue } from '../core/values';

/**
 * Wasserstein GANs.
 *
 * Kantorovich-Rubinstein duality (Arjovsky, Chintala & Bottou 2017, eq. 2; Villani 2009):
 *   W1(P_r, P_g) = sup_{||f||_L <= 1}  E_{x ~ P_r}[f(x)] - E_{x ~ P_g}[f(x)]
 * WGAN (Arjovsky et al. 2017, eq. 3 and Algorithm 1) replaces the sup by a critic f_w whose
 * weights are clipped to a box [-c, c] after every step (so f_w is K-Lipschitz for some K)
 * and plays
 *   max_w  E_x[f_w(x)] - E_z[f_w(G(z))]        (the critic, n_critic steps per round)
 *   min_G -E_z[f_w(G(z))]                      (the generator; Theorem 3: its gradient is
 *                                               -E_z[grad_theta f(G_theta(z))])
 * WGAN-GP (Gulrajani et al. 2017, eq. 3 and Algorithm 1) drops the clipping and penalises
 * the critic's gradient norm on random interpolates between real and generated points:
 *   L_D = E_z[D(G(z))] - E_x[D(x)] + lambda E_{x^}[(||grad_{x^} D(x^)||_2 - 1)^2],
 *   x^ = eps x + (1 - eps) G(z),  eps ~ U[0, 1] per row,
 * since the optimal critic has unit gradient norm almost everywhere on the segments between
 * coupled points (their Proposition 1). In both, -L_D without the penalty,
 *   w1 = E_x[D(x)] - E_z[D(G(z))],
 * is the critic's estimate of W1 (times K under clipping): it falls as G improves.
 */

const CRITIC_TEXT = {
  divergence: "the Wasserstein-1 (earth mover's) distance W1(p_data, p_g), in its Kantorovich-Rubinstein dual form",
  likelihood: { kind: 'none', text: 'no likelihood at all: trained adversarially against a Wasserstein critic, an implicit model' } } as const;

/** the critic's scores E_x[D(x)] - E_z[D(G(z))] = w1 and the Wasserstein critic loss -w1 */
function wassersteinTerms<T>(ops: Ops<T>, real: T, fake: T): { w1: T; real: T; fake: T } {
  const r = ops.mean(real);
  const f = ops.mean(fake);
  return { w1: ops.sub(r, f), real: r, fake: f };
}

export const wganCritic = defineNode({
  type: 'loss.wganCritic',
  version: 1,
  title: 'WGAN critic loss',
  category: 'loss',
  role: 'objective',
  inputs: {
    realScore: { type: { kind: 'Tensor', semantic: 'logit' }, doc: 'critic scores f(x) on data' },
    fakeScore: { type: { kind: 'Tensor', semantic: 'logit' }, doc: 'critic scores f(G(z)) on generated samples' },
  },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields }),
  math: {
    latex:
      '\\mathcal{L}_D = \\mathbb{E}_{z\\sim p(z)}\\big[f_w(G(z))\\big] - \\mathbb{E}_{x\\sim p_{\\text{data}}}\\big[f_w(x)\\big],\\qquad w \\leftarrow \\operatorname{clip}(w, -c, c)',
    explain:
      'The Wasserstein critic: an unbounded score, high on data and low on generated points. By the Kantorovich-Rubinstein duality the best 1-Lipschitz score separates the two by exactly the earth mover\'s distance W1. Weight clipping (the optimiser\'s clipWeights c, with RMSprop) keeps the critic Lipschitz in a crude way, so w1 = E[f(x)] - E[f(G(z))] estimates W1 up to an unknown scale. The critic takes several steps (n_critic, e.g. 5) per generator step; it trains only the critic.',
  },
  ui: OBJECTIVE_UI,
  fixture: { inputs: { realScore: { kind: 'Tensor', shape: [1] }, fakeScore: { kind: 'Tensor', shape: [1] } } },
  defaultTrains: { only: ['critic'] },
  evaluators: [{ kind: 'terms', metric: 'w1', sum: ['w1'], report: [] }],
  describe: () => CRITIC_TEXT,
  infer(shapes) {
    scoreShape(shapes, 'realScore');
    scoreShape(shapes, 'fakeScore');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs }) {
    const { ops } = ctx;
    const t = wassersteinTerms(ops, inputs.realScore, inputs.fakeScore);
    return { loss: { kind: 'Loss', value: ops.neg(t.w1), terms: t } };
  },
});

export const wganGenerator = defineNode({
  type: 'loss.wganGenerator',
  version: 1,
  title: 'WGAN generator loss',
  category: 'loss',
  role: 'objective',
  inputs: { fakeScore: { type: { kind: 'Tensor', semantic: 'logit' }, doc: 'critic scores f(G(z)) on generated samples' } },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields }),
  math: {
    latex: '\\mathcal{L}_G = -\\mathbb{E}_{z\\sim p(z)}\\big[f_w(G_\\theta(z))\\big],\\qquad \\nabla_\\theta W_1 = -\\mathbb{E}_z\\big[\\nabla_\\theta f_w(G_\\theta(z))\\big]',
    explain:
      'The generator climbs the critic\'s score. Since E[f(x)] on data does not depend on the generator, lowering -E[f(G(z))] lowers the critic\'s estimate of W1, and its gradient is the gradient of W1 itself. Unlike the saturating GAN loss this gradient does not vanish when the critic wins: a Lipschitz critic has useful slopes everywhere. It trains only the generator.',
  },
  ui: OBJECTIVE_UI,
  fixture: { inputs: { fakeScore: { kind: 'Tensor', shape: [1] } } },
  defaultTrains: { except: ['critic'] },
  describe: () => CRITIC_TEXT,
  infer(shapes) {
    scoreShape(shapes, 'fakeScore');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs }) {
    const { ops } = ctx;
    const fake = ops.mean(inputs.fakeScore);
    return { loss: { kind: 'Loss', value: ops.neg(fake), terms: { fake } } };
  },
});

export const wganGpCritic = defineNode({
  type: 'loss.wganGpCritic',
  version: 1,
  title: 'WGAN-GP critic loss',
  category: 'loss',
  role: 'objective',
  inputs: {
    critic: { type: { kind: 'Fn' }, doc: 'the critic D as a function (its fn output)' },
    real: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'samples of the data x' },
    fake: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'generated samples G(z)' },
  },
  outputs: LOSS_OUT,
  params: z.object({
    ...objectiveFields,
    /** lambda: weight of the gradient penalty (Gulrajani et al. 2017 use 10) */
    lambda: z.number().min(0).max(1000).default(10),
  }),
  math: {
    latex:
      '\\mathcal{L}_D = \\mathbb{E}_{z}\\big[D(G(z))\\big] - \\mathbb{E}_{x}\\big[D(x)\\big] + \\lambda\\,\\mathbb{E}_{\\hat x}\\Big[\\big(\\lVert\\nabla_{\\hat x} D(\\hat x)\\rVert_2 - 1\\big)^2\\Big],\\quad \\hat x = \\epsilon x + (1 - \\epsilon)\\,G(z),\\ \\epsilon \\sim \\mathcal{U}[0, 1]',
    explain:
      'A Wasserstein critic kept 1-Lipschitz by a gradient penalty instead of weight clipping. The best critic has slope exactly 1 along the straight lines between data and generated points, so the penalty pulls the norm of grad D towards 1 at random points on those lines. The gradient is taken inside the loss (a gradient of a gradient when the critic is trained). w1 = E[D(x)] - E[D(G(z))] is then a direct estimate of the earth mover\'s distance W1, plotted live: it should fall towards 0 as the generator improves. Use Adam with beta1 = 0, beta2 = 0.9 and about 5 critic steps per round; it trains only the critic.',
  },
  ui: { ...OBJECTIVE_UI, lambda: { advanced: true } },
  fixture: {
    inputs: { critic: { kind: 'Fn', in: [2], out: [1], timeConditioned: false }, real: { kind: 'Tensor', shape: [2] }, fake: { kind: 'Tensor', shape: [2] } },
  },
  defaultTrains: { only: ['critic'] },
  evaluators: [{ kind: 'terms', metric: 'w1', sum: ['w1'], report: ['gp', 'gradNorm'] }],
  describe: () => CRITIC_TEXT,
  infer(shapes) {
    const f = criticFn(shapes, 'critic');
    expectSame('real', tensorShape(shapes, 'real'), f.in, 'the critic takes points of this shape');
    expectSame('fake', tensorShape(shapes, 'fake'), f.in, 'generated samples must have the shape of the data');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs, params }) {
    const { ops } = ctx;
    const D: FnValue<any> = inputs.critic;
    const x = inputs.real;
    const g = inputs.fake;
    const t = wassersteinTerms(ops, D.call(x), D.call(g));
    const { gp, gradNorm } = gradientPenalty(ops, D, x, g);
    const value = ops.add(ops.neg(t.w1), ops.mul(gp, ops.scalar(params.lambda)));
    return { loss: { kind: 'Loss', value, terms: { ...t, gp, gradNorm } } };
  },
});

/**
 * E_{x^}[(||grad_{x^} D(x^)||_2 - 1)^2] with x^ = eps x + (1 - eps) g, one eps ~ U[0, 1]
 * per row (Gulrajani et al. 2017, eq. 3), and the mean gradient norm. grad_{x^} D is
 * ops.grad (reverse mode inside the loss): in training, tfjs differentiates through it.
 */
export function gradientPenalty<T>(ops: Ops<T>, D: FnValue<T>, x: T, g: T): { gp: T; gradNorm: T } {
  const rank = D.in.length;
  const axes = Array.from({ length: rank }, (_, i) => i + 1);
  // [B, 1, ..., 1]: one eps per row, broadcast over the point
  const eps = ops.randomUniformLike(ops.sum(x, axes, true));
  const xHat = ops.add(g, ops.mul(eps, ops.sub(x, g)));
  const grad = ops.grad((u) => D.call(u), xHat);
  // a tiny floor keeps the gradient of the norm finite where grad D = 0
  const norm = ops.sqrt(ops.add(ops.sum(ops.square(grad), axes), ops.scalar(1e-12)));
  return { gp: ops.mean(ops.square(ops.sub(norm, ops.scalar(1)))), gradNorm: ops.mean(norm) };
}

/** a critic score port: one number per row */
function scoreShape(shapes: Record<string, PortShape | undefined>, port: string): void {
  const s = tensorShape(shapes, port);
  if (s.length !== 1 || s[0] !== 1) throw new InferError(port, `"${port}" must be one critic score per row [B, 1], got [B${s.map((d) => `, ${d}`).join('')}]`);
}

function criticFn(shapes: Record<string, PortShape | undefined>, port: string): Extract<PortShape, { kind: 'Fn' }> {
  const f = shapes[port];
  if (!f) throw new InferError(port, 'connect the critic (its fn output)', 'bad-input');
  if (f.kind !== 'Fn') throw new InferError(port, `"${port}" must be a network function, got ${f.kind}`, 'bad-input');
  if (f.timeConditioned) throw new InferError(port, 'the critic must not be time conditioned', 'bad-input');
  if (f.out.length !== 1 || f.out[0] !== 1) throw new InferError(port, `the critic must give one score per point, it gives [B, ${f.out.join(', ')}]`);
  return f;
}
