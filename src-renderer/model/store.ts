/**
 * The editor's state: the GraphDocument itself (what is saved), plus selection, file and
 * history. Every edit goes through `commit`, which records immer patches, so undo/redo
 * covers every edit; a drag is recorded once, when it ends; typing into one field within
 * a second is merged into one step.
 */
import { applyPatches, enablePatches, produce, produceWithPatches, type Draft, type Patch } from 'immer';
import { useCallback, useRef, useSyncExternalStore } from 'react';
import type { Edge, GraphDocument, NodeInstance } from '../../src-main/document/schema';

enablePatches();

export type { Edge, GraphDocument, NodeInstance };

export interface HistoryEntry {
  label: string;
  patches: Patch[];
  inverse: Patch[];
  at: number;
  /** consecutive commits with the same key within MERGE_MS become one step */
  key?: string;
}

export interface Selection {
  nodes: readonly string[];
  edges: readonly string[];
}

export interface EditorState {
  doc: GraphDocument;
  selection: Selection;
  /** the file this document was opened from or saved to */
  filePath: string | null;
  /** bumps on every change of `doc` */
  revision: number;
  /** `revision` when the document was last written to its file (or opened) */
  savedRevision: number;
  past: HistoryEntry[];
  future: HistoryEntry[];
  /** the document before the drag in progress */
  dragBase: GraphDocument | null;
}

const MERGE_MS = 1000;
const HISTORY_LIMIT = 500;

export function emptyDocument(title = 'Untitled graph'): GraphDocument {
  return { format: 'genloom', version: 1, meta: { title }, nodes: [], edges: [] };
}

export const edgeId = (e: Edge): string => `${e.from[0]}:${e.from[1]}->${e.to[0]}:${e.to[1]}`;

type Listener = () => void;

export class EditorStore {
  private state: EditorState;
  private readonly listeners = new Set<Listener>();

  constructor(doc: GraphDocument = emptyDocument()) {
    this.state = { doc, selection: { nodes: [], edges: [] }, filePath: null, revision: 0, savedRevision: 0, past: [], future: [], dragBase: null };
  }

