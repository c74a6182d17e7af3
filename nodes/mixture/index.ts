import { defineFamily } from '../core/defineFamily';
import { gaussianMixture } from './gaussianMixture';
import { kde } from './kde';
import { mixtureSampler } from './mixtureSampler';

/** mixtures and kernel density estimation: exact likelihoods fitted in closed form (EM, stored points) or by gradient */
export const mixture = defineFamily({
  id: 'mixture',
  label: 'Mixtures and KDE',
  colour: '#c77dff',
  description: 'Gaussian mixtures trained by EM (closed-form steps, no learning rate) or by gradient, and kernel density estimates: exact likelihoods, exact ancestral samples.',
  nodes: [gaussianMixture, kde, mixtureSampler],
  templates: [
    { name: 'gmm-em-8gaussians', bars: [{ metric: 'gmm.nll', op: '<=', bound: 2.86, why: 'entropy 2.830 (REFERENCE); measured 2.835 after 40 EM steps (2 s); one Gaussian fit scores 3.5' }] },
    { name: 'gmm-sgd-8gaussians', bars: [{ metric: 'gmm.nll', op: '<=', bound: 2.86, why: 'entropy 2.830; measured 2.851 after 3000 Adam steps (13 s); with 8 components from random means Adam stalls at 3.25' }] },
    { name: 'kde-moons', bars: [{ metric: 'kde.nll', op: '<=', bound: 2.6, why: 'entropy 2.395 (REFERENCE); measured 2.454 with 2000 points; a Gaussian fit and h = 0.01 both fail' }] },
  ],
});
