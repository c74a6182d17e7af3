import { defineFamily } from '../core/defineFamily';
import { consistencyFunction } from './function';
import { consistencyLoss } from './loss';
import { cdPairs, ctPairs } from './pairs';
import { multistepSampler, oneStepSampler } from './samplers';

/** consistency models (Song, Dhariwal, Chen & Sutskever 2023): one-step generation by self-consistency along probability-flow trajectories */
export const consistency = defineFamily({
  id: 'consistency',
  label: 'Consistency models',
  colour: '#7bc8a4',
  description: 'A network that maps every point of a probability-flow trajectory to its clean end (f(x, eps) = x by construction), trained by self-consistency against an EMA target, from data or from a diffusion teacher; one network evaluation per sample.',
  nodes: [consistencyFunction, ctPairs, cdPairs, consistencyLoss, oneStepSampler, multistepSampler],
  templates: [
    {
      name: 'consistency-8gaussians',
      bars: [
        { metric: 'one.energy', op: '<=', bound: 0.05, why: 'one-step sampler (1 network evaluation); measured 0.0116 (8000 steps, 118 s on wasm), 8/8 modes; 8gaussians floor 0.0037, one mode dropped 0.064, a moment-matched Gaussian 0.094' },
        { metric: 'two.energy', op: '<=', bound: 0.03, why: 'two-step sampler (2 evaluations, re-noised to 0.8); measured 0.0095; 8gaussians floor 0.0037' },
      ],
    },
    {
      name: 'consistency-distill-8gaussians',
      bars: [
        { metric: 'one.energy', op: '<=', bound: 0.02, why: 'one-step sampler of the distilled student; measured 0.0056 (8000 steps, teacher and student together, 174 s on wasm), 8/8 modes; 8gaussians floor 0.0037, a moment-matched Gaussian 0.094' },
        { metric: 'two.energy', op: '<=', bound: 0.03, why: 'two-step sampler (re-noised to 0.8); measured 0.0088' },
      ],
    },
    {
      name: 'consistency-distill-ddpm-swissroll',
      bars: [
        { metric: 'one.energy', op: '<=', bound: 0.05, why: 'one-step sampler of the student distilled from ddpm-swissroll trained in its own graph (8000 steps, 68 s); measured 0.0262 (student 8000 steps, 148 s on wasm); swissroll floor 0.0018, the teacher by 1000 DDPM steps 0.0079, by 50 DDIM steps 0.065. On the swiss roll a moment-matched Gaussian gets 0.025: the energy bars do not separate it, the MMD bars do' },
        { metric: 'two.energy', op: '<=', bound: 0.03, why: 'two-step sampler (re-noised to 0.8); measured 0.0162' },
        { metric: 'one.mmd2', op: '<=', bound: 0.005, why: 'multi-scale MMD^2 of the one-step sampler; measured 0.0033; a moment-matched Gaussian 0.0097' },
        { metric: 'two.mmd2', op: '<=', bound: 0.004, why: 'two-step sampler; measured 0.0022; a moment-matched Gaussian 0.0097' },
      ],
    },
  ],
});
