/**
 * Diagnostics that suggest the fix: for a shape mismatch, the single params whose change
 * would clear it ("set prior.dim to 2, or encoder.latentDim to 3"). Worked out from what the
 * renderer already has: the diagnostic (code, node, port, message with both shapes) and the
 * graph; each candidate (a size param of a node upstream of the diagnostic's node, holding
 * one of the two sizes, set to the other) is tried on a copy and kept only when the
 * diagnostic goes and no new error appears.
 */
import type { GraphDocument, NodeInstance } from '../../src-main/document/schema';
import { setParam } from './actions';
import { specOf } from './registry';
import type { EditorStore } from './store';
import { validateDoc, type Diagnostic } from './validation';
import { validateStructure } from './validation';

/** the integer params that set a size: a latent's, the data's, an event's */
export const SIZE_PARAMS = ['dim', 'latentDim', 'dataDim', 'inDim', 'outDim', 'codeDim'] as const;

export interface Fix {
  nodeId: string;
  param: string;
  from: number;
  to: number;
  /** "set prior.dim to 2" */
  label: string;
}

const key = (d: Diagnostic) => `${d.code}|${d.nodeId ?? ''}|${d.port ?? ''}`;

/** the two last sizes of the shapes a message names ("got [B, 3], expected [B, 2]"), or null */
export function mismatchSizes(message: string): [number, number] | null {
  const shapes = [...message.matchAll(/\[B((?:,\s*\d+)*)\]/g)].map((m) => m[1]!.split(',').map((x) => x.trim()).filter(Boolean).map(Number));
  if (shapes.length < 2) return null;
  const a = shapes[0]!;
  const b = shapes[1]!;
  if (!a.length || !b.length || a.length !== b.length) return null;
  // the shapes differ in one place only: the size the fix sets
  const diff = a.map((x, i) => (x !== b[i] ? i : -1)).filter((i) => i >= 0);
  if (diff.length !== 1) return null;
  return [a[diff[0]!]!, b[diff[0]!]!];
}

/** the ids of the nodes that feed `id`, directly or not, and `id` itself */
function upstream(doc: Pick<GraphDocument, 'edges'>, id: string): Set<string> {
  const seen = new Set([id]);
  const stack = [id];
  while (stack.length) {
    const n = stack.pop()!;
    for (const e of doc.edges) if (e.to[0] === n && !seen.has(e.from[0])) (seen.add(e.from[0]), stack.push(e.from[0]));
  }
  return seen;
}

/** whether the schema of a node type accepts `value` for `param` */
function accepts(node: NodeInstance, param: string, value: number): boolean {
  const spec = specOf(node.type);
  return !!spec && spec.params.safeParse({ ...(node.params as object), [param]: value }).success;
}

function withParam(doc: GraphDocument, nodeId: string, param: string, value: number): GraphDocument {
  return { ...doc, nodes: doc.nodes.map((n) => (n.id === nodeId ? { ...n, params: { ...(n.params as object), [param]: value } } : n)) };
}

const fixCache = new WeakMap<GraphDocument, Map<string, Fix[]>>();

/** the single-param fixes of a diagnostic, in the order of the nodes upstream (nearest the problem first); [] when none is obvious */
export function suggestFixes(doc: GraphDocument, d: Diagnostic): Fix[] {
  if ((d.code !== 'shape-mismatch' && d.code !== 'sampler-cannot-run') || !d.nodeId) return [];
  let byDiag = fixCache.get(doc);
  if (!byDiag) fixCache.set(doc, (byDiag = new Map()));
  const k = `${key(d)}|${d.message}`;
  const hit = byDiag.get(k);
  if (hit) return hit;
  const sizes = mismatchSizes(d.message);
  const out: Fix[] = [];
  if (sizes) {
    const [a, b] = sizes;
    const before = validateDoc(doc).diagnostics;
    const errorsBefore = new Set(before.filter((x) => x.severity === 'error').map(key));
    const ids = upstream(doc, d.nodeId);
    for (const n of doc.nodes) {
      if (!ids.has(n.id)) continue;
      const params = (n.params ?? {}) as Record<string, unknown>;
      for (const p of SIZE_PARAMS) {
        const v = params[p];
        if (typeof v !== 'number' || (v !== a && v !== b)) continue;
        const to = v === a ? b : a;
        if (!accepts(n, p, to)) continue;
        const after = validateStructure(withParam(doc, n.id, p, to)).diagnostics;
        const errs = after.filter((x) => x.severity === 'error');
        if (errs.some((x) => key(x) === key(d))) continue;
        if (errs.some((x) => !errorsBefore.has(key(x)))) continue;
        out.push({ nodeId: n.id, param: p, from: v, to, label: `set ${n.id}.${p} to ${to}` });
      }
    }
  }
  byDiag.set(k, out);
  return out;
}

/** "set prior.dim to 2, or encoder.latentDim to 3" */
export function fixSentence(fixes: readonly Fix[]): string {
  if (!fixes.length) return '';
  return fixes.map((f, i) => (i === 0 ? f.label : f.label.replace(/^set /, ''))).join(', or ');
}

/** applies a fix: one param edit, one undo step */
export function applyFix(store: EditorStore, fix: Fix): void {
  setParam(store, fix.nodeId, [fix.param], fix.to);
}
