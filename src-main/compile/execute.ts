/**
 * Executes a compiled graph on any interpreter of Ops. One Runner per (program, ops): it
 * builds every node once (parameters, constants, static outputs such as a network's Fn),
 * then each `evaluate` computes the demanded outputs lazily, node by node, with a fresh
 * memo: a training step, a sampling call, an evaluation.
 */
import type { NodeCtx, StateInit } from '../../nodes/core/defineNode';
import type { Init, Ops } from '../../nodes/core/ops';
import type { Value } from '../../nodes/core/values';
import type { GraphNode, PortRef, ValidatedGraph } from '../graph/validate';

export interface RunnerEnv<T> {
  /** creates (first call) or returns the trainable parameter `name` */
  param(name: string, shape: number[], init: Init): T;
  /**
   * creates (first call) or returns the current value of the node state `name`
   * (`state/${nodeId}/${local}`). Absent: the state reads as a parameter of that name
   * (export reads it from the saved weights).
   */
  state?(name: string, shape: number[], init: StateInit): T;
  /** the state's value after this step; absent (or outside a training step): ignored */
  setState?(name: string, value: T): void;
  /**
   * creates (first call) or returns the EMA shadow `name` (`ema/${nodeId}/${source}`) of
   * parameter `source`. Absent: the shadow reads as a parameter of that name.
   */
  ema?(name: string, source: string, decay: number, shape: number[], init: Init): T;
}

export interface EvalOptions<T> {
  batchSize: number;
  mode: 'train' | 'sample';
  /** the current batch of each data node */
  feed?: (nodeId: string) => T;
}

