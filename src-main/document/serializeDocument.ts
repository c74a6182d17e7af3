/**
 * GraphDocument -> JSON text that diffs well: 2-space indentation, keys in a fixed order
 * (format, version, meta, nodes, edges; a node is id, type, version, params, ui), one
 * edge per line, a node's `ui` on one line (moving a node changes one line), one param
 * per line, and a trailing newline. The output depends only on the document.
 */
import { CURRENT_FORMAT_VERSION, FORMAT_NAME, type GraphDocument } from './schema';

const META_ORDER = ['title', 'description', 'dataset', 'createdWith'];
const UI_ORDER = ['x', 'y', 'collapsed', 'group'];

/** `obj` with the `first` keys (when present) first, then the others in their own order. */
function ordered(obj: Record<string, unknown>, first: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of first) if (Object.hasOwn(obj, k)) out[k] = obj[k];
  for (const k of Object.keys(obj)) if (!first.includes(k)) out[k] = obj[k];
  return out;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isContainer(v: Json): v is Json[] | { [k: string]: Json } {
  return typeof v === 'object' && v !== null;
}

/** One line: `{ "x": 1, "y": 2 }`, `["a", "out"]`. */
function inline(v: Json): string {
  if (!isContainer(v)) return JSON.stringify(v);
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${v.map(inline).join(', ')}]`;
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return `{ ${keys.map((k) => `${JSON.stringify(k)}: ${inline(v[k]!)}`).join(', ')} }`;
}

const INLINE_ARRAY_MAX = 72;

function print(v: Json, indent: string, path: readonly string[]): string {
  if (!isContainer(v)) return JSON.stringify(v);
  const inner = `${indent}  `;
  const depth = path.length;
  // edges[i] and nodes[i].ui: always on one line
  if ((depth === 2 && path[0] === 'edges') || (depth === 3 && path[0] === 'nodes' && path[2] === 'ui')) {
    return inline(v);
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every((x) => !isContainer(x))) {
      const one = inline(v);
      if (one.length <= INLINE_ARRAY_MAX) return one;
    }
    return `[\n${v.map((x, i) => inner + print(x, inner, [...path, String(i)])).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  const lines = keys.map((k) => `${inner}${JSON.stringify(k)}: ${print(v[k]!, inner, [...path, k])}`);
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/**
 * Stable, pretty JSON for a graph document. Throws (before producing anything) when the
 * document holds something JSON cannot carry, such as a cycle or a BigInt.
 */
export function serializeDocument(doc: GraphDocument): string {
  const shaped = {
    format: FORMAT_NAME,
    version: doc.version ?? CURRENT_FORMAT_VERSION,
    meta: ordered(doc.meta ?? {}, META_ORDER),
    nodes: doc.nodes.map((n) => {
      const node: Record<string, unknown> = { id: n.id, type: n.type, version: n.version, params: n.params };
      if (n.ui !== undefined) node.ui = ordered(n.ui, UI_ORDER);
      return node;
    }),
    edges: doc.edges.map((e) => ({ from: e.from, to: e.to })),
  };
  // JSON.stringify first: exact JSON semantics (toJSON, undefined dropped, NaN -> null),
  // and it throws on cycles and BigInt.
  const plain = JSON.parse(JSON.stringify(shaped)) as Json;
  return `${print(plain, '', [])}\n`;
}
