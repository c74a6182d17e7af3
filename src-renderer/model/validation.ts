/**
 * Client-side validation (the same pure validateGraph the host runs) for instant feedback:
 * diagnostics per node and port, inferred shapes for hover, and connection checks.
 */
import { canConnect, describePortType, formatShape, type PortShape } from '../../nodes/core/ports';
import { validateGraph, type ValidatedGraph } from '../../src-main/graph/validate';
import type { Diagnostic } from '../../src-main/graph/diagnostics';
import type { Edge, GraphDocument, NodeInstance } from '../../src-main/document/schema';
import { registry, specOf } from './registry';
import { externalResolver } from '../../src-main/graph/externals';
import type { ExternalNode, ExternalRef } from '../../nodes/core/defineNode';

export type { Diagnostic, ValidatedGraph };

interface Structure {
  nodes: readonly Pick<NodeInstance, 'id' | 'type' | 'params'>[];
  edges: readonly Edge[];
}

let last: { nodes: readonly NodeInstance[]; edges: readonly Edge[]; result: ValidatedGraph; externals: number } | undefined;

/**
 * The other documents a node may name (a distillation's teacher, network.imported): the
 * studio resolves them against the bundled templates it has loaded; a teacher in a file is
 * read by the host when the graph is compiled for training.
 */
let externals: { generation: number; resolve: (ref: ExternalRef, nodeId: string) => ExternalNode | string } = {
  generation: 0,
  resolve: () => 'the bundled templates are still loading',
};

/** the bundled templates (documents by name) that imported networks resolve against */
export function setExternalDocuments(docs: readonly { id: string; doc: GraphDocument }[]): void {
  const byName = new Map(docs.map((d) => [d.id, d.doc]));
  externals = {
    generation: externals.generation + 1,
    resolve: externalResolver(registry, (graph) => {
      const name = graph.replace(/^template:/, '');
      const doc = byName.get(name);
      if (doc) return { doc, where: `template:${name}` };
      if (/[\\/]|\.json$/i.test(graph)) return `the studio checks a teacher from the bundled templates only; "${graph}" is a file: train the graph from the command line (genloom train)`;
      return `there is no bundled template "${name}"; the templates are: ${[...byName.keys()].join(', ')}`;
    }),
  };
}

/** validation ignores `ui`, so moving nodes reuses the last result */
export function validateDoc(doc: GraphDocument): ValidatedGraph {
  if (last && last.externals === externals.generation && last.edges === doc.edges && last.nodes.length === doc.nodes.length) {
    let same = true;
    for (let i = 0; i < doc.nodes.length; i++) {
      const a = doc.nodes[i]!;
      const b = last.nodes[i]!;
      if (a !== b && (a.id !== b.id || a.type !== b.type || a.params !== b.params)) {
        same = false;
        break;
      }
    }
    if (same) {
      last = { ...last, nodes: doc.nodes };
      return last.result;
    }
  }
  const result = safeValidate(doc);
  last = { nodes: doc.nodes, edges: doc.edges, result, externals: externals.generation };
  return result;
}

/** validateGraph with the studio's resolution of other documents */
export const validateStructure = (doc: Structure): ValidatedGraph => validateGraph(doc, registry, { resolveExternal: externals.resolve });

function safeValidate(doc: Structure): ValidatedGraph {
  try {
    return validateStructure(doc);
  } catch (err) {
    return {
      ok: false,
      diagnostics: [{ code: 'invalid-input', severity: 'error', message: `validation failed: ${err instanceof Error ? err.message : String(err)}` }],
      order: [],
      nodes: new Map(),
      objectives: [],
      samplers: [],
    };
  }
}

export interface NodeCheck {
  diagnostics: Diagnostic[];
  /** diagnostics naming a port, by port */
  ports: Record<string, Diagnostic[]>;
  inShapes: Record<string, string>;
  outShapes: Record<string, string>;
  /** a stable string: equal keys mean nothing on the node's face changed */
  key: string;
}

const EMPTY: NodeCheck = { diagnostics: [], ports: {}, inShapes: {}, outShapes: {}, key: '' };

