/**
 * Runs one node spec on given input values (not synthesised ones, unlike nodeHarness.ts),
 * so closed-form tests can feed known tensors, Dists and Bijectors and randomise weights.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyNodeSpec, NodeCtx } from '../nodes/core/defineNode';
import type { PortShape } from '../nodes/core/ports';
import type { Value } from '../nodes/core/values';
import { ParamStore } from '../src-main/runtime/ParamStore';
import type { TfjsOps } from '../src-main/runtime/TfjsOps';

/** the port shape of a runtime value (Tensors: without the batch dimension) */
export function shapeOf(v: Value<tf.Tensor>): PortShape {
  if (v instanceof tf.Tensor) return { kind: 'Tensor', shape: v.shape.slice(1) };
  switch (v.kind) {
    case 'Dist':
      return { kind: 'Dist', event: v.event };
    case 'Bijector':
      return { kind: 'Bijector', event: v.event };
    case 'Fn':
      return { kind: 'Fn', in: v.in, out: v.out, timeConditioned: v.timeConditioned, ...(v.time && { time: v.time }) };
    case 'Schedule':
      return { kind: 'Schedule', T: v.T };
    case 'Loss':
      throw new Error('no node takes a Loss input');
  }
}

export interface Applied {
  outputs: Record<string, any>;
  built: unknown;
  store: ParamStore;
}

/**
 * build + apply of `spec` on `inputs`, parameters from `store` (a fresh seeded one by
 * default). No node state (like the conformance harness): states read as parameters.
 */
export function applyNode(
  spec: AnyNodeSpec,
  inputs: Record<string, Value<tf.Tensor>>,
  params: Record<string, unknown>,
  ops: TfjsOps,
  opts: { id?: string; batch?: number; mode?: 'train' | 'sample'; store?: ParamStore; shapes?: Record<string, PortShape> } = {},
): Applied {
  const id = opts.id ?? 'n';
  const store = opts.store ?? new ParamStore(1);
  const p = spec.params.parse(params);
  const shapes: Record<string, PortShape> = { ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, shapeOf(v)])), ...opts.shapes };
  const ctx: NodeCtx<tf.Tensor> = {
    ops,
    nodeId: id,
    param: (name, shape, init) => store.get(`${id}/${name}`, shape, init),
    batchSize: opts.batch ?? 4,
    mode: opts.mode ?? 'train',
    feed: () => {
      throw new Error('no data is fed here');
    },
  };
  spec.infer(shapes as never, p);
  const statics: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) if (!(v instanceof tf.Tensor)) statics[k] = v;
  const built = spec.build?.(ctx, p, shapes as never, statics as never);
  const outputs = spec.apply(ctx, { inputs: inputs as never, params: p, shapes: shapes as never, built }) as Record<string, any>;
  for (const k of spec.staticOutputs ?? []) if (outputs[k] === undefined) outputs[k] = (built as Record<string, unknown>)[k];
  return { outputs, built, store };
}

/** replaces every parameter of a store by N(0, std^2) draws (seeded): no identity initialisations */
export function randomiseStore(store: ParamStore, std: number, seed: number, only?: (name: string) => boolean): void {
  let k = 0;
  for (const [name, v] of store.vars) {
    if (only && !only(name)) continue;
    v.assign(tf.randomNormal(v.shape, 0, std, 'float32', seed + k++));
  }
}

export const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** max |a - b| */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export const LOG_2PI = Math.log(2 * Math.PI);

/** log N(x; mu, sigma^2), one dimension */
export function logNormal(x: number, mu: number, sigma: number): number {
  const z = (x - mu) / sigma;
  return -0.5 * z * z - Math.log(sigma) - 0.5 * LOG_2PI;
}
