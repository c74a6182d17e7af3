import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { distEvent } from '../core/objective';
import { SAMPLES_OUT, samplerFn } from '../core/samplerShapes';

export const oneShot = defineNode({
  type: 'sampler.oneShot',
  version: 1,
  title: 'One-shot sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: {
    prior: { type: { kind: 'Dist' }, doc: 'p(z)' },
    generator: { type: { kind: 'Fn' }, doc: 'the decoder or generator z -> x' },
  },
  outputs: SAMPLES_OUT,
  params: z.object({ decode: z.enum(['sample', 'mean']).default('sample') }),
  math: {
    latex: 'z \\sim p(z),\\quad x = G_\\theta(z)\\ \\text{ or }\\ x \\sim p_\\theta(x \\mid z)',
    explain:
      'Ancestral sampling in one pass: draw a latent from the prior and decode it. For a VAE, "sample" draws from the decoder likelihood and "mean" shows its mean; for a GAN both are G(z).',
  },
  fixture: { inputs: { prior: { kind: 'Dist', event: [3] }, generator: { kind: 'Fn', in: [3], out: [2], timeConditioned: false } } },
  describe: () => ({
    latent: { text: 'latent noise z ~ p(z) pushed through a generator, no encoder (no inference of z from x)', rank: 0 },
    sampler: { calls: 1, text: 'one pass: z ~ prior, x = G(z)' },
  }),
  infer(shapes) {
    const ev = distEvent(shapes, 'prior');
    const g = samplerFn(shapes, 'generator', { timed: false, square: false });
    if (g.in.join() !== ev.join()) {
      throw new InferError('generator', `shape mismatch on "generator": it takes [B, ${g.in.join(', ')}] but the prior draws [B, ${ev.join(', ')}]`);
    }
    return { samples: { kind: 'Tensor', shape: g.out } };
  },
  apply(ctx, { inputs, params }) {
    const z = inputs.prior.sample(ctx.batchSize);
    const g = inputs.generator;
    return { samples: params.decode === 'sample' && g.sample ? g.sample(z) : g.call(z) };
  },
});
