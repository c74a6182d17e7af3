/**
 * Runs one node type in isolation on TfjsOps: inputs are made from shapes (a fixture per
 * node type), parameters come from a ParamStore. Shared by the conformance suite and by
 * closed-form tests.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyNodeSpec, NodeCtx } from '../nodes/core/defineNode';
import { standardNormal } from '../nodes/core/dists';
import type { PortShape } from '../nodes/core/ports';
import type { BijectorValue, FnValue, Value } from '../nodes/core/values';
import { linearSchedule } from '../nodes/diffusion/schedules';
import { ParamStore } from '../src-main/runtime/ParamStore';
import { TfjsOps } from '../src-main/runtime/TfjsOps';

export const B = 4;

/** a runtime value for an input port of a given shape */
export function valueFor(ops: TfjsOps, s: PortShape, owner = 'fixture'): Value<tf.Tensor> {
  switch (s.kind) {
    case 'Tensor':
      return s.shape.length === 0 ? tf.tensor1d([0, 3, 5, 9]) : ops.randomNormal([B, ...s.shape]);
    case 'Dist':
      return standardNormal(ops, s.event);
    case 'Fn': {
      const w = ops.randomNormal([s.in.reduce((a, b) => a * b, 1), s.out.reduce((a, b) => a * b, 1)]);
      const fn: FnValue<tf.Tensor> = { kind: 'Fn', owner, in: s.in, out: s.out, timeConditioned: s.timeConditioned, ...(s.time && { time: s.time }), call: (x) => ops.tanh(ops.matmul(x, w)) };
      return fn;
    }
    case 'Bijector': {
      const bij: BijectorValue<tf.Tensor> = {
        kind: 'Bijector',
        event: s.event,
        layers: [owner],
        forward: (x) => ({ y: ops.mul(x, ops.scalar(2)), logDet: ops.add(ops.mul(ops.sum(x, [1]), ops.scalar(0)), ops.scalar(s.event[0]! * Math.log(2))) }),
        inverse: (y) => ({ x: ops.mul(y, ops.scalar(0.5)), logDet: ops.add(ops.mul(ops.sum(y, [1]), ops.scalar(0)), ops.scalar(-s.event[0]! * Math.log(2))) }),
      };
      return bij;
    }
    case 'Schedule':
      return linearSchedule(s.T, 1e-4, 0.02);
    case 'Loss':
      throw new Error('no node takes a Loss input');
  }
}

export interface NodeRun {
  outputs: Record<string, Value<tf.Tensor>>;
  outShapes: Record<string, PortShape>;
  store: ParamStore;
}

export function runNode(spec: AnyNodeSpec, inShapes: Record<string, PortShape>, params: unknown, ops: TfjsOps, id = 'n'): NodeRun {
  const p = spec.params.parse(params ?? {});
  const external = spec.fixture.external?.();
  const outShapes = spec.infer(inShapes as never, p, external) as Record<string, PortShape>;
  const store = new ParamStore(1);
  const inputs: Record<string, Value<tf.Tensor>> = {};
  for (const [port, s] of Object.entries(inShapes)) {
    const make = spec.fixture.values?.[port];
    inputs[port] = make ? (make(ops, (name, shape) => store.get(`fixture/${port}/${name}`, shape, { kind: 'normal', std: 0.5 })) as Value<tf.Tensor>) : valueFor(ops, s);
  }
  const ctx: NodeCtx<tf.Tensor> = {
    ops,
    nodeId: id,
    param: (name, shape, init) => store.get(`${id}/${name}`, shape, init),
    batchSize: B,
    mode: 'train',
    feed: () => ops.randomNormal([B, (outShapes.x as { shape: number[] }).shape[0]!]),
    ...(external && { external }),
  };
  const statics: Record<string, unknown> = {};
  for (const [port, v] of Object.entries(inputs)) if ((v as { kind?: string }).kind === 'Schedule') statics[port] = v;
  const built = spec.build?.(ctx, p, inShapes as never, statics as never);
  const outputs = spec.apply(ctx, { inputs: inputs as never, params: p, shapes: inShapes as never, built }) as Record<string, Value<tf.Tensor>>;
  return { outputs, outShapes, store };
}
