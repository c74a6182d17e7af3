import { defineFamily } from '../core/defineFamily';
import { iwaeLoss } from './iwaeLoss';
import { posteriorDraws } from './posteriorDraws';

/**
 * importance weighted autoencoders (Burda, Grosse & Salakhutdinov 2016): the VAE's encoder,
 * decoder and prior (nodes/vae/, nodes/common/) with K posterior draws per x and the bound
 * L_K of their eq. 8. Bars measured with `GENLOOM_TEMPLATES=iwae-moons,vae-moons npm run
 * bench:quality` (and iwae-mnist,vae-mnist; wasm, seed 0); `iwaeNll` is the K = 5000
 * importance-sampled held-out NLL on the first 200 held-out rows (10 MNIST images).
 */
export const iwae = defineFamily({
  id: 'iwae',
  label: 'IWAE',
  colour: '#8fd1b0',
  description: 'A VAE trained on the importance weighted bound: K posterior draws per x, a bound on log p(x) that tightens with K.',
  nodes: [posteriorDraws, iwaeLoss],
  templates: [
    {
      name: 'iwae-moons',
      bars: [
        { metric: 'iwae.iwaeNll', op: '<=', bound: 2.55, why: 'measured 2.475 (K = 5000, 200 held-out rows); vae-moons 2.589 (its negative ELBO 2.684); true entropy 2.395; one Gaussian fit 3.33' },
        { metric: 'sampler.energy', op: '<=', bound: 0.01, why: 'measured 0.0020 (n = 2000); vae-moons 0.0079; moons floor 0.0024 (two true samples); one Gaussian fit 0.030-0.038' },
      ],
    },
    {
      name: 'iwae-mnist',
      bars: [
        { metric: 'iwae.iwaeNll', op: '<=', bound: 95, why: 'measured 92.10 (K = 5000, the first 10 test images); vae-mnist 92.55 on the same images; independent pixels about 206' },
        { metric: 'iwae.negIwae', op: '<=', bound: 110, why: 'the K = 5 training bound on 1000 test images, measured 107.4; vae-mnist negative ELBO 108.0' },
      ],
    },
  ],
});
