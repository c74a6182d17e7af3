import { defineFamily } from '../core/defineFamily';
import { cfmLoss } from './cfmLoss';
import { cnfDensity } from './cnfDensity';
import { linearPath } from './linearPath';
import { odeSampler } from './odeSampler';
import { vpPath } from './vpPath';

/** flow matching and continuous normalising flows (Lipman et al. 2023) */
export const flowmatching = defineFamily({
  id: 'flowmatching',
  label: 'Flow matching',
  colour: '#b58cf2',
  description: 'A velocity network regresses the time derivative of paths from noise to data; an ODE carries noise to data, with an exact likelihood.',
  nodes: [linearPath, vpPath, cfmLoss, odeSampler, cnfDensity],
  templates: [
    {
      name: 'fm-8gaussians',
      bars: [
        { metric: 'euler.energy', op: '<=', bound: 0.01, why: '100 Euler steps; 8gaussians floor 0.0037, one Gaussian fit 0.094' },
        { metric: 'heun.energy', op: '<=', bound: 0.01, why: '20 Heun steps (40 calls); 8gaussians floor 0.0037' },
      ],
    },
    {
      name: 'fm-moons',
      bars: [
        { metric: 'euler.energy', op: '<=', bound: 0.01, why: '100 Euler steps; moons floor 0.0024' },
        { metric: 'heun.energy', op: '<=', bound: 0.01, why: '20 Heun steps (40 calls); moons floor 0.0024' },
        { metric: 'cnf.nll', op: '<=', bound: 2.55, why: 'held-out NLL by the ODE; true entropy of moons 2.395 nats' },
      ],
    },
  ],
});
