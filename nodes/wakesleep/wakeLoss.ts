import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { distEvent, expectSame, flatSize, LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';
import type { PortShape } from '../core/ports';
import { IWAE_NLL } from '../vae/elbo';

const fmt = (d: number[]) => `[B${d.map((x) => `, ${x}`).join('')}]`;

/** the shape checks of a wake-phase loss: q and the prior over one latent space, p(x|z) over x */
export function inferWake(shapes: Record<string, PortShape | undefined>): void {
  const x = tensorShape(shapes, 'x');
  const q = distEvent(shapes, 'q');
  expectSame('prior', distEvent(shapes, 'prior'), q, 'the prior must be over the same latent space as q');
  const px = distEvent(shapes, 'px');
  if (flatSize(px) !== flatSize(x)) throw new InferError('px', `shape mismatch on "px": the likelihood is over ${fmt(px)} but x is ${fmt(x)}`);
}

/**
 * The wake phase of wake-sleep (Hinton, Dayan, Frey & Neal 1995): the recognition network
 * proposes z ~ q(z|x) for a real x, and the generative model learns to produce that pair,
 *   loss_wake(theta) = -E_{x ~ data, z ~ q(z|x)} [ log p_theta(z) + log p_theta(x | z) ],
 * one draw per x, z = sg[z] (a binary draw: no gradient reaches q, and the objective trains the
 * prior and the decoder only). Its theta-gradient is that of the ELBO
 * E_q[log p(x, z)] - E_q[log q(z|x)] (seed 000, section 3), whose second term does not depend on theta.
 * Reported terms: recon = -mean log p(x|z), kl = mean(log q(z|x) - log p(z)) (the one-draw KL
 * estimate), so recon + kl is the negative ELBO (held out: `negElbo`).
 */
export const wakeLoss = defineNode({
  type: 'loss.wake',
  version: 1,
  title: 'Wake phase (train p)',
  category: 'loss',
  role: 'objective',
  inputs: {
    x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'real observations x' },
    q: { type: { kind: 'Dist' }, doc: 'the recognition distribution q(z|x) (read, not trained here)' },
    prior: { type: { kind: 'Dist' }, doc: 'the prior p(z) of the generative model' },
    px: { type: { kind: 'Dist' }, doc: 'the likelihood p(x|z) at the draw z ~ q(z|x)' },
    z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'the draw z ~ q(z|x) that drives the decoder' },
  },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields }),
  math: {
    latex:
      '\\mathcal{L}_{\\text{wake}}(\\theta) = -\\mathbb{E}_{x \\sim p_{\\text{data}}}\\,\\mathbb{E}_{z \\sim q_\\phi(z\\mid x)}\\big[\\log p_\\theta(z) + \\log p_\\theta(x \\mid z)\\big],\\qquad z = \\operatorname{sg}[z]',
    explain:
      'The wake phase of wake-sleep: update the generative model theta using samples from q(z | x). For each real x the recognition network proposes a binary code z, and the prior and decoder learn to produce that (x, z) pair by maximum likelihood. The recognition network is not trained here (no gradient flows through its binary samples); the sleep phase trains it. The theta-gradient is that of the ELBO, with q held fixed.',
  },
  ui: OBJECTIVE_UI,
  fixture: { inputs: { x: { kind: 'Tensor', shape: [3] }, q: { kind: 'Dist', event: [2] }, prior: { kind: 'Dist', event: [2] }, px: { kind: 'Dist', event: [3] }, z: { kind: 'Tensor', shape: [2] } } },
  evaluators: [{ kind: 'terms', metric: 'negElbo', sum: ['recon', 'kl'], report: ['recon', 'kl'] }, IWAE_NLL],
  defaultTrains: { except: ['encoder'] },
  describe: () => ({
    divergence: 'wake, in theta: KL(p_data(x) q(z | x) || p_theta(x, z)), maximum likelihood of the generative model on completions drawn from q (the ELBO in theta)',
    likelihood: { kind: 'bound', text: 'wake-sleep follows no single objective: the wake phase climbs the ELBO in theta, the sleep phase fits q to the dreams; log p(x) is estimated by importance sampling' },
  }),
  infer(shapes) {
    inferWake(shapes);
    expectSame('z', tensorShape(shapes, 'z'), distEvent(shapes, 'q'), 'one draw of q per row');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs }) {
    const { ops } = ctx;
    const zq = ops.stopGradient(inputs.z);
    const logPx = inputs.px.logProb(inputs.x);
    const logPz = inputs.prior.logProb(zq);
    const recon = ops.neg(ops.mean(logPx));
    const value = ops.sub(recon, ops.mean(logPz));
    const kl = ops.mean(ops.sub(inputs.q.logProb(zq), logPz));
    return { loss: { kind: 'Loss', value, terms: { recon, kl } } };
  },
});
