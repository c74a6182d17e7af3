import { defineFamily } from '../core/defineFamily';
import { bernoulliEncoder } from './bernoulliEncoder';
import { bernoulliPrior } from './bernoulliPrior';
import { posteriorSamples } from './posteriorSamples';
import { rwsWakeP, rwsWakeQ } from './rwsLosses';
import { sleepLoss } from './sleepLoss';
import { wakeLoss } from './wakeLoss';

/**
 * Helmholtz machines trained by wake-sleep (Hinton, Dayan, Frey & Neal 1995) and by reweighted
 * wake-sleep (Bornschein & Bengio 2015): a generative model p(z) p(x|z) over binary latent units
 * (a learned Bernoulli prior, the Bernoulli decoder of nodes/vae/) and a recognition network
 * q(z|x). Bars measured with `GENLOOM_TEMPLATES=ws-mnist,rws-mnist npm run bench:quality`
 * (wasm, seed 0, on two shared cores); `iwaeNll` is the K = 5000 importance-sampled held-out NLL on the
 * first 10 test images. The two templates share the networks, steps, batch and learning rate; RWS
 * costs about 2.3x the time per step (its decoder runs on K = 5 codes per image in both objectives).
 */
export const wakesleep = defineFamily({
  id: 'wakesleep',
  label: 'Wake-sleep',
  colour: '#d9a05b',
  description: 'A Helmholtz machine: a generative network p(x, z) and a recognition network q(z | x), trained in turns on each other\'s samples (wake-sleep), or with K importance-weighted proposals (reweighted wake-sleep).',
  nodes: [bernoulliPrior, bernoulliEncoder, posteriorSamples, wakeLoss, sleepLoss, rwsWakeP, rwsWakeQ],
  templates: [
    {
      name: 'ws-mnist',
      bars: [
        { metric: 'wake.iwaeNll', op: '<=', bound: 185, why: 'measured 177.7 (K = 5000, the first 10 test images; 1600 steps in 46 s on two shared cores); rws-mnist 113.6 on the same images with the same nets and steps; independent pixels 191.6 on them (206.0 on 100 images)' },
      ],
    },
    {
      name: 'rws-mnist',
      bars: [
        { metric: 'wake.iwaeNll', op: '<=', bound: 120, why: 'measured 113.6 (K = 5000, the first 10 test images; 1600 steps in 95 s on two shared cores); ws-mnist 177.7 on the same images with the same nets and steps; independent pixels 191.6' },
        { metric: 'wake.negIwae', op: '<=', bound: 145, why: 'the K = 5 training bound on 1000 test images, measured 135.4 (effective sample size 1.21 of 5)' },
      ],
    },
  ],
});
