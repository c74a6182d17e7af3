import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { distEvent } from '../core/objective';
import { SAMPLES_OUT, samplerFn } from '../core/samplerShapes';

/** VQ-VAE sampling: codes from the learned prior over the code grid, looked up in the codebook, decoded. */
export const vqSampler = defineNode({
  type: 'sampler.vqvae',
  version: 1,
  title: 'VQ-VAE sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: {
    prior: { type: { kind: 'Dist' }, doc: 'the prior over code grids (an autoregressive model of the codes)' },
    codebook: { type: { kind: 'Fn' }, doc: 'the quantiser\'s lookup: codes -> z_q' },
    decoder: { type: { kind: 'Fn' }, doc: 'the decoder z_q -> x' },
  },
  outputs: SAMPLES_OUT,
  params: z.object({ decode: z.enum(['sample', 'mean']).default('mean') }),
  math: {
    latex: 'k_{1..N} \\sim p_\\psi(k),\\quad z_q = (e_{k_1}, \\dots, e_{k_N}),\\quad x = \\operatorname{dec}_\\theta(z_q)',
    explain:
      'Sampling a VQ-VAE takes two models: the prior draws a grid of codes (one position at a time, for an autoregressive prior), the codebook turns the codes into vectors, and the decoder turns those into an image. The decoder alone, fed uniformly random codes, would give mostly noise: the prior is what knows which code grids look like digits.',
  },
  fixture: {
    inputs: { prior: { kind: 'Dist', event: [2] }, codebook: { kind: 'Fn', in: [2], out: [4], timeConditioned: false }, decoder: { kind: 'Fn', in: [4], out: [3], timeConditioned: false } },
  },
  describe: () => ({ sampler: { calls: undefined, text: 'the prior draws the code grid, then one decoder pass' } }),
  infer(shapes) {
    const ev = distEvent(shapes, 'prior');
    const cb = samplerFn(shapes, 'codebook', { timed: false, square: false });
    const dec = samplerFn(shapes, 'decoder', { timed: false, square: false });
    if (cb.in.join() !== ev.join()) throw new InferError('codebook', `shape mismatch on "codebook": it takes [B, ${cb.in.join(', ')}] but the prior draws [B, ${ev.join(', ')}]`);
    if (dec.in.join() !== cb.out.join()) throw new InferError('decoder', `shape mismatch on "decoder": it takes [B, ${dec.in.join(', ')}] but the codebook gives [B, ${cb.out.join(', ')}]`);
    return { samples: { kind: 'Tensor', shape: dec.out } };
  },
  apply(ctx, { inputs, params }) {
    const zq = inputs.codebook.call(inputs.prior.sample(ctx.batchSize));
    return { samples: params.decode === 'sample' && inputs.decoder.sample ? inputs.decoder.sample(zq) : inputs.decoder.call(zq) };
  },
});
