import { defineFamily } from '../core/defineFamily';
import { contrastiveEnergy } from './contrastiveLoss';
import { energyMlp } from './energy';
import { annealedLangevin, langevinSampler } from './langevinSampler';
import { sgldNegatives } from './sgldNegatives';

/** energy-based models (Du & Mordatch 2019) */
export const ebm = defineFamily({
  id: 'ebm',
  label: 'EBM',
  colour: '#e0b03c',
  description: 'An energy network defines p(x) ∝ exp(-E(x)); trained by contrastive divergence against Langevin samples, sampled by Langevin MCMC.',
  nodes: [energyMlp, contrastiveEnergy, sgldNegatives, langevinSampler, annealedLangevin],
  templates: [
    {
      name: 'ebm-8gaussians',
      bars: [
        { metric: 'langevin.energy', op: '<=', bound: 0.05, why: 'after 500 Langevin steps from uniform noise; one Gaussian fit to all scores 0.094 (measured 0.010 on wasm, 3000 steps)' },
        { metric: 'langevin.modes', op: '>=', bound: 8, why: 'every mode of 8gaussians reached by the chains' },
        { metric: 'annealed.energy', op: '<=', bound: 0.05, why: 'the annealed sampler, 5 levels from s = 3 to 1 (measured 0.008)' },
      ],
    },
  ],
});
