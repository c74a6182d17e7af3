/**
 * React Flow nodes and edges derived from the document, and React Flow's node changes read
 * back. Pure functions: the objects of the previous derivation are reused when nothing on
 * them changed, so memoised nodes do not re-render.
 */
import type { Edge as FlowEdge, Node as FlowNode, NodeChange } from '@xyflow/react';
import type { Edge, NodeInstance } from '../../../src-main/document/schema';
import { PORT_COLOR, specOf } from '../../model/registry';
import { edgeId } from '../../model/store';
import { noCheck, type Diagnostic, type NodeCheck } from '../../model/validation';
import type { FrameFlowNode } from '../FrameNode';
import type { GenFlowNode } from '../GenNode';

export type Size = { width: number; height: number };
export type Point = { x: number; y: number };

/** measured node sizes, by measureKey */
export type Measured = Map<string, Size>;

/** how far down the view shows a node (equations on: model/equationLayout.ts); the document keeps its position */
export type Offsets = ReadonlyMap<string, number>;
const NO_OFFSETS: Offsets = new Map();

export interface CachedNode {
  inst: NodeInstance;
  check: NodeCheck;
  selected: boolean;
  w?: number;
  h?: number;
  dy: number;
  node: GenFlowNode;
}

export type CachedEdge = { key: string; edge: FlowEdge };

const FALLBACK: Size = { width: 250, height: 120 };
const FRAME_PAD = 24;
const FRAME_LABEL = 22;
const FRAME_PREFIX = 'frame:';

/** a node's size is remembered per id and type (a retyped node is measured again) */
export const measureKey = (id: string, type: string) => `${id}|${type}`;

/** one frame around the members of each `ui.group` */
export function deriveFrames(nodes: readonly NodeInstance[], selected: readonly string[], measured: Measured, offsets: Offsets = NO_OFFSETS): Map<string, FrameFlowNode> {
  const groups = new Map<string, NodeInstance[]>();
  for (const n of nodes) if (n.ui?.group) (groups.get(n.ui.group) ?? groups.set(n.ui.group, []).get(n.ui.group)!).push(n);
  const out = new Map<string, FrameFlowNode>();
  const sel = new Set(selected);
  for (const [g, members] of groups) {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const m of members) {
      const size = measured.get(measureKey(m.id, m.type)) ?? FALLBACK;
      const x = m.ui?.x ?? 0;
      const y = (m.ui?.y ?? 0) + (offsets.get(m.id) ?? 0);
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x + size.width);
      y1 = Math.max(y1, y + size.height);
    }
    const id = `${FRAME_PREFIX}${g}`;
    out.set(id, {
      id,
      type: 'frame',
      position: { x: x0 - FRAME_PAD, y: y0 - FRAME_PAD - FRAME_LABEL },
      width: x1 - x0 + FRAME_PAD * 2,
      height: y1 - y0 + FRAME_PAD * 2 + FRAME_LABEL,
      data: { label: g, count: members.length },
      zIndex: -1,
      selected: sel.has(id),
      dragHandle: '.frame-label',
    });
  }
  return out;
}

/** one node's flow node, reusing `prev` (or its `data`) where it still fits */
function flowNodeOf(inst: NodeInstance, check: NodeCheck, selected: boolean, m: Size | undefined, prev: CachedNode | undefined, dy = 0): CachedNode {
  const same = (p: CachedNode) => p.check.key === check.key && p.selected === selected && p.w === m?.width && p.h === m?.height;
  if (prev && prev.inst === inst && prev.dy === dy && same(prev)) return prev;
  if (prev && prev.inst.type === inst.type && prev.inst.params === inst.params && same(prev)) {
    // only moved: keep `data` so the memoised node body does not re-render
    const c = { ...prev, inst, dy, node: { ...prev.node, position: { x: inst.ui?.x ?? 0, y: (inst.ui?.y ?? 0) + dy } } };
    c.node.data = prev.node.data.node === inst ? prev.node.data : { ...prev.node.data, node: inst };
    return c;
  }
  const data = prev && prev.inst === inst && prev.check.key === check.key ? prev.node.data : { node: inst, check, colorBy: 'family' as const };
  return {
    inst,
    check,
    selected,
    w: m?.width,
    h: m?.height,
    dy,
    node: { id: inst.id, type: 'gen', position: { x: inst.ui?.x ?? 0, y: (inst.ui?.y ?? 0) + dy }, data, selected, ...(m ? { measured: m } : {}) },
  };
}

