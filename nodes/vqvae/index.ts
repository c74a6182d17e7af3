import { defineFamily } from '../core/defineFamily';
import { quantizer } from './quantizer';
import { vqLoss } from './vqLoss';
import { vqSampler } from './vqSampler';

/** VQ-VAE: an autoencoder with a discrete code grid, and a learned prior over the codes */
export const vqvae = defineFamily({
  id: 'vqvae',
  label: 'VQ-VAE',
  colour: '#4cc9f0',
  description: 'An autoencoder whose latent is a grid of discrete codes from a learned codebook (straight-through gradient), trained without a prior; a second model learns the distribution of the codes, and samples are drawn from it and decoded.',
  nodes: [quantizer, vqLoss, vqSampler],
  templates: [
    {
      name: 'vqvae-mnist',
      bars: [
        { metric: 'vqloss.perplexity', op: '>=', bound: 8, why: 'code use at least K/4 of the 32 codes; measured 30.7 after 3000 steps (247 s on wasm; with the EMA codebook update and beta 0.25: 31.0); a collapsed codebook scores 1' },
        { metric: 'vqloss.recon', op: '<=', bound: 80, why: 'held-out reconstruction -log p(x | z_q), nats per digit, from 16 codes; measured 70.3 (EMA codebook: 67.2); independent pixels (no code) 208' },
        { metric: 'priorNll.nll', op: '<=', bound: 50, why: 'held-out NLL of the code grids under the MADE prior; measured 44.7 (EMA codebook: 48.8); the uniform prior over the grid scores 16 log 32 = 55.5' },
      ],
    },
  ],
});
