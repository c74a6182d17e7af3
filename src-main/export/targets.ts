/**
 * What can be exported from a compiled graph, and how each target is computed.
 *
 * | kind      | from                                              | inputs              | outputs        |
 * |-----------|---------------------------------------------------|---------------------|----------------|
 * | generator | the Fn of a decoder/generator node (z -> x), or    | z [N, d]            | x [N, ...]     |
 * |           | the flow of an exact-likelihood model (x = f(z))   |                     |                |
 * | encoder   | the posterior Dist of an encoder node              | x [N, ...]          | its parameters |
 * |           |                                                    |                     | (mu, logStd)   |
 * | density   | a Dist trained by maximum likelihood (loss.nll)    | x [N, d]            | logp [N]       |
 * | denoiser  | a time-conditioned Fn (eps_theta(x_t, t))          | x_t [N, d], t [N]   | eps [N, d]     |
 * | energy    | a scalar Fn E(x) of an energy-based model          | x [N, d]            | energy [N],    |
 * |           | (the score -grad_x E recorded as ONNX nodes)       |                     | score [N, d]   |
 * | sampler   | a sampler node: the whole sampler, loops included  | n (internal noise)  | samples [N, d] |
 *
 * Each target is a Recipe run through the graph's own Runner, so the ONNX model computes
 * exactly what the trained graph computes.
 */
import type { AnyNodeSpec } from '../../nodes/core/defineNode';
import { InferError, TARGET_KINDS, type TargetKind } from '../../nodes/core/defineNode';
import type { PortShape } from '../../nodes/core/ports';
import type { BijectorValue, DistValue, FnValue, Value } from '../../nodes/core/values';
import type { Program } from '../compile/compile';
import { Runner } from '../compile/execute';
import type { GraphNode, PortRef, ValidatedGraph } from '../graph/validate';
import { ExportError } from './errors';
import type { IoSpec, Recipe, RunCtx } from './harness';
import { BATCH, OnnxOps } from './OnnxOps';

export { TARGET_KINDS, type TargetKind };

/** the words the CLI accepts for each kind */
export const TARGET_ALIASES: Record<string, TargetKind> = {
  generator: 'generator',
  decoder: 'generator',
  encoder: 'encoder',
  density: 'density',
  denoiser: 'denoiser',
  energy: 'energy',
  score: 'energy',
  sampler: 'sampler',
};

export interface ExportTarget {
  /** `${kind}:${nodeId}`, e.g. `sampler:ddim` */
  id: string;
  kind: TargetKind;
  /** the node the target is named after */
  nodeId: string;
  /** the port whose value is exported */
  ref: PortRef;
  /** how the value is used: call an Fn, run a Bijector forward, read a Dist... */
  via: 'fn' | 'bijector' | 'posterior' | 'logProb' | 'samples';
  title: string;
  /** whether the model draws random numbers (noise modes matter) */
  stochastic: boolean;
}

const dims = (d: readonly number[]) => `[N${d.map((x) => `, ${x}`).join('')}]`;

function drives(g: ValidatedGraph, ref: PortRef, pred: (n: GraphNode, port: string) => boolean): GraphNode[] {
  const out: GraphNode[] = [];
  for (const n of g.nodes.values()) {
    for (const [port, r] of Object.entries(n.inputs)) if (r.node === ref.node && r.port === ref.port && pred(n, port)) out.push(n);
  }
  return out;
}

