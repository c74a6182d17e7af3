import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import type { PortShape } from '../core/ports';
import { distEvent, LOSS_OUT, OBJECTIVE_UI, objectiveFields } from '../core/objective';
import { sumEvent } from '../core/values';

const fnShape = (shapes: Record<string, PortShape | undefined>, port: string) => {
  const s = shapes[port];
  if (!s) throw new InferError(port, `input "${port}" is not connected`, 'bad-input');
  if (s.kind !== 'Fn') throw new InferError(port, `input "${port}" must be an Fn, got ${s.kind}`, 'bad-input');
  if (s.timeConditioned) throw new InferError(port, `input "${port}" is time conditioned; the sleep phase needs a plain network`, 'bad-input');
  return s;
};
const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const fmt = (d: number[]) => `[B${d.map((x) => `, ${x}`).join('')}]`;

/**
 * The sleep phase of wake-sleep (Hinton, Dayan, Frey & Neal 1995): the generative model
 * dreams (z, x) by ancestral sampling, and the recognition network learns to recover z from x,
 *   loss_sleep(phi) = -E_{z ~ p(z), x ~ p(x|z)} [ log q_phi(z | x) ],
 * a Monte Carlo estimate of KL(p_theta(z|x) || q_phi(z|x)) averaged over dreamed x, up to terms
 * free of phi: q learns the inverse of the generative network (seed 001, sections 1 and 6).
 * The dreams are constants (sg: binary draws), and the objective trains the recognition network
 * only. q is read through the recognition Fn: x -> logits l of q(z|x) = prod_j Bern(z_j; sigma(l_j)),
 *   log q(z|x) = sum_j z_j l_j - softplus(l_j).
 * Dreams: x ~ p(x|z) where the generator defines a draw (`dream: sample`, Hinton et al.),
 * else (or with `dream: mean`) x = G(z).
 */
export const sleepLoss = defineNode({
  type: 'loss.sleep',
  version: 1,
  title: 'Sleep phase (train q)',
  category: 'loss',
  role: 'objective',
  inputs: {
    prior: { type: { kind: 'Dist' }, doc: 'the prior p(z) the dreams start from' },
    generator: { type: { kind: 'Fn' }, doc: 'the decoder z -> x (its draw x ~ p(x|z) where it has one)' },
    recognition: { type: { kind: 'Fn' }, doc: 'the recognition network x -> logits of q(z|x)' },
  },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields, dream: z.enum(['sample', 'mean']).default('sample') }),
  math: {
    latex:
      '\\mathcal{L}_{\\text{sleep}}(\\phi) = -\\mathbb{E}_{z \\sim p_\\theta(z),\\ x \\sim p_\\theta(x \\mid z)}\\big[\\log q_\\phi(z \\mid x)\\big] = \\mathbb{E}_{p_\\theta(x)}\\,\\mathrm{KL}\\big(p_\\theta(z\\mid x)\\,\\|\\,q_\\phi(z\\mid x)\\big) + \\text{const}',
    explain:
      'The sleep phase of wake-sleep: update the recognition network phi using samples from p(x, z). The generative model dreams a code z from its prior and an image x from its decoder; the recognition network is then trained, like a classifier, to predict the dreamed z from the dreamed x. It learns the inverse of the generative network. It minimises KL(p || q), the reverse of the direction a VAE minimises, and on dreams rather than real data.',
  },
  ui: { ...OBJECTIVE_UI, dream: { advanced: true } },
  fixture: {
    inputs: {
      prior: { kind: 'Dist', event: [2] },
      generator: { kind: 'Fn', in: [2], out: [3], timeConditioned: false },
      recognition: { kind: 'Fn', in: [3], out: [2], timeConditioned: false },
    },
  },
  defaultTrains: { only: ['encoder'] },
  describe: () => ({
    divergence: 'sleep, in q: KL(p_theta(z | x) || q(z | x)) on dreams (x, z) ~ p_theta, the reverse of the direction the ELBO asks for',
    likelihood: { kind: 'none', text: 'the sleep phase fits q(z|x) to the model\'s own dreams (KL(p || q)); it gives no likelihood' } }),
  infer(shapes) {
    const ev = distEvent(shapes, 'prior');
    const g = fnShape(shapes, 'generator');
    const r = fnShape(shapes, 'recognition');
    if (!same(g.in, ev)) throw new InferError('generator', `shape mismatch on "generator": it takes ${fmt(g.in)} but the prior draws ${fmt(ev)}`);
    if (!same(r.in, g.out)) throw new InferError('recognition', `shape mismatch on "recognition": it takes ${fmt(r.in)} but the generator makes ${fmt(g.out)}`);
    if (!same(r.out, ev)) throw new InferError('recognition', `shape mismatch on "recognition": it gives logits ${fmt(r.out)} but the latent is ${fmt(ev)}`);
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs, params }) {
    const { ops } = ctx;
    // a dream (z, x) ~ p(z) p(x|z): constants for this objective
    const zd = ops.stopGradient(inputs.prior.sample(ctx.batchSize));
    const g = inputs.generator;
    const xd = ops.stopGradient(params.dream === 'sample' && g.sample ? g.sample(zd) : g.call(zd));
    // log q(z|x) = sum_j z_j l_j - softplus(l_j)
    const l = inputs.recognition.call(xd);
    const logQ = sumEvent(ops, ops.sub(ops.mul(zd, l), ops.softplus(l)));
    const value = ops.neg(ops.mean(logQ));
    return { loss: { kind: 'Loss', value, terms: { sleep: value } } };
  },
});