  getState = (): EditorState => this.state;

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  };

  private set(next: Partial<EditorState>) {
    this.state = { ...this.state, ...next };
    for (const l of [...this.listeners]) l();
  }

  get dirty(): boolean {
    return this.state.revision !== this.state.savedRevision;
  }

  /** one undoable edit of the document */
  commit(label: string, recipe: (draft: Draft<GraphDocument>) => void, opts: { key?: string } = {}): void {
    const s = this.state;
    const [doc, patches, inverse] = produceWithPatches(s.doc, recipe);
    if (!patches.length) return;
    this.record(doc, { label, patches, inverse, at: Date.now(), key: opts.key });
  }

  private record(doc: GraphDocument, entry: HistoryEntry): void {
    const s = this.state;
    const { label, patches, inverse, key } = entry;
    const now = entry.at;
    const opts = { key };
    const last = s.past[s.past.length - 1];
    let past: HistoryEntry[];
    if (opts.key && last && last.key === opts.key && now - last.at < MERGE_MS) {
      past = [...s.past.slice(0, -1), { ...last, patches: [...last.patches, ...patches], inverse: [...inverse, ...last.inverse], at: now }];
    } else {
      past = [...s.past, { label, patches, inverse, at: now, key: opts.key }].slice(-HISTORY_LIMIT);
    }
    this.set({ doc, past, future: [], revision: s.revision + 1, dragBase: null, selection: this.pruneSelection(doc, s.selection) });
  }

  /** a live change with no history entry (node positions during a drag) */
  beginDrag(): void {
    if (!this.state.dragBase) this.set({ dragBase: this.state.doc });
  }
  dragTo(recipe: (draft: Draft<GraphDocument>) => void): void {
    if (!this.state.dragBase) this.beginDrag();
    this.set({ doc: produce(this.state.doc, recipe) });
  }
  /** records the whole drag as one step: the dragBase -> final positions */
  endDrag(label = 'Move'): void {
    const s = this.state;
    if (!s.dragBase) return;
    const moved = new Map(s.doc.nodes.map((n) => [n.id, n.ui]));
    const [, patches, inverse] = produceWithPatches(s.dragBase, (d) => {
      for (const n of d.nodes) {
        const ui = moved.get(n.id);
        if (ui && (ui.x !== n.ui?.x || ui.y !== n.ui?.y)) n.ui = { ...n.ui, x: ui.x, y: ui.y };
      }
    });
    if (!patches.length) {
      this.set({ dragBase: null });
      return;
    }
    // keep the live document (same structure, and its node objects stay the same for the canvas)
    this.record(s.doc, { label, patches, inverse, at: Date.now() });
  }

  undo(): boolean {
    const s = this.state;
    if (s.dragBase) this.endDrag();
    const entry = this.state.past[this.state.past.length - 1];
    if (!entry) return false;
    const doc = applyPatches(this.state.doc, entry.inverse);
    this.set({
      doc,
      past: this.state.past.slice(0, -1),
      future: [...this.state.future, entry],
      revision: this.state.revision + 1,
      selection: this.pruneSelection(doc, this.state.selection),
    });
    return true;
  }

  redo(): boolean {
    const s = this.state;
    const entry = s.future[s.future.length - 1];
    if (!entry) return false;
    const doc = applyPatches(s.doc, entry.patches);
    this.set({ doc, future: s.future.slice(0, -1), past: [...s.past, { ...entry, key: undefined }], revision: s.revision + 1, selection: this.pruneSelection(doc, s.selection) });
    return true;
  }

  /** replaces the document (new, open, template, restore): history starts afresh */
  load(doc: GraphDocument, opts: { filePath?: string | null; dirty?: boolean } = {}): void {
    const revision = this.state.revision + 1;
    this.set({
      doc,
      filePath: opts.filePath ?? null,
      revision,
      savedRevision: opts.dirty ? -1 : revision,
      past: [],
      future: [],
      dragBase: null,
      selection: { nodes: [], edges: [] },
    });
  }

  markSaved(filePath: string, atRevision: number): void {
    this.set({ filePath, savedRevision: atRevision });
  }

  select(selection: Partial<Selection>): void {
    const cur = this.state.selection;
    const next = { nodes: selection.nodes ?? cur.nodes, edges: selection.edges ?? cur.edges };
    if (sameList(next.nodes, cur.nodes) && sameList(next.edges, cur.edges)) return;
    this.set({ selection: next });
  }

  private pruneSelection(doc: GraphDocument, sel: Selection): Selection {
    const ids = new Set(doc.nodes.map((n) => n.id));
    const eids = new Set(doc.edges.map(edgeId));
    const nodes = sel.nodes.filter((id) => ids.has(id) || id.startsWith('frame:'));
    const edges = sel.edges.filter((id) => eids.has(id));
    return nodes.length === sel.nodes.length && edges.length === sel.edges.length ? sel : { nodes, edges };
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

let lastStructure: GraphDocument | undefined;
/**
 * The document, but the same object as long as only node positions changed: components
 * that do not draw positions (inspector, panels) select this and skip re-rendering during
 * a drag.
 */
export function structureOf(doc: GraphDocument): GraphDocument {
  const l = lastStructure;
  if (l && l !== doc && l.edges === doc.edges && l.meta === doc.meta && l.nodes.length === doc.nodes.length) {
    let same = true;
    for (let i = 0; i < doc.nodes.length; i++) {
      const a = doc.nodes[i]!;
      const b = l.nodes[i]!;
      if (a !== b && (a.id !== b.id || a.type !== b.type || a.params !== b.params || a.version !== b.version || a.ui?.group !== b.ui?.group)) {
        same = false;
        break;
      }
    }
    if (same) return l;
  }
  lastStructure = doc;
  return doc;
}

/** subscribes a component to a slice of the editor state */
export function useEditor<T>(store: EditorStore, selector: (s: EditorState) => T): T {
  const sel = useRef(selector);
  sel.current = selector;
  const get = useCallback(() => sel.current(store.getState()), [store]);
  return useSyncExternalStore(store.subscribe, get, get);
}