/** the frames, then one flow node per document node; `cache` is the previous call's */
export function deriveNodes(
  nodes: readonly NodeInstance[],
  checks: Map<string, NodeCheck>,
  selected: readonly string[],
  measured: Measured,
  frames: Map<string, FrameFlowNode>,
  cache: Map<string, CachedNode>,
  offsets: Offsets = NO_OFFSETS,
): { nodes: FlowNode[]; cache: Map<string, CachedNode> } {
  const sel = new Set(selected);
  const next = new Map<string, CachedNode>();
  const out: FlowNode[] = [...frames.values()];
  for (const inst of nodes) {
    const c = flowNodeOf(inst, checks.get(inst.id) ?? noCheck, sel.has(inst.id), measured.get(measureKey(inst.id, inst.type)), cache.get(inst.id), offsets.get(inst.id) ?? 0);
    next.set(inst.id, c);
    out.push(c.node);
  }
  return { nodes: out, cache: next };
}

const BAD_EDGE_CODES = new Set(['port-type-mismatch', 'multiple-drivers', 'shape-mismatch']);

/** one flow edge per document edge, coloured by the source port's kind, dashed red where its input is wrong */
export function deriveEdges(
  doc: { nodes: readonly NodeInstance[]; edges: readonly Edge[] },
  selected: readonly string[],
  diagnostics: readonly Diagnostic[],
  cache: Map<string, CachedEdge>,
): { edges: FlowEdge[]; cache: Map<string, CachedEdge> } {
  const types = new Map(doc.nodes.map((n) => [n.id, n.type]));
  const sel = new Set(selected);
  const bad = new Set<string>();
  for (const d of diagnostics) if (d.nodeId && d.port && BAD_EDGE_CODES.has(d.code)) bad.add(`${d.nodeId}:${d.port}`);
  const next = new Map<string, CachedEdge>();
  const out: FlowEdge[] = [];
  for (const e of doc.edges) {
    const id = edgeId(e);
    const kind = specOf(types.get(e.from[0]) ?? '')?.outputs[e.from[1]]?.type.kind;
    const isBad = bad.has(`${e.to[0]}:${e.to[1]}`);
    const isSelected = sel.has(id);
    const key = `${kind}|${isBad}|${isSelected}`;
    const prev = cache.get(id);
    const edge: FlowEdge =
      prev && prev.key === key
        ? prev.edge
        : {
            id,
            source: e.from[0],
            sourceHandle: e.from[1],
            target: e.to[0],
            targetHandle: e.to[1],
            selected: isSelected,
            className: `edge-${kind ?? 'unknown'}${isBad ? ' edge-bad' : ''}`,
            style: { stroke: isBad ? 'var(--error)' : kind ? PORT_COLOR[kind] : 'var(--edge-default)', strokeWidth: isSelected ? 3 : 2, strokeDasharray: isBad ? '6 4' : undefined },
          };
    next.set(id, { key, edge });
    out.push(edge);
  }
  return { edges: out, cache: next };
}

export interface NodeChangesRead {
  /** new positions, by node (or frame) id */
  moves: Map<string, Point>;
  dragging: boolean;
  /** the new node selection, when it changed */
  selection: Set<string> | null;
  /** whether a measured size changed (`measured` is updated in place) */
  resized: boolean;
}

/** React Flow's node changes: moves, selection and measured sizes */
export function readNodeChanges(changes: readonly NodeChange[], selectedNodes: readonly string[], nodes: readonly NodeInstance[], measured: Measured): NodeChangesRead {
  const out: NodeChangesRead = { moves: new Map(), dragging: false, selection: null, resized: false };
  for (const c of changes) {
    if (c.type === 'position') {
      if (c.position) out.moves.set(c.id, c.position);
      if (c.dragging) out.dragging = true;
    } else if (c.type === 'select') {
      out.selection ??= new Set(selectedNodes);
      if (c.selected) out.selection.add(c.id);
      else out.selection.delete(c.id);
    } else if (c.type === 'dimensions' && c.dimensions) {
      const inst = nodes.find((n) => n.id === c.id);
      const key = inst ? measureKey(c.id, inst.type) : c.id;
      const prev = measured.get(key);
      if (!prev || prev.width !== c.dimensions.width || prev.height !== c.dimensions.height) {
        measured.set(key, { width: c.dimensions.width, height: c.dimensions.height });
        out.resized = true;
      }
    }
  }
  return out;
}

/** the members of each moved frame, moved with it (unless moved themselves) */
export function frameMemberMoves(moves: Map<string, Point>, frames: Map<string, FrameFlowNode>, nodes: readonly NodeInstance[]): Map<string, Point> {
  const out = new Map<string, Point>();
  for (const [id, p] of moves) {
    if (!id.startsWith(FRAME_PREFIX)) continue;
    const f = frames.get(id);
    if (!f) continue;
    const dx = p.x - f.position.x;
    const dy = p.y - f.position.y;
    const group = id.slice(FRAME_PREFIX.length);
    for (const n of nodes) if (n.ui?.group === group && !moves.has(n.id)) out.set(n.id, { x: (n.ui?.x ?? 0) + dx, y: (n.ui?.y ?? 0) + dy });
  }
  return out;
}