/** every target the compiled graph offers, generators first, samplers last */
export function listTargets(program: Program): ExportTarget[] {
  const g = program.graph;
  const out: ExportTarget[] = [];
  const add = (t: ExportTarget) => {
    if (!out.some((o) => o.id === t.id)) out.push(t);
  };
  for (const id of g.order) {
    const n = g.nodes.get(id)!;
    for (const decl of n.spec.exports ?? []) {
      // `port`: one of this node's outputs; `input`: the value driving one of its inputs
      const ref = decl.port !== undefined ? { node: id, port: decl.port } : n.inputs[decl.input!];
      if (!ref) continue;
      const owner = g.nodes.get(ref.node)!;
      const s = owner.outShapes[ref.port];
      const name = `${owner.spec.title} "${owner.id}"`;
      if (decl.kind === 'generator' && s?.kind === 'Fn' && !s.timeConditioned) {
        add({ id: `generator:${id}`, kind: 'generator', nodeId: id, ref, via: 'fn', stochastic: false, title: `${name}: z ${dims(s.in)} -> x ${dims(s.out)}` });
      } else if (decl.kind === 'generator' && s?.kind === 'Bijector') {
        add({ id: `generator:${id}`, kind: 'generator', nodeId: id, ref, via: 'bijector', stochastic: false, title: `the flow of "${id}" forward: z ${dims(s.event)} -> x = f(z)` });
      } else if (decl.kind === 'denoiser' && s?.kind === 'Fn' && s.timeConditioned) {
        add({ id: `denoiser:${id}`, kind: 'denoiser', nodeId: id, ref, via: 'fn', stochastic: false, title: `${name} as a function: (x_t ${dims(s.in)}, t [N]) -> ${dims(s.out)}` });
      } else if (decl.kind === 'energy' && s?.kind === 'Fn' && !s.timeConditioned && s.out.length === 1 && s.out[0] === 1) {
        add({ id: `energy:${id}`, kind: 'energy', nodeId: id, ref, via: 'fn', stochastic: false, title: `${name}: x ${dims(s.in)} -> E(x) [N] and the score -grad_x E(x) ${dims(s.in)}` });
      } else if (decl.kind === 'encoder' && s?.kind === 'Dist') {
        add({ id: `encoder:${id}`, kind: 'encoder', nodeId: id, ref, via: 'posterior', stochastic: false, title: `${name}: x -> parameters of q(z|x) over ${dims(s.event)}` });
      } else if (decl.kind === 'density' && s?.kind === 'Dist') {
        add({ id: `density:${owner.id}`, kind: 'density', nodeId: owner.id, ref, via: 'logProb', stochastic: false, title: `${name}: x ${dims(s.event)} -> log p(x) [N]` });
      }
    }
  }
  for (const s of program.samplers) {
    const n = g.nodes.get(s.nodeId)!;
    add({ id: `sampler:${s.nodeId}`, kind: 'sampler', nodeId: s.nodeId, ref: { node: s.nodeId, port: 'samples' }, via: 'samples', stochastic: true, title: `${n.spec.title} "${s.nodeId}": the whole sampler -> samples ${dims(s.shape)}` });
  }
  const order = (k: TargetKind) => TARGET_KINDS.indexOf(k);
  return out.sort((a, b) => order(a.kind) - order(b.kind));
}

/**
 * Finds a target from what a user typed: a kind (`sampler`, `decoder`), or kind:node
 * (`sampler:ddim`), or a target id. Errors say what the model offers.
 */
export function resolveTarget(program: Program, want: string | ExportTarget): ExportTarget {
  const all = listTargets(program);
  const offer = () => (all.length ? `this model offers: ${all.map((t) => t.id).join(', ')}` : 'it offers none');
  if (!all.length) {
    throw new ExportError('no-target', 'this graph has nothing to export: it has no generator or decoder, encoder, density model (trained by maximum likelihood), time-conditioned network or sampler');
  }
  if (typeof want !== 'string') {
    const t = all.find((x) => x.id === want.id);
    if (!t) throw new ExportError('target-not-available', `this model has no target "${want.id}"; ${offer()}`, want.nodeId);
    return t;
  }
  const [word, node] = want.includes(':') ? [want.slice(0, want.indexOf(':')), want.slice(want.indexOf(':') + 1)] : [want, undefined];
  const kind = TARGET_ALIASES[word!];
  if (!kind) throw new ExportError('unknown-target', `unknown export target "${want}": choose one of ${Object.keys(TARGET_ALIASES).join(', ')} (optionally kind:node, e.g. sampler:ddim)`);
  const ofKind = all.filter((t) => t.kind === kind);
  if (!ofKind.length) {
    const why: Record<TargetKind, string> = {
      generator: 'it has no decoder or generator network',
      encoder: 'it has no encoder',
      density: 'only flows and other models trained by exact maximum likelihood (a loss.nll objective) have a density',
      denoiser: 'it has no time-conditioned network',
      energy: 'it has no energy network',
      sampler: 'it has no sampler node',
    };
    throw new ExportError('target-not-available', `this model has no ${word} target: ${why[kind]}; ${offer()}`);
  }
  if (node === undefined) return ofKind[0]!;
  const t = ofKind.find((x) => x.nodeId === node);
  if (!t) throw new ExportError('target-not-available', `there is no ${kind} target on node "${node}"; ${offer()}`, node);
  return t;
}

