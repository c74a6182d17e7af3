import { defineFamily } from '../core/defineFamily';
import { dataset } from './dataset';
import { diagonalGaussian } from './diagonalGaussian';
import { importedNetwork } from './importedNetwork';
import { mlp } from './mlp';
import { nll } from './nll';
import { oneShot } from './oneShot';
import { standardNormal } from './standardNormal';

/** the building blocks every family uses: data, priors, networks, maximum likelihood */
export const common = defineFamily({
  id: 'common',
  label: 'Building blocks',
  colour: '#4f8ff7',
  description: 'Data, priors, networks (and trained networks of other graphs), maximum likelihood and the one-shot sampler that every family builds on.',
  nodes: [dataset, standardNormal, diagonalGaussian, mlp, importedNetwork, nll, oneShot],
  templates: [],
});