/** per-node view of a validation result */
export function nodeChecks(v: ValidatedGraph): Map<string, NodeCheck> {
  const out = new Map<string, NodeCheck>();
  const get = (id: string) => {
    let c = out.get(id);
    if (!c) out.set(id, (c = { diagnostics: [], ports: {}, inShapes: {}, outShapes: {}, key: '' }));
    return c;
  };
  for (const d of v.diagnostics) {
    if (!d.nodeId) continue;
    const c = get(d.nodeId);
    c.diagnostics.push(d);
    if (d.port) (c.ports[d.port] ??= []).push(d);
  }
  for (const [id, n] of v.nodes) {
    const c = get(id);
    for (const [p, s] of Object.entries(n.inShapes)) if (s) c.inShapes[p] = formatShape(s);
    for (const [p, s] of Object.entries(n.outShapes)) c.outShapes[p] = formatShape(s);
  }
  for (const c of out.values()) c.key = JSON.stringify([c.diagnostics.map((d) => [d.code, d.port, d.message]), c.inShapes, c.outShapes]);
  return out;
}

export const noCheck = EMPTY;

export interface ConnectionCheck {
  ok: boolean;
  reason?: string;
}

const checkCache = new Map<string, ConnectionCheck>();
let cacheDoc: GraphDocument | undefined;

/**
 * Whether output `from` may drive input `to` in `doc`: port kinds and semantics
 * (canConnect), no self-loops or cycles, and, where shapes are known, no shape mismatch.
 */
export function checkConnection(doc: GraphDocument, from: [string, string], to: [string, string]): ConnectionCheck {
  if (cacheDoc !== doc) {
    checkCache.clear();
    cacheDoc = doc;
  }
  const key = `${from.join('.')}>${to.join('.')}`;
  let r = checkCache.get(key);
  if (!r) {
    r = check(doc, from, to);
    checkCache.set(key, r);
  }
  return r;
}

function check(doc: GraphDocument, from: [string, string], to: [string, string]): ConnectionCheck {
  const a = doc.nodes.find((n) => n.id === from[0]);
  const b = doc.nodes.find((n) => n.id === to[0]);
  const sa = a && specOf(a.type);
  const sb = b && specOf(b.type);
  if (!a || !b || !sa || !sb) return { ok: false, reason: 'unknown node' };
  const out = sa.outputs[from[1]];
  const inp = sb.inputs[to[1]];
  if (!out || !inp) return { ok: false, reason: 'connect an output (right side) to an input (left side)' };
  if (a.id === b.id) return { ok: false, reason: `${b.id} cannot feed itself` };
  const c = canConnect(out.type, inp.type);
  if (!c.ok) return { ok: false, reason: `${c.reason} (${from[0]}.${from[1]} → ${to[0]}.${to[1]})` };

  // trial: the graph with this edge (replacing any driver of the input)
  const before = validateDoc(doc);
  const edges = doc.edges.filter((e) => !(e.to[0] === to[0] && e.to[1] === to[1]));
  edges.push({ from, to });
  const after = safeValidate({ nodes: doc.nodes, edges });
  const seen = new Set(before.diagnostics.map((d) => `${d.code}|${d.nodeId}|${d.port}|${d.message}`));
  const fresh = after.diagnostics.filter((d) => !seen.has(`${d.code}|${d.nodeId}|${d.port}|${d.message}`));
  const cycle = fresh.find((d) => d.code === 'cycle');
  if (cycle) return { ok: false, reason: `this edge would close a cycle; generative graphs must be acyclic` };
  const shape = fresh.find((d) => d.code === 'shape-mismatch' && d.nodeId === to[0]);
  if (shape) {
    const srcShape = before.nodes.get(from[0])?.outShapes[from[1]];
    return { ok: false, reason: `${shape.message}${srcShape ? ` (${from[0]}.${from[1]} is ${formatShape(srcShape)})` : ''}` };
  }
  return { ok: true };
}

/** "Tensor<data> [B, 2]" for a port, with the inferred shape where known */
export function describePort(doc: GraphDocument, v: ValidatedGraph, nodeId: string, port: string, side: 'in' | 'out'): string {
  const n = doc.nodes.find((x) => x.id === nodeId);
  const spec = n && specOf(n.type);
  const decl = spec && (side === 'in' ? spec.inputs[port] : spec.outputs[port]);
  if (!decl) return port;
  const g = v.nodes.get(nodeId);
  const s: PortShape | undefined = side === 'in' ? g?.inShapes[port] : g?.outShapes[port];
  return `${describePortType(decl.type)}${s ? ` ${formatShape(s)}` : ''}`;
}
