import { z } from 'zod';
import { defineNode, emaOf, InferError } from '../core/defineNode';
import type { FnValue } from '../core/values';
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
  params: z.object({
    decode: z.enum(['sample', 'mean']).default('sample'),
    /** decode with an exponential moving average of the generator's weights (decay per step; 0 = the weights as trained) */
    ema: z.number().min(0).lt(1).default(0),
  }),
  math: {
    latex: 'z \\sim p(z),\\quad x = G_\\theta(z)\\ \\text{ or }\\ x \\sim p_\\theta(x \\mid z)',
    explain:
      'Ancestral sampling in one pass: draw a latent from the prior and decode it. For a VAE, "sample" draws from the decoder likelihood and "mean" shows its mean; for a GAN both are G(z). With an EMA decay the generator runs on the running average of its weights, which is steadier than the last iterate of adversarial training.',
  },
  ui: { ema: { advanced: true } },
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
  build(ctx, p, _shapes, statics): { fn: FnValue<any> | undefined } {
    return { fn: p.ema > 0 ? emaOf(ctx, 'generator', p.ema, statics.generator) : undefined };
  },
  apply(ctx, { inputs, params, built }) {
    const z = inputs.prior.sample(ctx.batchSize);
    const g: FnValue<any> = built.fn ?? inputs.generator;
    return { samples: params.decode === 'sample' && g.sample ? g.sample(z) : g.call(z) };
  },
});
