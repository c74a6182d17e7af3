/**
 * GraphDocument -> ValidatedGraph: node types, params, ports, edge types, cycles, shapes,
 * objectives. Never throws on a bad graph; every problem is a Diagnostic naming its node
 * and port. The compiler only accepts graphs with no error diagnostics.
 */
import { InferError, type AnyNodeSpec, type ExternalNode, type ExternalRef } from '../../nodes/core/defineNode';
import { canConnect, describePortType, type PortShape } from '../../nodes/core/ports';
import type { NodeRegistry } from '../../nodes/index';
import { unknownParamHint, unknownParamKeys, unknownParamsOf, type UnknownParam } from './unknownParams';
import { diag, type Diagnostic } from './diagnostics';

/** the part of a graph document validation reads (`ui` and `meta` are ignored) */
export interface GraphLike {
  nodes: readonly { id: string; type: string; params?: unknown }[];
  edges: readonly { from: readonly [string, string]; to: readonly [string, string] }[];
}

export interface PortRef {
  node: string;
  port: string;
}

export interface GraphNode {
  id: string;
  type: string;
  spec: AnyNodeSpec;
  params: any;
  /** driver of each connected input port */
  inputs: Record<string, PortRef>;
  inShapes: Record<string, PortShape | undefined>;
  outShapes: Record<string, PortShape>;
  /** the node of another graph this node stands for (NodeSpec.external) */
  external?: ExternalNode;
}

export interface ObjectiveInfo {
  nodeId: string;
  trains: string[];
}

export interface ValidatedGraph {
  ok: boolean;
  diagnostics: Diagnostic[];
  /** nodes that passed every check, in topological order */
  order: string[];
  nodes: Map<string, GraphNode>;
  objectives: ObjectiveInfo[];
  samplers: string[];
}

const fmtZodPath = (path: readonly PropertyKey[]) =>
  path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('');

export interface ValidateOptions {
  /**
   * the document came from parseDocument: its params are already parsed (defaults filled
   * in, migrated), so they are trusted instead of parsed a second time
   */
  parsed?: boolean;
  /**
   * reads the node of another graph that a node with NodeSpec.external names
   * (src-main/graph/externals.ts); a string says why it cannot be read. Without it such
   * nodes are reported as unresolved.
   */
  resolveExternal?: (ref: ExternalRef, nodeId: string) => ExternalNode | string;
}

const unknownParamDiag = (nodeId: string, u: UnknownParam) =>
  diag('unknown-param', `no param "${u.path}"; it is ignored and the default is used (${unknownParamHint(u)})`, nodeId, u.path);