// ------------------------------------------------------------------ graph transforms

function describer(g: ValidatedGraph) {
  return (id: string) => {
    const n = g.nodes.get(id);
    return n ? { family: n.spec.category, type: n.type } : undefined;
  };
}

const VALUE_KINDS = new Set(['Fn', 'Dist', 'Bijector']);
function isValueObject(v: unknown): v is Record<string, unknown> & { kind: string } {
  return typeof v === 'object' && v !== null && VALUE_KINDS.has((v as { kind?: unknown }).kind as string);
}

/** a recording interpreter that attributes what it records to a node (OnnxOps, TorchOps) */
export interface NodeRecorder {
  withNode<R>(nodeId: string, fn: () => R): R;
}

/** a copy of an Fn/Dist/Bijector whose methods record under `nodeId` */
function attribute(ops: NodeRecorder, nodeId: string, v: unknown): unknown {
  if (!isValueObject(v)) return v;
  const copy: Record<string, unknown> = { ...v };
  for (const [k, f] of Object.entries(v)) {
    if (typeof f === 'function') copy[k] = (...args: unknown[]) => ops.withNode(nodeId, () => (f as (...a: unknown[]) => unknown).apply(copy, args));
  }
  return copy;
}

function attributeRecord(ops: NodeRecorder, nodeId: string, r: unknown): unknown {
  if (typeof r !== 'object' || r === null || Array.isArray(r) || isValueObject(r)) return attribute(ops, nodeId, r);
  if (Object.getPrototypeOf(r) !== Object.prototype) return r;
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, attribute(ops, nodeId, v)]));
}

/**
 * The graph with every node's build and apply (and the Fn/Dist/Bijector values they
 * return) recording under the node's id: ONNX node names carry it, and an op without an
 * ONNX form becomes ExportError('no-onnx-form') naming the node. A node whose build fails
 * only fails the export if the target uses it.
 */
export function instrumentGraph(g: ValidatedGraph, ops: NodeRecorder): ValidatedGraph {
  const nodes = new Map<string, GraphNode>();
  for (const [id, n] of g.nodes) {
    const spec = n.spec;
    const wrapped: AnyNodeSpec = {
      ...spec,
      build: spec.build
        ? (ctx, p, shapes, statics) => {
            try {
              return ops.withNode(id, () => attributeRecord(ops, id, spec.build!(ctx, p, shapes, statics)));
            } catch (e) {
              return new Proxy(
                {},
                {
                  get() {
                    throw e;
                  },
                },
              );
            }
          }
        : undefined,
      apply: (ctx, args) => ops.withNode(id, () => attributeRecord(ops, id, spec.apply(ctx, args)) as never),
    };
    nodes.set(id, { ...n, spec: wrapped });
  }
  return { ...g, nodes };
}

/** the graph with `nodeId`'s params patched (e.g. a sampler's steps), re-inferred */
export function withParams(g: ValidatedGraph, nodeId: string, patch: Record<string, unknown>): ValidatedGraph {
  const n = g.nodes.get(nodeId)!;
  const parsed = n.spec.params.safeParse({ ...n.params, ...patch });
  if (!parsed.success) {
    throw new ExportError('bad-option', `node "${nodeId}" (${n.type}): ${parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`, nodeId);
  }
  let outShapes: Record<string, PortShape>;
  try {
    outShapes = n.spec.infer(n.inShapes as never, parsed.data) as Record<string, PortShape>;
  } catch (e) {
    if (e instanceof InferError) throw new ExportError('bad-option', `node "${nodeId}" (${n.type}): ${e.message}`, nodeId);
    throw e;
  }
  const nodes = new Map(g.nodes);
  nodes.set(nodeId, { ...n, params: parsed.data, outShapes });
  return { ...g, nodes };
}

/**
 * The graph with some of `nodeId`'s inputs driven by values the caller gives at run time
 * (the holder is read when the node applies).
 */