/** the outputs computed so far in one evaluation, by node id (pass one to share work between calls) */
export type Memo<T> = Map<string, Record<string, Value<T>>>;

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
      const ctx = this.ctx(n, { batchSize: 0, mode: 'sample' }, true);
      this.built.set(id, n.spec.build(ctx, n.params, n.inShapes as never, this.statics(n) as never));
    }
  }

  /** the inputs of n whose upstream outputs are static (already built) */
  private statics(n: GraphNode): Record<string, unknown> {
    const statics: Record<string, unknown> = {};
    for (const [port, ref] of Object.entries(n.inputs)) {
      const up = this.graph.nodes.get(ref.node)!;
      if (up.spec.staticOutputs?.includes(ref.port)) statics[port] = this.built.get(ref.node)?.[ref.port];
    }
    return statics;
  }

  private ctx(n: GraphNode, o: EvalOptions<T>, building = false): NodeCtx<T> {
    const env = this.env;
    const stateName = (local: string) => `state/${n.id}/${local}`;
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
      state: (local, shape, init) =>
        env.state ? env.state(stateName(local), shape, init) : env.param(stateName(local), shape, init.kind === 'uniform' ? { kind: 'zeros' } : init),
      setState: (local, value) => env.setState?.(stateName(local), value),
      ema: (input, decay) => {
        if (!building) throw new Error(`${n.id}: ctx.ema is for build (an EMA target is declared once, not per evaluation)`);
        return this.emaOf(n, input, decay);
      },
      ...(n.external && { external: n.external }),
    };
  }

  /** the static value driving n's `input`, built again by its node over EMA shadow weights */
  private emaOf(n: GraphNode, input: string, decay: number): unknown {
    const ref = n.inputs[input];
    if (!ref) throw new Error(`${n.id}: input "${input}" is not connected, so it has no EMA target`);
    const up = this.graph.nodes.get(ref.node)!;
    if (!up.spec.build || !up.spec.staticOutputs?.includes(ref.port)) {
      throw new Error(`${n.id}: the EMA target of "${input}" must be a network's static output (such as its Fn); ${up.id}.${ref.port} is computed per batch`);
    }
    if (!(decay >= 0 && decay < 1)) throw new Error(`${n.id}: EMA decay must be in [0, 1), got ${decay}`);
    const env = this.env;
    const ctx: NodeCtx<T> = {
      ...this.ctx(up, { batchSize: 0, mode: 'sample' }),
      param: (local, shape, init) => {
        const source = `${up.id}/${local}`;
        const name = `ema/${n.id}/${source}`;
        return env.ema ? env.ema(name, source, decay, shape, init) : env.param(name, shape, init);
      },
      ema: () => {
        throw new Error(`${up.id}: an EMA of an EMA is not supported`);
      },
    };
    const built = up.spec.build(ctx, up.params, up.inShapes as never, this.statics(up) as never) as Record<string, unknown>;
    return built[ref.port];
  }

  /**
   * values of the demanded output ports, computing only what they depend on; `memo`
   * (default: a fresh one) holds what is already computed and receives what is computed now
   */
  evaluate(demands: readonly PortRef[], o: EvalOptions<T>, memo: Memo<T> = new Map()): Value<T>[] {
    return demands.map((d) => this.get(d, o, memo));
  }

  /**
   * the closed-form updates (NodeSpec.update) of the given networks on their inputs of
   * this evaluation: full parameter name -> new value
   */
  updates(nodeIds: readonly string[], o: EvalOptions<T>, memo: Memo<T> = new Map()): Map<string, T> {
    const out = new Map<string, T>();
    for (const id of nodeIds) {
      const n = this.graph.nodes.get(id);
      if (!n?.spec.update) throw new Error(`${id}: this node declares no update rule`);
      const next = n.spec.update(this.ctx(n, o), {
        inputs: this.inputsOf(n, o, memo) as never,
        params: n.params,
        shapes: n.inShapes as never,
        built: this.built.get(n.id),
      });
      for (const [local, v] of Object.entries(next)) out.set(`${id}/${local}`, v);
    }
    return out;
  }

  private inputsOf(n: GraphNode, o: EvalOptions<T>, memo: Memo<T>): Record<string, Value<T>> {
    const inputs: Record<string, Value<T>> = {};
    for (const [port, up] of Object.entries(n.inputs)) inputs[port] = this.get(up, o, memo);
    return inputs;
  }

  private get(ref: PortRef, o: EvalOptions<T>, memo: Memo<T>): Value<T> {
    const n = this.graph.nodes.get(ref.node);
    if (!n) throw new Error(`node "${ref.node}" is not part of the validated graph`);
    if (n.spec.staticOutputs?.includes(ref.port)) return this.built.get(n.id)[ref.port];
    let outs = memo.get(n.id);
    if (!outs) {
      outs = n.spec.apply(this.ctx(n, o), {
        inputs: this.inputsOf(n, o, memo) as never,
        params: n.params,
        shapes: n.inShapes as never,
        built: this.built.get(n.id),
      }) as Record<string, Value<T>>;
      memo.set(n.id, outs);
    }
    const v = outs[ref.port];
    if (v === undefined) throw new Error(`${n.id}: output "${ref.port}" was not produced`);
    return v;
  }
}

/**
 * What a training step of the objective `id` evaluates before its loss, as every
 * interpreter's trainer does: the detached nodes upstream (NodeSpec.detached: Langevin
 * negatives), one per-batch output each, off the gradient tape; their outputs and the data
 * nodes' are shared with the step (`shared`); `upstream`: every node the loss depends on.
 */
export function stepInputs(graph: ValidatedGraph, id: string): { upstream: Set<string>; detached: PortRef[]; shared: Set<string>; data: string[] } {
  const upstream = new Set<string>();
  const stack = [id];
  while (stack.length) {
    for (const ref of Object.values(graph.nodes.get(stack.pop()!)!.inputs)) {
      if (!upstream.has(ref.node)) {
        upstream.add(ref.node);
        stack.push(ref.node);
      }
    }
  }
  const detachedIds = [...upstream].filter((n) => graph.nodes.get(n)!.spec.detached);
  const detached = detachedIds.map((n) => {
    const node = graph.nodes.get(n)!;
    const port = Object.keys(node.spec.outputs).find((p) => !node.spec.staticOutputs?.includes(p));
    if (!port) throw new Error(`detached node "${n}" has no per-batch output`);
    return { node: n, port };
  });
  const data = [...upstream].filter((n) => graph.nodes.get(n)!.spec.role === 'data');
  return { upstream, detached, shared: new Set([...detachedIds, ...data]), data };
}
