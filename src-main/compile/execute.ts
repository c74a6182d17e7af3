/**
 * Executes a compiled graph on any interpreter of Ops. One Runner per (program, ops): it
 * builds every node once (parameters, constants, static outputs such as a network's Fn),
 * then each `evaluate` computes the demanded outputs lazily, node by node, with a fresh
 * memo: a training step, a sampling call, an evaluation.
 */
import type { NodeCtx } from '../../nodes/core/defineNode';
import type { Init, Ops } from '../../nodes/core/ops';
import type { Value } from '../../nodes/core/values';
import type { GraphNode, PortRef, ValidatedGraph } from '../graph/validate';

export interface RunnerEnv<T> {
  /** creates (first call) or returns the trainable parameter `name` */
  param(name: string, shape: number[], init: Init): T;
}

export interface EvalOptions<T> {
  batchSize: number;
  mode: 'train' | 'sample';
  /** the current batch of each data node */
  feed?: (nodeId: string) => T;
}

export class Runner<T> {
  private readonly built = new Map<string, any>();

  constructor(
    readonly graph: ValidatedGraph,
    readonly ops: Ops<T>,
    private readonly env: RunnerEnv<T>,
  ) {
    for (const id of graph.order) {
      const n = graph.nodes.get(id)!;
      if (!n.spec.build) continue;
      const statics: Record<string, unknown> = {};
      for (const [port, ref] of Object.entries(n.inputs)) {
        const up = graph.nodes.get(ref.node)!;
        if (up.spec.staticOutputs?.includes(ref.port)) statics[port] = this.built.get(ref.node)?.[ref.port];
      }
      const ctx = this.ctx(n, { batchSize: 0, mode: 'sample' });
      this.built.set(id, n.spec.build(ctx, n.params, n.inShapes as never, statics as never));
    }
  }

  private ctx(n: GraphNode, o: EvalOptions<T>): NodeCtx<T> {
    const env = this.env;
    return {
      ops: this.ops,
      nodeId: n.id,
      param: (local, shape, init) => env.param(`${n.id}/${local}`, shape, init),
      batchSize: o.batchSize,
      mode: o.mode,
      feed: (id) => {
        if (!o.feed) throw new Error(`${n.id}: no data is fed when ${o.mode === 'sample' ? 'sampling' : 'evaluating'}`);
        return o.feed(id);
      },
    };
  }

  /** values of the demanded output ports, computing only what they depend on */
  evaluate(demands: readonly PortRef[], o: EvalOptions<T>): Value<T>[] {
    const memo = new Map<string, Record<string, Value<T>>>();
    const get = (ref: PortRef): Value<T> => {
      const n = this.graph.nodes.get(ref.node);
      if (!n) throw new Error(`node "${ref.node}" is not part of the validated graph`);
      if (n.spec.staticOutputs?.includes(ref.port)) return this.built.get(n.id)[ref.port];
      let outs = memo.get(n.id);
      if (!outs) {
        const inputs: Record<string, Value<T>> = {};
        for (const [port, up] of Object.entries(n.inputs)) inputs[port] = get(up);
        outs = n.spec.apply(this.ctx(n, o), {
          inputs: inputs as never,
          params: n.params,
          shapes: n.inShapes as never,
          built: this.built.get(n.id),
        }) as Record<string, Value<T>>;
        memo.set(n.id, outs);
      }
      const v = outs[ref.port];
      if (v === undefined) throw new Error(`${n.id}: output "${ref.port}" was not produced`);
      return v;
    };
    return demands.map(get);
  }
}