function bindInputs(g: ValidatedGraph, nodeId: string, holder: { values: Record<string, unknown> }): ValidatedGraph {
  const n = g.nodes.get(nodeId)!;
  const nodes = new Map(g.nodes);
  const inputs = { ...n.inputs };
  for (const port of Object.keys(holder.values)) {
    const id = `__input_${port}`;
    const spec = {
      type: '__input',
      version: 1,
      title: `input ${port}`,
      category: 'data',
      role: 'none',
      inputs: {},
      outputs: { value: { type: { kind: 'Tensor' } } },
      params: n.spec.params,
      math: { latex: '', explain: '' },
      infer: () => ({ value: n.inShapes[port]! }),
      apply: () => ({ value: holder.values[port] }),
    } as unknown as AnyNodeSpec;
    nodes.set(id, { id, type: '__input', spec, params: {}, inputs: {}, inShapes: {}, outShapes: { value: n.inShapes[port]! } });
    inputs[port] = { node: id, port: 'value' };
  }
  nodes.set(nodeId, { ...n, inputs });
  return { ...g, nodes };
}

function runner<T>(g: ValidatedGraph, ctx: RunCtx<T>): Runner<T> {
  const graph = ctx.ops instanceof OnnxOps ? instrumentGraph(g, ctx.ops) : g;
  return new Runner(graph, ctx.ops, { param: (name, shape) => ctx.param(name, shape) });
}

function evalOne<T>(r: Runner<T>, ref: PortRef, batch: number): Value<T> {
  return r.evaluate([ref], { batchSize: batch, mode: 'sample' })[0]!;
}

/** T of the schedule of a sampler that calls this denoiser (for the documented t range) */
function stepsOf(g: ValidatedGraph, ref: PortRef): number {
  for (const n of drives(g, ref, (m) => m.spec.role === 'sampler')) {
    const s = Object.values(n.inShapes).find((x) => x?.kind === 'Schedule');
    if (s?.kind === 'Schedule') return s.T;
  }
  return 1000;
}

export interface RecipeOptions {
  /** sampler steps (DDIM and other samplers with a `steps` param) */
  steps?: number;
}

