/** Edits of the document. Each is one undoable commit on the store. */
import type { Draft } from 'immer';
import { NODE_ID_PATTERN, type Edge, type GraphDocument, type NodeInstance } from '../../src-main/document/schema';
import { defaultParams, idStem, specOf } from './registry';
import { edgeId, type EditorStore } from './store';

export function uniqueId(doc: GraphDocument, stem: string, taken: Set<string> = new Set()): string {
  const ids = new Set([...doc.nodes.map((n) => n.id), ...taken]);
  if (!ids.has(stem)) return stem;
  for (let i = 2; ; i++) if (!ids.has(`${stem}${i}`)) return `${stem}${i}`;
}

export function makeNode(doc: GraphDocument, type: string, pos: { x: number; y: number }): NodeInstance {
  const spec = specOf(type);
  if (!spec) throw new Error(`unknown node type "${type}"`);
  return { id: uniqueId(doc, idStem(type)), type, version: spec.version, params: defaultParams(spec), ui: { x: Math.round(pos.x), y: Math.round(pos.y) } };
}

export function addNode(store: EditorStore, type: string, pos: { x: number; y: number }): string {
  const node = makeNode(store.getState().doc, type, pos);
  store.commit(`Add ${specOf(type)?.title ?? type}`, (d) => {
    d.nodes.push(node as Draft<NodeInstance>);
  });
  store.select({ nodes: [node.id], edges: [] });
  return node.id;
}

/** connects an output to an input; an input has one driver, so an older edge into it is replaced */
export function connect(store: EditorStore, from: [string, string], to: [string, string]): { replaced?: Edge } {
  const doc = store.getState().doc;
  const replaced = doc.edges.find((e) => e.to[0] === to[0] && e.to[1] === to[1]);
  if (replaced && replaced.from[0] === from[0] && replaced.from[1] === from[1]) return {};
  store.commit('Connect', (d) => {
    d.edges = d.edges.filter((e) => !(e.to[0] === to[0] && e.to[1] === to[1]));
    d.edges.push({ from, to });
  });
  return { replaced };
}

function removeIdsFromTrains(d: Draft<GraphDocument>, gone: Set<string>) {
  for (const n of d.nodes) {
    const trains = (n.params as { trains?: unknown }).trains;
    if (Array.isArray(trains) && trains.some((t) => gone.has(t))) {
      (n.params as { trains: string[] }).trains = trains.filter((t) => !gone.has(t));
    }
  }
}

export function deleteSelection(store: EditorStore): number {
  const { selection, doc } = store.getState();
  const nodeIds = new Set(selection.nodes.filter((id) => !id.startsWith('frame:')));
  // deleting a group frame deletes the group, not its members
  const groups = new Set(selection.nodes.filter((id) => id.startsWith('frame:')).map((id) => id.slice(6)));
  const edgeIds = new Set(selection.edges);
  if (!nodeIds.size && !edgeIds.size && !groups.size) return 0;
  const count = nodeIds.size + edgeIds.size + groups.size;
  store.commit(nodeIds.size ? `Delete ${nodeIds.size} node${nodeIds.size > 1 ? 's' : ''}` : 'Delete', (d) => {
    d.nodes = d.nodes.filter((n) => !nodeIds.has(n.id));
    d.edges = d.edges.filter((e) => !edgeIds.has(edgeId(e)) && !nodeIds.has(e.from[0]) && !nodeIds.has(e.to[0]));
    if (nodeIds.size) removeIdsFromTrains(d, nodeIds);
    for (const n of d.nodes) if (n.ui?.group && groups.has(n.ui.group)) delete n.ui.group;
  });
  store.select({ nodes: [], edges: [] });
  void doc;
  return count;
}

/** sets params[path] (path like ["optimizer", "lr"]); undefined deletes the key */
export function setParam(store: EditorStore, nodeId: string, path: readonly string[], value: unknown): void {
  store.commit(
    `Edit ${nodeId}.${path.join('.')}`,
    (d) => {
      const n = d.nodes.find((x) => x.id === nodeId);
      if (!n) return;
      let obj = n.params as Record<string, unknown>;
      for (const k of path.slice(0, -1)) {
        const next = obj[k];
        if (!next || typeof next !== 'object' || Array.isArray(next)) obj[k] = {};
        obj = obj[k] as Record<string, unknown>;
      }
      const last = path[path.length - 1]!;
      if (value === undefined) delete obj[last];
      else obj[last] = value;
    },
    { key: `param:${nodeId}:${path.join('.')}` },
  );
}

