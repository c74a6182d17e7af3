/**
 * Flow layers chain: each layer takes the bijector built so far (latent side) and returns
 * the composition f_k o ... o f_1. Log-determinants add :
 *   log|det J_{f_k o ... o f_1}| = sum_k log|det J_{f_k}|
 */
import type { Ops } from '../core/ops';
import type { PortShape } from '../core/ports';
import { InferError } from '../core/defineNode';
import type { BijectorValue } from '../core/values';

export interface Layer<T> {
  forward(x: T): { y: T; logDet: T };
  inverse(y: T): { x: T; logDet: T };
}

export function compose<T>(ops: Ops<T>, prev: BijectorValue<T> | undefined, layer: Layer<T>, nodeId: string, event: number[]): BijectorValue<T> {
  if (!prev) return { kind: 'Bijector', event, layers: [nodeId], forward: layer.forward, inverse: layer.inverse };
  return {
    kind: 'Bijector',
    event,
    layers: [...prev.layers, nodeId],
    forward: (x) => {
      const a = prev.forward(x);
      const b = layer.forward(a.y);
      return { y: b.y, logDet: ops.add(a.logDet, b.logDet) };
    },
    inverse: (y) => {
      const b = layer.inverse(y);
      const a = prev.inverse(b.x);
      return { x: a.x, logDet: ops.add(a.logDet, b.logDet) };
    },
  };
}

/** the event dimension of a flow layer: from the previous layer, else its own `dim` param */
export function layerDim(prev: PortShape | undefined, dim: number): number {
  if (!prev) return dim;
  if (prev.kind !== 'Bijector') throw new InferError('prev', `input "prev" must be a Bijector`, 'bad-input');
  if (prev.event.length !== 1) throw new InferError('prev', 'flow layers act on vectors', 'bad-input');
  return prev.event[0]!;
}


export const PREV_IN = {
  prev: { type: { kind: 'Bijector' }, optional: true, doc: 'the flow so far (latent side); leave empty for the first layer' },
} as const;
/** a layer's `dim` counts only for the first layer of a chain (layerDim) */
export const DIM_UI = {
  dim: { ignoredWhenConnected: { input: 'prev', reason: 'taken from the previous layer (prev is connected); used only by the first layer of a chain' } },
} as const;

export const FLOW_OUT = { flow: { type: { kind: 'Bijector' }, doc: 'the flow including this layer' } } as const;