/** the Recipe that computes a target */
export function targetRecipe(program: Program, target: ExportTarget, opts: RecipeOptions = {}): Recipe {
  let g = program.graph;
  const node = g.nodes.get(target.nodeId)!;
  if (opts.steps !== undefined) {
    if (target.kind !== 'sampler') throw new ExportError('bad-option', `--steps applies to samplers, not to a ${target.kind}`, target.nodeId);
    if (!('steps' in (node.params ?? {}))) {
      throw new ExportError('bad-option', `sampler "${target.nodeId}" (${node.type}) has no steps setting: it runs the steps its inputs define (e.g. every step of the schedule)`, target.nodeId);
    }
    g = withParams(g, target.nodeId, { steps: opts.steps });
  }
  const describeNode = describer(g);
  const base = { describeNode, title: target.title };
  const shapeOf = (ref: PortRef) => g.nodes.get(ref.node)!.outShapes[ref.port]!;

  switch (target.kind) {
    case 'generator': {
      const s = shapeOf(target.ref);
      const event = s.kind === 'Fn' ? s.in : s.kind === 'Bijector' ? s.event : [];
      const out = s.kind === 'Fn' ? s.out : event;
      const inputs: IoSpec[] = [{ name: 'z', shape: [BATCH, ...event], dtype: 'float32', doc: `latent codes z, float32 ${dims(event)} (the prior is usually N(0, I))`, fill: { kind: 'normal' } }];
      return {
        ...base,
        inputs,
        countInput: false,
        outputDocs: { x: target.via === 'bijector' ? `x = f(z), float32 ${dims(out)}` : `the network's output for z (a decoder's mean or pixel probabilities), float32 ${dims(out)}` },
        run(ctx) {
          const v = evalOne(runner(g, ctx), target.ref, ctx.batch);
          const z = ctx.inputs.z!;
          if (target.via === 'bijector') return { x: (v as BijectorValue<typeof z>).forward(z).y };
          return { x: (v as FnValue<typeof z>).call(z) };
        },
      };
    }
    case 'denoiser': {
      const s = shapeOf(target.ref) as Extract<PortShape, { kind: 'Fn' }>;
      const T = stepsOf(g, target.ref);
      return {
        ...base,
        inputs: [
          { name: 'x_t', shape: [BATCH, ...s.in], dtype: 'float32', doc: `noisy points x_t, float32 ${dims(s.in)}`, fill: { kind: 'normal' } },
          s.time === 'continuous'
            ? { name: 't', shape: [BATCH], dtype: 'float32', doc: 'the continuous time t in [0, 1] of each row, float32 [N]', fill: { kind: 'uniform' } }
            : { name: 't', shape: [BATCH], dtype: 'float32', doc: `the 0-based time step index t - 1 in [0, ${T}) of each row, float32 [N]`, fill: { kind: 'steps', T } },
        ],
        countInput: false,
        outputDocs: { eps: `the network's prediction (e.g. the noise eps_theta(x_t, t)), float32 ${dims(s.out)}` },
        run<T>(ctx: RunCtx<T>) {
          const f = evalOne(runner(g, ctx), target.ref, ctx.batch) as FnValue<T>;
          return { eps: f.call(ctx.inputs.x_t!, ctx.inputs.t) };
        },
      };
    }
    case 'encoder': {
      const ports = Object.entries(node.spec.inputs).filter(([p, d]) => d.type.kind === 'Tensor' && node.inShapes[p]?.kind === 'Tensor');
      const inputs: IoSpec[] = ports.map(([p, d]) => {
        const shape = (node.inShapes[p] as { shape: number[] }).shape;
        return { name: p, shape: [BATCH, ...shape], dtype: 'float32', doc: `${d.doc ?? p}, float32 ${dims(shape)}`, fill: { kind: 'data' } };
      });
      const s = shapeOf(target.ref) as Extract<PortShape, { kind: 'Dist' }>;
      return {
        ...base,
        inputs,
        countInput: false,
        outputDocs: { mu: `posterior mean, float32 ${dims(s.event)}`, logStd: `posterior log standard deviation, float32 ${dims(s.event)}` },
        run<T>(ctx: RunCtx<T>) {
          const holder = { values: Object.fromEntries(ports.map(([p]) => [p, ctx.inputs[p]])) };
          const r = runner(bindInputs(g, target.nodeId, holder), ctx);
          const q = evalOne(r, target.ref, ctx.batch) as DistValue<T>;
          const params = Object.entries(q.params);
          if (!params.length) throw new ExportError('target-not-available', `the posterior of "${target.nodeId}" (${q.family}) has no parameters to export`, target.nodeId);
          return Object.fromEntries(params);
        },
      };
    }
    case 'density': {
      const s = shapeOf(target.ref) as Extract<PortShape, { kind: 'Dist' }>;
      return {
        ...base,
        inputs: [{ name: 'x', shape: [BATCH, ...s.event], dtype: 'float32', doc: `data points x, float32 ${dims(s.event)}`, fill: { kind: 'data' } }],
        countInput: false,
        outputDocs: { logp: 'log p(x) in nats, float32 [N]' },
        run<T>(ctx: RunCtx<T>) {
          const d = evalOne(runner(g, ctx), target.ref, ctx.batch) as DistValue<T>;
          return { logp: d.logProb(ctx.inputs.x!) };
        },
      };
    }
    case 'energy': {
      const s = shapeOf(target.ref) as Extract<PortShape, { kind: 'Fn' }>;
      return {
        ...base,
        inputs: [{ name: 'x', shape: [BATCH, ...s.in], dtype: 'float32', doc: `points x, float32 ${dims(s.in)}`, fill: { kind: 'data' } }],
        countInput: false,
        outputDocs: {
          energy: 'the energy E_theta(x) of each row (unnormalised: p(x) is proportional to exp(-E)), float32 [N]',
          score: `the score grad_x log p(x) = -grad_x E_theta(x), float32 ${dims(s.in)}`,
        },
        run<T>(ctx: RunCtx<T>) {
          const { ops } = ctx;
          const f = evalOne(runner(g, ctx), target.ref, ctx.batch) as FnValue<T>;
          const x = ctx.inputs.x!;
          // each row's energy depends on its own row only: grad of the sum is the per-row gradient
          return { energy: ops.sum(f.call(x), [-1]), score: ops.neg(ops.grad((v: T) => f.call(v), x)) };
        },
      };
    }
    case 'sampler': {
      const s = shapeOf(target.ref) as Extract<PortShape, { kind: 'Tensor' }>;
      return {
        ...base,
        inputs: [],
        countInput: true,
        outputDocs: { samples: `generated samples, float32 ${dims(s.shape)}` },
        run<T>(ctx: RunCtx<T>) {
          return { samples: evalOne(runner(g, ctx), target.ref, ctx.batch) as T };
        },
      };
    }
  }
}
