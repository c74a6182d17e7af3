import { z } from 'zod';
import { defineNode, InferError, type EvaluatorDecl } from '../core/defineNode';
import { analyticKl } from '../core/dists';
import { distEvent, expectSame, LOSS_OUT, objectiveFields, tensorShape, OBJECTIVE_UI } from '../core/objective';

/**
 * The held-out NLL estimate every latent-variable objective reports as `<objective>.iwaeNll`
 * (Burda et al. 2016, eq. 8 with K = 5000, as in their evaluation):
 *   -log p(x) ~= -log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x),  z_k ~ q(z|x),
 * a tighter bound than the negative ELBO (it is the ELBO at K = 1). K = 5000 draws cost 5000
 * decoder passes per row, so it is taken on few held-out rows, the first of the held-out
 * split: at most 200, and at most 4e7 (n / 2000) / (K dim) for an evaluation of n rows
 * (200 rows of a 2-D set; 10 MNIST images at n = 2000; src-main/eval/iwae.ts).
 */
export const IWAE_NLL: EvaluatorDecl = { kind: 'iwae', metric: 'iwaeNll', samples: 5000, rows: 200, x: 'x', q: 'q', prior: 'prior', px: 'px' };

/**
 * The negative ELBO (Kingma & Welling 2014, eq. 10):
 *   -ELBO(x) = -E_{q(z|x)}[log p(x|z)] + beta KL(q(z|x) || p(z))
 * The expectation uses one reparameterised sample; KL is analytic where it exists,
 * otherwise the one-sample estimate log q(z|x) - log p(z).
 */
export const elbo = defineNode({
  type: 'loss.elbo',
  version: 1,
  title: 'ELBO',
  category: 'loss',
  role: 'objective',
  inputs: {
    x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'the observations being explained' },
    q: { type: { kind: 'Dist' }, doc: 'the encoder posterior q(z|x)' },
    prior: { type: { kind: 'Dist' }, doc: 'the prior p(z)' },
    px: { type: { kind: 'Dist' }, doc: 'the decoder likelihood p(x|z) at z ~ q' },
    z: { type: { kind: 'Tensor', semantic: 'latent' }, optional: true, doc: 'the sample z ~ q (needed only when KL has no closed form)' },
  },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields, beta: z.number().min(0).max(1000).default(1) }),
  math: {
    latex:
      '\\mathcal{L}(\\theta,\\phi) = \\underbrace{-\\mathbb{E}_{q_\\phi(z\\mid x)}\\big[\\log p_\\theta(x\\mid z)\\big]}_{\\text{recon}} + \\beta\\,\\underbrace{\\mathrm{KL}\\big(q_\\phi(z\\mid x)\\,\\|\\,p(z)\\big)}_{\\text{kl}} \\;\\ge\\; -\\log p_\\theta(x)\\ (\\beta = 1)',
    explain:
      'The evidence lower bound, negated so it is minimised. The reconstruction term asks the decoder to explain x from z; the KL term keeps the encoder posterior close to the prior so that samples from the prior decode to plausible data. With beta = 1 it bounds the negative log-likelihood; beta > 1 trades reconstruction for a more regular latent space.',
  },
  ui: OBJECTIVE_UI,
  fixture: { inputs: { x: { kind: 'Tensor', shape: [3] }, q: { kind: 'Dist', event: [2] }, prior: { kind: 'Dist', event: [2] }, px: { kind: 'Dist', event: [3] }, z: { kind: 'Tensor', shape: [2] } } },
  evaluators: [{ kind: 'terms', metric: 'negElbo', sum: ['recon', 'kl'], report: ['recon', 'kl'] }, IWAE_NLL],
  describe: () => ({
    divergence: 'KL(p_data || p_theta) through the ELBO, whose gap is KL(q(z | x) || p(z | x))',
    likelihood: { kind: 'bound', text: 'a lower bound on the log-likelihood (the ELBO), not the exact value' } }),
  infer(shapes) {
    const x = tensorShape(shapes, 'x');
    const q = distEvent(shapes, 'q');
    expectSame('prior', distEvent(shapes, 'prior'), q, 'the prior must be over the same latent space as q');
    const px = distEvent(shapes, 'px');
    if (px.reduce((a, b) => a * b, 1) !== x.reduce((a, b) => a * b, 1)) {
      throw new InferError('px', `shape mismatch on "px": the likelihood is over [B, ${px.join(', ')}] but x is [B, ${x.join(', ')}]`);
    }
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs, params }) {
    const { ops } = ctx;
    const recon = ops.neg(ops.mean(inputs.px.logProb(inputs.x)));
    let klRow = analyticKl(ops, inputs.q, inputs.prior);
    if (klRow === undefined) {
      if (!inputs.z) throw new Error(`${ctx.nodeId}: KL(q || p) has no closed form here; connect z so it can be estimated`);
      klRow = ops.sub(inputs.q.logProb(inputs.z), inputs.prior.logProb(inputs.z));
    }
    const kl = ops.mean(klRow);
    const value = params.beta === 1 ? ops.add(recon, kl) : ops.add(recon, ops.mul(kl, ops.scalar(params.beta)));
    return { loss: { kind: 'Loss', value, terms: { recon, kl } } };
  },
});
