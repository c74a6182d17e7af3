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
        { metric: 'cd.aisNllUpper95', op: '<=', bound: 190, why: 'CD-1: upper end of the 95% interval of the AIS held-out NLL (mean F + log Z, 100 runs x 10000 temperatures); measured 178.0 +- 2.0 (180.0) on wasm after 3000 rounds of SGD (lr 0.05, momentum 0.9); independent pixels 208.1 nats' },
        { metric: 'pcd.aisNllUpper95', op: '<=', bound: 140, why: 'PCD-1 (100 persistent chains), same budget and optimiser: measured 126.8 +- 3.4 (130.1), 50 nats better than CD-1, whose one Gibbs step from the data leaves spurious modes of the model untouched (log Z 532.6 against 47.1); at Adam lr 0.005 PCD did not beat CD-1' },
      ],
    },
    { name: 'dbn-mnist', bars: [] },
    { name: 'gbrbm-8gaussians', bars: [{ metric: 'rbm.nll', op: '<=', bound: 2.95, why: 'exact held-out NLL (2^12 patterns summed out); entropy 2.830 (REFERENCE); measured 2.879 after 4000 CD-1 steps (10 s on wasm), sigma learned; a Gaussian fit scores 3.5' }] },
  ],
});
