import { defineFamily } from '../core/defineFamily';
import { ganCritic, ganGenerator } from './ganLosses';
import { generator } from './generator';
import { mlpCritic } from './mlpCritic';

/** generative adversarial networks (Goodfellow et al. 2014) */
export const gan = defineFamily({
  id: 'gan',
  label: 'GAN',
  colour: '#f0605d',
  description: 'A generator and a critic trained against each other; no likelihood, an implicit model.',
  nodes: [generator, mlpCritic, ganCritic, ganGenerator],
  templates: [
    {
      name: 'gan-8gaussians',
      bars: [
        { metric: 'sampler.modes', op: '>=', bound: 8, why: 'every mode of 8gaussians captured' },
        { metric: 'sampler.highQuality', op: '>=', bound: 0.8, why: 'within 3 sigma of a mode (98.9% of true samples)' },
        { metric: 'sampler.energy', op: '<=', bound: 0.03, why: 'one mode dropped scores 0.064' },
      ],
    },
  ],
});
