/**
 * Every node type, registered in one explicit list. Adding a node type = one file in
 * nodes/<family>/ and one line here. A duplicate type id throws at start-up.
 */
import type { AnyNodeSpec } from './core/defineNode';
import { dataset } from './data/dataset';
import { standardNormal } from './prior/standardNormal';
import { diagonalGaussian } from './prior/diagonalGaussian';
import { mlp } from './network/mlp';
import { gaussianEncoder } from './encoder/gaussianEncoder';
import { gaussianDecoder } from './decoder/gaussianDecoder';
import { bernoulliDecoder } from './decoder/bernoulliDecoder';
import { generator } from './decoder/generator';
import { mlpCritic } from './critic/mlpCritic';
import { affineCoupling } from './flow/affineCoupling';
import { permutation } from './flow/permutation';
import { actnorm } from './flow/actnorm';
import { transformedDist } from './flow/transformedDist';
import { linearSchedule } from './schedule/linearSchedule';
import { cosineSchedule } from './schedule/cosineSchedule';
import { forwardDiffusion } from './diffusion/forwardDiffusion';
import { elbo } from './loss/elbo';
import { ganCritic, ganGenerator } from './loss/ganLosses';
import { nll } from './loss/nll';
import { epsilonMse } from './loss/epsilonMse';
import { oneShot } from './sampler/oneShot';
import { flowSampler } from './sampler/flowSampler';
import { ddpmSampler } from './sampler/ddpmSampler';
import { ddimSampler } from './sampler/ddimSampler';

export const NODE_TYPES: readonly AnyNodeSpec[] = [
  dataset,
  standardNormal,
  diagonalGaussian,
  mlp,
  gaussianEncoder,
  gaussianDecoder,
  bernoulliDecoder,
  generator,
  mlpCritic,
  affineCoupling,
  permutation,
  actnorm,
  transformedDist,
  linearSchedule,
  cosineSchedule,
  forwardDiffusion,
  elbo,
  ganCritic,
  ganGenerator,
  nll,
  epsilonMse,
  oneShot,
  flowSampler,
  ddpmSampler,
  ddimSampler,
] as AnyNodeSpec[];

export class NodeRegistry {
  private readonly byType = new Map<string, AnyNodeSpec>();
  constructor(specs: readonly AnyNodeSpec[]) {
    for (const s of specs) {
      if (this.byType.has(s.type)) throw new Error(`duplicate node type id "${s.type}"`);
      this.byType.set(s.type, s);
    }
  }
  get(type: string): AnyNodeSpec | undefined {
    return this.byType.get(type);
  }
  types(): string[] {
    return [...this.byType.keys()];
  }
  all(): AnyNodeSpec[] {
    return [...this.byType.values()];
  }
}

export const registry = new NodeRegistry(NODE_TYPES);
export type { AnyNodeSpec } from './core/defineNode';