export function renameNode(store: EditorStore, oldId: string, newId: string): string | undefined {
  const doc = store.getState().doc;
  if (oldId === newId) return undefined;
  if (!NODE_ID_PATTERN.test(newId)) return 'a node id may use letters, digits, "_", "." and "-"';
  if (doc.nodes.some((n) => n.id === newId)) return `"${newId}" is already taken`;
  store.commit(
    `Rename ${oldId}`,
    (d) => {
      for (const n of d.nodes) {
        if (n.id === oldId) n.id = newId;
        const trains = (n.params as { trains?: unknown }).trains;
        if (Array.isArray(trains) && trains.includes(oldId)) (n.params as { trains: string[] }).trains = trains.map((t) => (t === oldId ? newId : t));
      }
      for (const e of d.edges) {
        if (e.from[0] === oldId) e.from[0] = newId;
        if (e.to[0] === oldId) e.to[0] = newId;
      }
    },
  );
  store.select({ nodes: [newId], edges: [] });
  return undefined;
}

export interface Clip {
  kind: 'genloom-clip';
  nodes: NodeInstance[];
  edges: Edge[];
}

export function copySelection(store: EditorStore): Clip | undefined {
  const { doc, selection } = store.getState();
  const ids = new Set(selection.nodes);
  for (const n of doc.nodes) if (n.ui?.group && ids.has(`frame:${n.ui.group}`)) ids.add(n.id);
  const nodes = doc.nodes.filter((n) => ids.has(n.id));
  if (!nodes.length) return undefined;
  const edges = doc.edges.filter((e) => ids.has(e.from[0]) && ids.has(e.to[0]));
  return { kind: 'genloom-clip', nodes: structuredClone(nodes) as NodeInstance[], edges: structuredClone(edges) as Edge[] };
}

export function isClip(v: unknown): v is Clip {
  return !!v && typeof v === 'object' && (v as Clip).kind === 'genloom-clip' && Array.isArray((v as Clip).nodes) && Array.isArray((v as Clip).edges);
}

/** pastes with fresh ids, offset from the originals (or centred at `at`) */
export function paste(store: EditorStore, clip: Clip, at?: { x: number; y: number }): string[] {
  const doc = store.getState().doc;
  const taken = new Set<string>();
  const map = new Map<string, string>();
  for (const n of clip.nodes) {
    const id = uniqueId(doc, n.id.replace(/\d+$/, '') || 'node', taken);
    taken.add(id);
    map.set(n.id, id);
  }
  const xs = clip.nodes.map((n) => n.ui?.x ?? 0);
  const ys = clip.nodes.map((n) => n.ui?.y ?? 0);
  const dx = at ? at.x - Math.min(...xs) : 40;
  const dy = at ? at.y - Math.min(...ys) : 40;
  const groupMap = new Map<string, string>();
  const nodes: NodeInstance[] = clip.nodes.map((n) => {
    let group = n.ui?.group;
    if (group) {
      if (!groupMap.has(group)) groupMap.set(group, uniqueGroup(doc, group));
      group = groupMap.get(group);
    }
    const params = structuredClone(n.params);
    const trains = (params as { trains?: unknown }).trains;
    if (Array.isArray(trains)) (params as { trains: string[] }).trains = trains.map((t) => map.get(t) ?? t);
    return { ...n, id: map.get(n.id)!, params, ui: { ...n.ui, x: Math.round((n.ui?.x ?? 0) + dx), y: Math.round((n.ui?.y ?? 0) + dy), ...(group ? { group } : {}) } };
  });
  const edges: Edge[] = clip.edges.map((e) => ({ from: [map.get(e.from[0])!, e.from[1]], to: [map.get(e.to[0])!, e.to[1]] }));
  store.commit(`Paste ${nodes.length} node${nodes.length > 1 ? 's' : ''}`, (d) => {
    d.nodes.push(...(nodes as Draft<NodeInstance>[]));
    d.edges.push(...(edges as Draft<Edge>[]));
  });
  store.select({ nodes: nodes.map((n) => n.id), edges: [] });
  return nodes.map((n) => n.id);
}

