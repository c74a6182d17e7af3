/** UI state that is not the document: dialogs, toasts, banners, templates, recent files. */
import { useCallback, useRef, useSyncExternalStore } from 'react';
import type { GraphDocument } from '../../src-main/document/schema';
import { DEFAULT_PANELS, type PanelLayout } from './panels';
import { DEFAULT_PREFS, type Prefs, type ThemePref } from './prefs';

export class SimpleStore<T extends object> {
  private listeners = new Set<() => void>();
  constructor(private state: T) {}
  getState = (): T => this.state;
  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  };
  set(next: Partial<T> | ((s: T) => Partial<T>)): void {
    const patch = typeof next === 'function' ? next(this.state) : next;
    this.state = { ...this.state, ...patch };
    for (const l of [...this.listeners]) l();
  }
}

export function useStore<T extends object, U>(store: SimpleStore<T>, select: (s: T) => U): U {
  const sel = useRef(select);
  sel.current = select;
  const get = useCallback(() => sel.current(store.getState()), [store]);
  return useSyncExternalStore(store.subscribe, get, get);
}

export interface Toast {
  id: number;
  kind: 'info' | 'error' | 'success' | 'warning';
  text: string;
  /** shown next to the pointer instead of in the corner */
  at?: { x: number; y: number };
}

export interface TemplateInfo {
  id: string;
  title: string;
  description: string;
  dataset: string;
  doc: GraphDocument;
}

/** the port a connection was dragged from and dropped on empty canvas */
export interface WireEnd {
  nodeId: string;
  port: string;
  /** 'source': an output was dragged (the new node needs an input); 'target': an input */
  side: 'source' | 'target';
}

export type MenuTarget = { kind: 'node'; id: string } | { kind: 'edge'; id: string } | { kind: 'pane' };

export interface ContextMenuState {
  x: number;
  y: number;
  /** the flow position under the pointer (add node here, paste) */
  flow: { x: number; y: number };
  target: MenuTarget;
}

export type Modal = null | 'templates' | 'compare' | 'export' | 'open' | 'saveAs' | 'help';

export interface UiState extends Prefs {
  modal: Modal;
  toasts: Toast[];
  /** the reason the connection being dragged would be refused, near the pointer */
  connectHint: { text: string; x: number; y: number } | null;
  /** search-to-add popup (double-click on the canvas) */
  addPopup: { x: number; y: number; flow: { x: number; y: number }; wire?: WireEnd; openedAt?: number } | null;
  /** the right-click menu, where it was opened and on what */
  contextMenu: ContextMenuState | null;
  /** palette, inspector and dock sizes and collapsed panels; kept across reloads */
  panels: PanelLayout;
  /** bumps to ask the canvas to fit the view once nodes are measured */
  fitSeq: number;
  dockTab: 'train' | 'diagnostics' | 'program';
  dockOpen: boolean;
  restore: { doc: GraphDocument; savedAt: number; path: string | null } | null;
  templates: TemplateInfo[] | null;
  templatesError: string | null;
  recent: string[];
  status: string;
  connection: 'connecting' | 'open' | 'closed' | 'refused';
  lastAutosave: number | null;
  /** each node shows its equation (canvas and compare view); kept across reloads */
  equations: boolean;
  /** the chosen theme (system: follows prefers-color-scheme); kept across reloads */
  theme: ThemePref;
  /** what the system prefers (prefers-color-scheme: dark) */
  systemDark: boolean;
  /** presentation mode: side panels hidden, large type, high contrast (not kept: a reload leaves it) */
  presentation: boolean;
}

export const initialUi: UiState = {
  modal: null,
  toasts: [],
  connectHint: null,
  addPopup: null,
  contextMenu: null,
  panels: DEFAULT_PANELS,
  fitSeq: 0,
  dockTab: 'train',
  dockOpen: true,
  restore: null,
  templates: null,
  templatesError: null,
  recent: [],
  status: 'Ready',
  connection: 'connecting',
  lastAutosave: null,
  ...DEFAULT_PREFS,
  systemDark: true,
  presentation: false,
};