export function validateGraph(doc: GraphLike, registry: NodeRegistry, opts: ValidateOptions = {}): ValidatedGraph {
  const diagnostics: Diagnostic[] = [];
  const known = new Map<string, { spec: AnyNodeSpec; params: any; type: string }>();
  const broken = new Set<string>();

  // 1. node types and params
  for (const n of doc.nodes) {
    const spec = registry.get(n.type);
    if (!spec) {
      diagnostics.push(diag('unknown-type', `unknown node type "${n.type}"`, n.id));
      broken.add(n.id);
      continue;
    }
    if (opts.parsed) {
      // the keys parsing dropped, recorded by parseDocument
      for (const u of unknownParamsOf(n)) diagnostics.push(unknownParamDiag(n.id, u));
      known.set(n.id, { spec, params: n.params ?? {}, type: n.type });
      continue;
    }
    const parsed = spec.params.safeParse(n.params ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = fmtZodPath(issue.path);
        diagnostics.push(diag('bad-params', `${path ? `param ${path}: ` : ''}${issue.message}`, n.id, path || undefined));
      }
      broken.add(n.id);
      known.set(n.id, { spec, params: undefined, type: n.type });
      continue;
    }
    for (const u of unknownParamKeys(spec.params, n.params ?? {})) diagnostics.push(unknownParamDiag(n.id, u));
    known.set(n.id, { spec, params: parsed.data, type: n.type });
  }

  // 2. edges: endpoints, direction, port types, one driver per input
  const drivers = new Map<string, Record<string, PortRef>>();
  const succ = new Map<string, string[]>(); // one entry per edge
  for (const e of doc.edges) {
    const [fn, fp] = e.from;
    const [tn, tp] = e.to;
    const a = known.get(fn);
    const b = known.get(tn);
    if (!doc.nodes.some((n) => n.id === fn)) {
      diagnostics.push(diag('dangling-edge', `an edge comes from "${fn}", which is not in the graph`, tn, tp));
      continue;
    }
    if (!doc.nodes.some((n) => n.id === tn)) {
      diagnostics.push(diag('dangling-edge', `an edge goes to "${tn}", which is not in the graph`, fn, fp));
      continue;
    }
    if (!a || !b) continue; // unknown type already reported
    const outDecl = a.spec.outputs[fp];
    const inDecl = b.spec.inputs[tp];
    if (!outDecl) {
      const wrong = a.spec.inputs[fp] ? ` ("${fp}" is an input)` : '';
      diagnostics.push(
        diag(a.spec.inputs[fp] ? 'wrong-direction' : 'unknown-port', `${a.spec.title} has no output "${fp}"${wrong}; its outputs are ${Object.keys(a.spec.outputs).join(', ') || 'none'}`, fn, fp),
      );
      continue;
    }
    if (!inDecl) {
      const wrong = b.spec.outputs[tp] ? ` ("${tp}" is an output)` : '';
      diagnostics.push(
        diag(b.spec.outputs[tp] ? 'wrong-direction' : 'unknown-port', `${b.spec.title} has no input "${tp}"${wrong}; its inputs are ${Object.keys(b.spec.inputs).join(', ') || 'none'}`, tn, tp),
      );
      continue;
    }
    const ok = canConnect(outDecl.type, inDecl.type);
    if (!ok.ok) {
      diagnostics.push(diag('port-type-mismatch', `${fn}.${fp} (${describePortType(outDecl.type)}) cannot drive ${tn}.${tp} (${describePortType(inDecl.type)}): ${ok.reason}`, tn, tp));
      continue;
    }
    const ins = drivers.get(tn) ?? {};
    if (ins[tp]) {
      diagnostics.push(diag('multiple-drivers', `input "${tp}" is driven by both ${ins[tp]!.node}.${ins[tp]!.port} and ${fn}.${fp}; an input takes one edge`, tn, tp));
      continue;
    }
    ins[tp] = { node: fn, port: fp };
    drivers.set(tn, ins);
    if (!succ.has(fn)) succ.set(fn, []);
    succ.get(fn)!.push(tn);
  }

  // 3. cycles (Kahn's algorithm); nodes left over sit on or behind a cycle
  const indeg = new Map<string, number>();
  for (const n of doc.nodes) indeg.set(n.id, 0);
  for (const [tn, ins] of drivers) indeg.set(tn, Object.keys(ins).length);
  const order: string[] = [];
  const queue = doc.nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
  while (queue.length) {
    const id = queue.shift()!;
    order.push(id);
    for (const s of succ.get(id) ?? []) {
      const d = indeg.get(s)! - 1;
      indeg.set(s, d);
      if (d === 0) queue.push(s);
    }
  }
  if (order.length < doc.nodes.length) {
    const placed = new Set(order);
    const stuck = doc.nodes.map((n) => n.id).filter((id) => !placed.has(id));
    const reaches = (from: string, target: string): boolean => {
      const seen = new Set<string>();
      const stack = [...(succ.get(from) ?? [])];
      while (stack.length) {
        const cur = stack.pop()!;
        if (cur === target) return true;
        if (seen.has(cur) || placed.has(cur)) continue;
        seen.add(cur);
        stack.push(...(succ.get(cur) ?? []));
      }
      return false;
    };
    const onCycle = stuck.filter((id) => reaches(id, id));
    for (const id of stuck) {
      // nodes downstream of a cycle cannot be checked either, but only the cycle is reported
      if (onCycle.includes(id)) diagnostics.push(diag('cycle', `this node is part of a cycle (${onCycle.join(' -> ')}); generative graphs must be acyclic`, id));
      broken.add(id);
    }
  }

  // 4. shapes, in topological order
  const nodes = new Map<string, GraphNode>();
  for (const id of order) {
    const k = known.get(id);
    if (!k || broken.has(id)) continue;
    const ins = drivers.get(id) ?? {};
    const inShapes: Record<string, PortShape | undefined> = {};
    let upstreamBroken = false;
    let missing = false;
    for (const [port, decl] of Object.entries(k.spec.inputs)) {
      const d = ins[port];
      if (!d) {
        if (!decl.optional) {
          diagnostics.push(
            diag(k.spec.role === 'sampler' ? 'sampler-cannot-run' : 'missing-input', `required input "${port}" (${describePortType(decl.type)}) is not connected`, id, port),
          );
          missing = true;
        }
        continue;
      }
      const up = nodes.get(d.node);
      if (!up) {
        upstreamBroken = true;
        continue;
      }
      inShapes[port] = up.outShapes[d.port];
    }
    if (missing || upstreamBroken) {
      broken.add(id);
      continue;
    }
    let external: ExternalNode | undefined;
    if (k.spec.external) {
      const r = opts.resolveExternal ? opts.resolveExternal(k.spec.external(k.params), id) : 'other graphs are not read here';
      if (typeof r === 'string') {
        diagnostics.push(diag('bad-external', r, id, 'graph'));
        broken.add(id);
        continue;
      }
      external = r;
    }
    try {
      const outShapes = k.spec.infer(inShapes as never, k.params, external) as Record<string, PortShape>;
      nodes.set(id, { id, type: k.type, spec: k.spec, params: k.params, inputs: ins, inShapes, outShapes, ...(external && { external }) });
    } catch (err) {
      if (!(err instanceof InferError)) throw err;
      const code = k.spec.role === 'sampler' ? 'sampler-cannot-run' : err.code === 'shape-mismatch' ? 'shape-mismatch' : 'invalid-input';
      diagnostics.push(diag(code, err.message, id, err.port));
      broken.add(id);
    }
  }

  // 5. objectives and the networks they train
  const isNetwork = (id: string) => known.get(id)?.spec.role === 'network';
  const ancestors = (id: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length) {
      const cur = stack.pop()!;
      for (const d of Object.values(drivers.get(cur) ?? {})) {
        if (!seen.has(d.node)) {
          seen.add(d.node);
          stack.push(d.node);
        }
      }
    }
    return seen;
  };
  const objectives: ObjectiveInfo[] = [];
  const trained = new Set<string>();
  for (const n of doc.nodes) {
    const k = known.get(n.id);
    if (!k || k.spec.role !== 'objective' || !k.params) continue;
    const explicit: string[] = k.params.trains ?? [];
    let trains: string[];
    if (explicit.length) {
      trains = [];
      for (const t of explicit) {
        if (!known.has(t)) diagnostics.push(diag('unknown-network', `trains "${t}", which is not in the graph`, n.id, 'trains'));
        else if (!isNetwork(t)) diagnostics.push(diag('unknown-network', `trains "${t}", which has no trainable parameters`, n.id, 'trains'));
        else trains.push(t);
      }
    } else {
      // the node's declared default: e.g. a critic loss trains only the critics upstream
      const d = k.spec.defaultTrains;
      trains = [...ancestors(n.id)].filter(isNetwork).filter((t) => {
        const c = known.get(t)!.spec.category;
        return (!d?.only || d.only.includes(c)) && !d?.except?.includes(c);
      });
    }
    if (!trains.length) {
      diagnostics.push(diag('objective-trains-nothing', 'this objective trains no network: connect a network upstream of it or name one in "trains"', n.id));
    }
    trains.forEach((t) => trained.add(t));
    objectives.push({ nodeId: n.id, trains });
  }
  for (const n of doc.nodes) {
    if (isNetwork(n.id) && !trained.has(n.id)) {
      diagnostics.push(diag('network-untrained', 'no objective trains this network; its weights stay at their initial values', n.id));
    }
  }
  if (!objectives.length && doc.nodes.length) diagnostics.push(diag('no-objective', 'the graph has no loss node, so there is nothing to train'));
  const samplers = order.filter((id) => known.get(id)?.spec.role === 'sampler');
  if (objectives.length && !samplers.length) diagnostics.push(diag('no-sampler', 'the graph has no sampler node, so a trained model cannot generate samples'));

  const order2 = order.filter((id) => nodes.has(id));
  return {
    ok: !diagnostics.some((d) => d.severity === 'error'),
    diagnostics,
    order: order2,
    nodes,
    objectives,
    samplers: samplers.filter((id) => nodes.has(id)),
  };
}