function uniqueGroup(doc: GraphDocument, stem: string): string {
  const used = new Set(doc.nodes.map((n) => n.ui?.group).filter(Boolean));
  if (!used.has(stem)) return stem;
  const base = stem.replace(/\s*\d+$/, '');
  for (let i = 2; ; i++) if (!used.has(`${base} ${i}`)) return `${base} ${i}`;
}

export function groupSelection(store: EditorStore, label?: string): string | undefined {
  const { doc, selection } = store.getState();
  const ids = new Set(selection.nodes.filter((id) => !id.startsWith('frame:')));
  if (ids.size < 1) return undefined;
  const name = label?.trim() || uniqueGroup(doc, 'Group 1');
  store.commit(`Group ${ids.size} nodes`, (d) => {
    for (const n of d.nodes) if (ids.has(n.id)) n.ui = { x: n.ui?.x ?? 0, y: n.ui?.y ?? 0, ...n.ui, group: name };
  });
  store.select({ nodes: [`frame:${name}`], edges: [] });
  return name;
}

export function ungroupSelection(store: EditorStore): void {
  const { doc, selection } = store.getState();
  const groups = new Set<string>();
  for (const id of selection.nodes) {
    if (id.startsWith('frame:')) groups.add(id.slice(6));
    else {
      const g = doc.nodes.find((n) => n.id === id)?.ui?.group;
      if (g) groups.add(g);
    }
  }
  if (!groups.size) return;
  store.commit('Ungroup', (d) => {
    for (const n of d.nodes) if (n.ui?.group && groups.has(n.ui.group)) delete n.ui.group;
  });
}

export function renameGroup(store: EditorStore, from: string, to: string): void {
  const name = to.trim();
  if (!name || name === from) return;
  store.commit('Rename group', (d) => {
    for (const n of d.nodes) if (n.ui?.group === from) n.ui.group = name;
  });
  store.select({ nodes: [`frame:${name}`], edges: [] });
}

export function setMeta(store: EditorStore, key: 'title' | 'description', value: string): void {
  store.commit(`Edit ${key}`, (d) => {
    d.meta[key] = value;
  }, { key: `meta:${key}` });
}

/** a copy of each node (params, group), offset down and right, its edges among the copies kept (one undo step) */
export function duplicateNodes(store: EditorStore, ids: readonly string[]): string[] {
  const { doc } = store.getState();
  const set = new Set(ids);
  const nodes = doc.nodes.filter((n) => set.has(n.id));
  if (!nodes.length) return [];
  const edges = doc.edges.filter((e) => set.has(e.from[0]) && set.has(e.to[0]));
  return paste(store, { kind: 'genloom-clip', nodes: structuredClone(nodes) as NodeInstance[], edges: structuredClone(edges) as Edge[] });
}

/** deletes nodes (their edges, and their ids from every objective's trains) in one undo step */
export function deleteNodes(store: EditorStore, ids: readonly string[]): number {
  const gone = new Set(ids.filter((id) => store.getState().doc.nodes.some((n) => n.id === id)));
  if (!gone.size) return 0;
  store.commit(`Delete ${gone.size === 1 ? [...gone][0] : `${gone.size} nodes`}`, (d) => {
    d.nodes = d.nodes.filter((n) => !gone.has(n.id));
    d.edges = d.edges.filter((e) => !gone.has(e.from[0]) && !gone.has(e.to[0]));
    removeIdsFromTrains(d, gone);
  });
  store.select({ nodes: [], edges: [] });
  return gone.size;
}

/** removes every edge into or out of a node (one undo step); the number removed */
export function disconnectAll(store: EditorStore, id: string): number {
  const n = store.getState().doc.edges.filter((e) => e.from[0] === id || e.to[0] === id).length;
  if (!n) return 0;
  store.commit(`Disconnect ${id}`, (d) => {
    d.edges = d.edges.filter((e) => e.from[0] !== id && e.to[0] !== id);
  });
  return n;
}

/** removes edges by their edgeId (one undo step) */
export function deleteEdges(store: EditorStore, ids: readonly string[]): number {
  const set = new Set(ids);
  const n = store.getState().doc.edges.filter((e) => set.has(edgeId(e))).length;
  if (!n) return 0;
  store.commit(n === 1 ? 'Delete edge' : `Delete ${n} edges`, (d) => {
    d.edges = d.edges.filter((e) => !set.has(edgeId(e)));
  });
  store.select({ edges: [] });
  return n;
}
