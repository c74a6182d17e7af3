/** A small node registry for the document tests: three types with zod params and defaults. */
import { z } from 'zod';
import { createNodeTypeLookup, type NodeTypeInfo } from '../lookup';

const tensor = { type: { kind: 'Tensor' } };

export const toyData = {
  type: 'toy.data',
  version: 1,
  params: z.object({
    dataset: z.enum(['swissroll', 'moons', 'rings']).default('swissroll'),
    n: z.number().int().positive().default(4096),
  }),
  inputs: {},
  outputs: { x: tensor },
} satisfies NodeTypeInfo & { type: string };

/**
 * Version history: v1 had `units`; v2 renamed it `hidden`; v3 renamed `act` to
 * `activation` and made it an enum.
 */
export const toyDense = {
  type: 'toy.dense',
  version: 3,
  params: z.object({
    hidden: z.number().int().positive().default(64),
    activation: z.enum(['relu', 'tanh', 'silu']).default('relu'),
    layers: z.array(z.number().int().positive()).default([64, 64]),
  }),
  migrate(params: Record<string, unknown>, fromVersion: number): Record<string, unknown> {
    if (fromVersion === 1) {
      const { units, ...rest } = params;
      return units === undefined ? rest : { ...rest, hidden: units };
    }
    if (fromVersion === 2) {
      const { act, ...rest } = params;
      if (act === 'sigmoid') throw new Error('activation "sigmoid" is no longer supported');
      return act === undefined ? rest : { ...rest, activation: act };
    }
    throw new Error(`no migration from version ${fromVersion}`);
  },
  inputs: { x: tensor },
  outputs: { out: tensor },
} satisfies NodeTypeInfo & { type: string };

export const lossMse = {
  type: 'loss.mse',
  version: 2,
  params: z.object({ weight: z.number().nonnegative().default(1) }),
  // no migrate: version-1 params cannot be upgraded
  inputs: { pred: tensor, target: tensor },
  outputs: { loss: { type: { kind: 'Loss' } } },
} satisfies NodeTypeInfo & { type: string };

export const fakeRegistry = createNodeTypeLookup([toyData, toyDense, lossMse]);

/** A valid current-version document (as text-to-be) wiring the three types. */
export function validDocJson(): Record<string, unknown> {
  return {
    format: 'genloom',
    version: 1,
    meta: { title: 'Tiny regression', dataset: 'swissroll' },
    nodes: [
      { id: 'data', type: 'toy.data', version: 1, params: { dataset: 'moons' }, ui: { x: 0, y: 0 } },
      { id: 'net', type: 'toy.dense', version: 3, params: { hidden: 32 }, ui: { x: 200, y: 0, collapsed: true } },
      { id: 'loss', type: 'loss.mse', version: 2, params: {} },
    ],
    edges: [
      { from: ['data', 'x'], to: ['net', 'x'] },
      { from: ['net', 'out'], to: ['loss', 'pred'] },
      { from: ['data', 'x'], to: ['loss', 'target'] },
    ],
  };
}
