import { defineFamily } from '../core/defineFamily';
import { actnorm } from './actnorm';
import { affineCoupling } from './affineCoupling';
import { flowSampler } from './flowSampler';
import { permutation } from './permutation';
import { transformedDist } from './transformedDist';

/** normalising flows with an exact likelihood (RealNVP, Dinh et al. 2017; Glow's actnorm) */
export const flow = defineFamily({
  id: 'flow',
  label: 'Normalising flow',
  colour: '#62c46a',
  description: 'Invertible layers map a simple base density to the data; the log-likelihood is exact (change of variables).',
  nodes: [affineCoupling, permutation, actnorm, transformedDist, flowSampler],
  templates: [{ name: 'realnvp-moons', bars: [{ metric: 'model.nll', op: '<=', bound: 2.55, why: 'true entropy of moons 2.395 nats' }] }],
});
