import { defineFamily } from '../core/defineFamily';
import { contrastiveDivergence } from './cdLoss';
import { gibbsNegatives } from './gibbsNegatives';
import { rbmGibbsSampler } from './gibbsSampler';
import { rbmBernoulli } from './rbm';
import { rbmGaussian } from './gaussianRbm';
import { dbnSampler } from './dbnSampler';

/** restricted Boltzmann machines (Hinton 2002; Tieleman 2008; Salakhutdinov & Murray 2008) */
export const rbm = defineFamily({
  id: 'rbm',
  label: 'RBM',
  colour: '#8d6e63',
  description: 'A restricted Boltzmann machine: p(v) ∝ exp(-F(v)) with binary hidden units summed out; trained by contrastive divergence (CD-k or persistent CD), sampled by block Gibbs, evaluated by AIS estimates of log Z (binary pixels) or exactly (Gaussian visible units, few hidden units).',
  nodes: [rbmBernoulli, rbmGaussian, gibbsNegatives, contrastiveDivergence, rbmGibbsSampler, dbnSampler],
  templates: [
    {
      name: 'rbm-mnist',
      bars: [
        { metric: 'cd.aisNllUpper95', op: '<=', bound: 180, why: 'CD-1: upper end of the 95% interval of the AIS held-out NLL (mean F + log Z, 100 runs x 10000 temperatures); measured 174.1 +- 1.9 (176.0) on wasm after 3000 rounds; independent pixels 208.1 nats' },
        { metric: 'pcd.aisNllUpper95', op: '<=', bound: 205, why: 'PCD-1 (100 persistent chains), same budget and optimiser, must beat independent pixels (208.1): measured 186.3 +- 3.1 (upper 189.3); at Adam lr 0.005 it does not beat CD-1' },
      ],
    },
    { name: 'dbn-mnist', bars: [] },
    { name: 'gbrbm-8gaussians', bars: [{ metric: 'rbm.nll', op: '<=', bound: 2.95, why: 'exact held-out NLL (2^12 patterns summed out); entropy 2.830 (REFERENCE); measured 2.879 after 4000 CD-1 steps (10 s on wasm), sigma learned; a Gaussian fit scores 3.5' }] },
  ],
});
