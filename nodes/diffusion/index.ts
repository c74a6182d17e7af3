import { defineFamily } from '../core/defineFamily';
import { cosineSchedule } from './cosineSchedule';
import { ddimSampler } from './ddimSampler';
import { ddpmSampler } from './ddpmSampler';
import { epsilonMse } from './epsilonMse';
import { forwardDiffusion } from './forwardDiffusion';
import { linearSchedule } from './linearSchedule';

/** denoising diffusion (Ho et al. 2020; DDIM, Song et al. 2021) */
export const diffusion = defineFamily({
  id: 'diffusion',
  label: 'Diffusion',
  colour: '#e6c84a',
  description: 'A fixed forward process noises the data over T steps; a network learns to undo one step at a time.',
  nodes: [linearSchedule, cosineSchedule, forwardDiffusion, epsilonMse, ddpmSampler, ddimSampler],
  templates: [{ name: 'ddpm-swissroll', bars: [{ metric: 'ddpm.energy', op: '<=', bound: 0.01, why: 'swissroll floor 0.0018' }] }],
});
