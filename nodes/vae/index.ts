import { defineFamily } from '../core/defineFamily';
import { bernoulliDecoder } from './bernoulliDecoder';
import { elbo } from './elbo';
import { gaussianDecoder } from './gaussianDecoder';
import { gaussianEncoder } from './gaussianEncoder';

/** variational autoencoders (Kingma and Welling 2014) */
export const vae = defineFamily({
  id: 'vae',
  label: 'VAE',
  colour: '#5ec8f2',
  description: 'An encoder infers a latent z from x, a decoder maps z back; trained on the evidence lower bound.',
  nodes: [gaussianEncoder, gaussianDecoder, bernoulliDecoder, elbo],
  templates: [
    { name: 'vae-moons', bars: [{ metric: 'sampler.energy', op: '<=', bound: 0.05, why: 'moons floor 0.0024 (two true samples, n = 2000)' }] },
    { name: 'vae-mnist', bars: [] },
  ],
});
