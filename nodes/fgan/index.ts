import { defineFamily, type QualityBar } from '../core/defineFamily';
import { fganCritic, fganGenerator } from './fganLosses';

/**
 * The bars every f-GAN template meets after its full steps (`npm run bench:quality`, wasm,
 * seed 0). On 8gaussians mode coverage alone proves little (one broad Gaussian puts a
 * sample near all 8 modes); high quality and energy distance are the bars a moment-matched
 * Gaussian fails (high quality 0.40, energy 0.094; one mode dropped: energy 0.064).
 */
const bars = (highQuality: number, energy: number, measured: string): QualityBar[] => [
  { metric: 'sampler.modes', op: '>=', bound: 6, why: 'at least 6 of the 8 modes captured' },
  { metric: 'sampler.highQuality', op: '>=', bound: highQuality, why: `within 3 sigma of a mode (98.9% of true samples; a moment-matched Gaussian 0.40); measured ${measured}` },
  { metric: 'sampler.energy', op: '<=', bound: energy, why: `one mode dropped scores 0.064, a moment-matched Gaussian 0.094; measured ${measured}` },
];

/** f-GAN: variational divergence minimisation (Nowozin, Cseke & Tomioka 2016) */
export const fgan = defineFamily({
  id: 'fgan',
  label: 'f-GAN',
  colour: '#e8744f',
  description: 'A GAN for any f-divergence: the critic maximises a Fenchel-dual lower bound on D_f(data || model), the generator minimises it.',
  nodes: [fganCritic, fganGenerator],
  templates: [
    // a bounded (tanh) critic and a slower generator, 4000 steps: see the template's description
    { name: 'fgan-kl-8gaussians', bars: bars(0.7, 0.03, 'high quality 0.85, energy 0.014 (seed 1: 0.77, 0.013)') },
    { name: 'fgan-reversekl-8gaussians', bars: bars(0.85, 0.03, 'high quality 0.97, energy 0.007 (seed 1: 0.97, 0.019)') },
    { name: 'fgan-pearson-8gaussians', bars: bars(0.7, 0.03, 'high quality 0.90, energy 0.009 (seed 1: 0.74, 0.017)') },
    { name: 'fgan-hellinger-8gaussians', bars: bars(0.85, 0.03, 'high quality 0.97, energy 0.008 (seed 1: 0.97, 0.017)') },
    { name: 'fgan-js-8gaussians', bars: bars(0.85, 0.03, 'high quality 0.97, energy 0.008 (seed 1: 0.98, 0.015)') },
    // trains exactly like fgan-js: g_f and f* differ from the JS ones by constants
    { name: 'fgan-gan-8gaussians', bars: bars(0.85, 0.03, 'high quality 0.97, energy 0.008, as fgan-js') },
  ],
});
