import { defineFamily } from '../core/defineFamily';
import { gsnChainSampler } from './chainSampler';
import { gsnTransition } from './transition';
import { walkbackLoss } from './walkbackLoss';

/** generative stochastic networks (Bengio, Yao, Alain & Vincent 2013; Bengio et al. 2014) */
export const gsn = defineFamily({
  id: 'gsn',
  label: 'GSN',
  colour: '#3cc4b4',
  description: 'A learned Markov chain: corrupt x, sample a reconstruction from P(x | x~); trained by walkback, sampled by running the chain, whose stationary law is the model.',
  nodes: [gsnTransition, walkbackLoss, gsnChainSampler],
  templates: [
    {
      name: 'gsn-moons',
      bars: [
        {
          metric: 'chain.energy',
          op: '<=',
          bound: 0.01,
          why: 'after 200 burn-in transitions from uniform noise (EMA weights); moons floor 0.0024 (two true samples, n = 2000), a moment-matched Gaussian 0.030-0.038',
        },
        { metric: 'chain.mmd2', op: '<=', bound: 0.002, why: 'multi-scale MMD^2; floor ~0 +- 1.7e-4, a moment-matched Gaussian 0.0117' },
      ],
    },
  ],
});
