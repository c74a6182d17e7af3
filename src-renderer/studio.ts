/**
 * The studio's singletons (API client, editor, training and UI stores) and the commands
 * that span them: files, autosave and restore, templates, training.
 */
import { z } from 'zod';
import { GraphDocumentSchema, type GraphDocument } from '../src-main/document/schema';
import { api, errorMessage, type StudioClient } from './api';
import { EditorStore, emptyDocument } from './model/store';
import { TrainingStore } from './model/training';
import { readPanels, samePanels } from './model/panels';
import { PREFS_KEY, prefsOf, readPrefs, samePrefs, type ThemePref } from './model/prefs';
import { SimpleStore, initialUi, type TemplateInfo, type Toast, type UiState } from './model/ui';
import { setExternalDocuments, validateDoc } from './model/validation';

export interface Studio {
  api: StudioClient;
  editor: EditorStore;
  training: TrainingStore;
  ui: SimpleStore<UiState>;
}

let studioInstance: Studio | undefined;

export function studio(): Studio {
  if (!studioInstance) {
    const client = api();
    studioInstance = { api: client, editor: new EditorStore(), training: new TrainingStore(client), ui: new SimpleStore<UiState>(initialUi) };
    // the status bar follows the run's end
    const s = studioInstance;
    let lastStatus = s.training.getState().status;
    s.training.subscribe(() => {
      const r = s.training.getState();
      if (r.status === lastStatus) return;
      lastStatus = r.status;
      if (r.status === 'stopped' && r.stop) {
        const what = r.stop.reason === 'done' ? `Training done: ${r.stop.step} steps` : r.stop.reason === 'user' ? `Training stopped at step ${r.stop.step}` : `Training failed (${r.stop.reason}) at step ${r.stop.step}${r.stop.message ? `: ${r.stop.message}` : ''}`;
        s.ui.set({ status: what });
        // a run that never started is reported once, by startTraining
        if ((r.stop.reason === 'non-finite' || r.stop.reason === 'error') && r.runId !== null) toast('error', what);
      } else if (r.status === 'paused') s.ui.set({ status: `Training paused at step ${r.step}` });
      else if (r.status === 'running' && r.runId) s.ui.set({ status: `Training run ${r.runId}` });
    });
    keepPrefs(s.ui);
  }
  return studioInstance;
}

// ---------------------------------------------------------------- lecture preferences

const DARK_QUERY = '(prefers-color-scheme: dark)';

/** reads the stored preferences and the system's theme, and stores every change of them */
function keepPrefs(ui: SimpleStore<UiState>): void {
  const text = typeof localStorage === 'undefined' ? null : safeGet(PREFS_KEY);
  let stored = readPrefs(text);
  // the panel sizes live in the same store, beside the lecture preferences
  let storedPanels = readPanels(text);
  const mq = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(DARK_QUERY) : undefined;
  ui.set({ ...stored, panels: storedPanels, systemDark: mq ? mq.matches : true });
  mq?.addEventListener('change', (e) => ui.set({ systemDark: e.matches }));
  ui.subscribe(() => {
    const s = ui.getState();
    const now = prefsOf(s);
    if (samePrefs(now, stored) && samePanels(s.panels, storedPanels)) return;
    stored = now;
    storedPanels = s.panels;
    writeLocal(PREFS_KEY, { ...now, panels: s.panels });
  });
}

function safeGet(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** the canvas refits once the layout has settled (nodes re-measured, panels shown or hidden) */
function refitSoon(): void {
  setTimeout(requestFit, 120);
}

export function toggleEquations(): void {
  const { ui } = studio();
  const on = !ui.getState().equations;
  ui.set({ equations: on, status: on ? 'Equations shown on the nodes (E hides them)' : 'Equations hidden (E shows them)' });
  refitSoon();
}

export function setPresentation(on: boolean): void {
  const { ui } = studio();
  if (ui.getState().presentation === on) return;
  ui.set({ presentation: on, addPopup: null, status: on ? 'Presentation mode (Esc or P leaves it)' : 'Left presentation mode' });
  refitSoon();
}

export function setTheme(theme: ThemePref): void {
  studio().ui.set({ theme, status: `Theme: ${theme === 'system' ? 'follows the system' : theme}` });
}

// ---------------------------------------------------------------- toasts

let toastId = 1;
const toastTimers = new Map<number, ReturnType<typeof setTimeout>>();
/**
 * Shows a toast, and its text in the status bar. The same text shown again replaces the
 * toast on screen (one failure, one toast) and restarts its timer; when the last toast with
 * that text goes, a status bar still showing it returns to "Ready".
 */
export function toast(kind: Toast['kind'], text: string, at?: { x: number; y: number }): void {
  const { ui } = studio();
  const same = ui.getState().toasts.find((x) => x.kind === kind && x.text === text && !x.at === !at);
  const t: Toast = same ? { ...same, at } : { id: toastId++, kind, text, at };
  ui.set((s) => ({ toasts: [...s.toasts.filter((x) => x.id !== t.id && !(at && x.at)).slice(-4), t], status: text }));
  clearTimeout(toastTimers.get(t.id));
  toastTimers.set(
    t.id,
    setTimeout(
      () => {
        toastTimers.delete(t.id);
        ui.set((s) => ({ toasts: s.toasts.filter((x) => x.id !== t.id), status: s.status === text ? 'Ready' : s.status }));
      },
      kind === 'error' ? 9000 : at ? 5000 : 4000,
    ),
  );
}

/**
 * "<action> <path>: <why>" with the path said once: host errors often name the path
 * themselves ("cannot open /a/b.json: ENOENT: no such file or directory, open '/a/b.json'").
 */
export function failureText(action: string, path: string | undefined, err: unknown): string {
  let why = errorMessage(err).trim();
  // node's system errors: "ENOENT: no such file or directory, open '/x'" -> "no such file or directory"
  why = why.replace(/\b[A-Z]{3,}: ([a-z][^,]*), \w+ '[^']*'/g, '$1');
  // the host's own "cannot open <path>:" prefix repeats ours
  why = why.replace(/^cannot (open|save|read|write) [^:\n]+:\s*/i, '');
  const name = path?.trim();
  if (name) {
    const base = name.split(/[\\/]/).pop() ?? name;
    const mentions = why.includes(name) || (base.length > 3 && why.includes(base));
    return mentions ? `${action}: ${why}` : `${action} ${name}: ${why}`;
  }
  return `${action}: ${why}`;
}

export function setStatus(text: string): void {
  studio().ui.set({ status: text });
}

// ---------------------------------------------------------------- documents

const LS_AUTOSAVE = 'genloom.autosave.v1';
const LS_LASTSAVE = 'genloom.lastSave.v1';
const LS_DISCARDED = 'genloom.autosaveDiscarded.v1';

interface LocalAutosave {
  doc: GraphDocument;
  savedAt: number;
  path: string | null;
}

function readLocal<T>(key: string, schema: z.ZodType<T>): T | null {
  try {
    const raw = localStorage.getItem(key);
    if (!raw) return null;
    const r = schema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

function writeLocal(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: the host's autosave slot remains */
  }
}

const LocalAutosaveSchema = z.object({ doc: GraphDocumentSchema, savedAt: z.number(), path: z.string().nullable() });
const LastSaveSchema = z.object({ path: z.string().nullable(), at: z.number() });

/** validates a document that arrived from the host or storage */
export function asDocument(raw: unknown): { doc?: GraphDocument; error?: string } {
  const r = GraphDocumentSchema.safeParse(raw);
  if (r.success) return { doc: r.data };
  return { error: r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'document'}: ${i.message}`).join('; ') };
}

export function requestFit(): void {
  studio().ui.set((s) => ({ fitSeq: s.fitSeq + 1 }));
}

function confirmDiscard(action: string): boolean {
  const { editor } = studio();
  if (!editor.dirty || editor.getState().doc.nodes.length === 0) return true;
  return window.confirm(`The graph has unsaved changes (they are kept in the autosave). ${action} anyway?`);
}

export function newDocument(): void {
  if (!confirmDiscard('Start a new graph')) return;
  studio().editor.load(emptyDocument());
  studio().ui.set({ restore: null });
  setStatus('New graph');
}

export function loadDocument(doc: GraphDocument, opts: { filePath?: string | null; dirty?: boolean } = {}): void {
  const { editor, ui } = studio();
  editor.load(doc, opts);
  ui.set({ restore: null, addPopup: null });
  requestFit();
}

export function openTemplate(t: TemplateInfo): void {
  if (!confirmDiscard('Open a template')) return;
  performance.clearMarks('genloom:open-template');
  performance.mark('genloom:open-template');
  const doc = structuredClone(t.doc);
  doc.meta = { ...doc.meta, title: doc.meta.title ?? t.title };
  loadDocument(doc, { filePath: null });
  studio().ui.set({ modal: null });
  setStatus(`Opened template “${t.title}” (an editable copy)`);
}

export async function loadTemplates(): Promise<TemplateInfo[]> {
  const { ui, api: client } = studio();
  const cur = ui.getState().templates;
  if (cur) return cur;
  try {
    const list = await client.call('listTemplates', {});
    const templates: TemplateInfo[] = [];
    for (const t of list) {
      const d = asDocument(t.doc);
      if (d.doc) templates.push({ ...t, doc: d.doc });
      else console.warn(`template ${t.id} is not a valid document: ${d.error}`);
    }
    setExternalDocuments(templates);
    ui.set({ templates, templatesError: null });
    return templates;
  } catch (err) {
    ui.set({ templatesError: errorMessage(err) });
    return [];
  }
}

export async function refreshRecent(): Promise<void> {
  try {
    const recent = await studio().api.call('recentFiles', {});
    studio().ui.set({ recent });
  } catch {
    /* not fatal */
  }
}

/**
 * The file handles the host gave for files outside its data folder (picked through a
 * dialog): the real path shown in the studio -> the reference the host accepts for it.
 */
const fileHandles = new Map<string, string>();

/** what to send the host for a file: its handle when there is one, else the path */
export function fileRef(path: string): string {
  return fileHandles.get(path) ?? path;
}

function rememberHandle(res: { path: string; handle?: string }): void {
  if (res.handle) fileHandles.set(res.path, res.handle);
}

export async function openFile(path?: string): Promise<void> {
  const { api: client, ui } = studio();
  if (!path && client.transport === 'websocket') {
    ui.set({ modal: 'open' });
    void refreshRecent();
    return;
  }
  if (!confirmDiscard('Open another file')) return;
  try {
    const res = await client.call('openFile', path ? { path: fileRef(path) } : {});
    if (!res) return;
    rememberHandle(res);
    const d = asDocument(res.doc);
    if (!d.doc) {
      toast('error', `${res.path} is not a Genloom graph: ${d.error}`);
      return;
    }
    loadDocument(d.doc, { filePath: res.path });
    writeLocal(LS_LASTSAVE, { path: res.path, at: Date.now() });
    ui.set({ modal: null });
    toast('success', `Opened ${res.path}`);
    for (const w of res.warnings ?? []) toast('warning', w.message);
    void refreshRecent();
  } catch (err) {
    toast('error', failureText('Could not open', path ?? 'the file', err));
  }
}

export async function saveFile(opts: { saveAs?: boolean; path?: string } = {}): Promise<boolean> {
  const { api: client, editor, ui } = studio();
  const st = editor.getState();
  if (st.dragBase) editor.endDrag();
  let path = opts.path ?? (opts.saveAs ? undefined : st.filePath ?? undefined);
  if (!path && client.transport === 'websocket') {
    ui.set({ modal: 'saveAs' });
    void refreshRecent();
    return false;
  }
  const revision = editor.getState().revision;
  const doc = editor.getState().doc;
  try {
    const res = await client.call('saveFile', path ? { path: fileRef(path), doc, saveAs: false } : { doc, saveAs: true });
    if (!res) return false;
    rememberHandle(res);
    path = res.path;
    editor.markSaved(path, revision);
    writeLocal(LS_LASTSAVE, { path, at: Date.now() });
    // the host clears its autosave slot on a save; the local copy goes too, and what was
    // just saved is not autosaved again
    lastAutosavedRevision = revision;
    try {
      localStorage.removeItem(LS_AUTOSAVE);
    } catch {
      /* ignore */
    }
    ui.set({ modal: null });
    toast('success', `Saved ${path}`);
    void refreshRecent();
    return true;
  } catch (err) {
    toast('error', failureText('Could not save', path, err));
    return false;
  }
}

// ---------------------------------------------------------------- autosave

let lastAutosavedRevision = -1;
let autosaveTimer: ReturnType<typeof setInterval> | undefined;

function localAutosave(): LocalAutosave {
  const { editor } = studio();
  const s = editor.getState();
  const entry: LocalAutosave = { doc: s.doc, savedAt: Date.now(), path: s.filePath };
  writeLocal(LS_AUTOSAVE, entry);
  return entry;
}

export async function autosaveNow(): Promise<void> {
  const { editor, api: client, ui } = studio();
  const s = editor.getState();
  if (s.revision === lastAutosavedRevision || s.dragBase) return;
  lastAutosavedRevision = s.revision;
  localAutosave();
  try {
    const r = await client.call('autosave', { doc: s.doc });
    ui.set({ lastAutosave: r.savedAt });
  } catch {
    ui.set({ lastAutosave: Date.now() });
  }
}

export function startAutosave(): void {
  clearInterval(autosaveTimer);
  autosaveTimer = setInterval(() => void autosaveNow(), 3000);
  // the localStorage copy is written synchronously when the page goes away
  const flush = () => {
    const s = studio().editor.getState();
    if (s.dragBase) studio().editor.endDrag();
    if (s.revision !== lastAutosavedRevision) localAutosave();
  };
  window.addEventListener('pagehide', flush);
  window.addEventListener('beforeunload', flush);
}

/**
 * On start: reopen the last file (if any), then offer an autosave that is newer than the
 * last save (the host's slot or the localStorage copy, whichever is newer).
 */
export async function restoreOnStart(): Promise<void> {
  const { api: client, ui } = studio();
  const lastSave = readLocal(LS_LASTSAVE, LastSaveSchema);
  const local = readLocal(LS_AUTOSAVE, LocalAutosaveSchema);
  const discarded = readLocal(LS_DISCARDED, z.number()) ?? 0;
  let host: { doc: GraphDocument; savedAt: number } | null = null;
  try {
    const r = await client.call('restoreAutosave', {});
    if (r) {
      const d = asDocument(r.doc);
      if (d.doc) host = { doc: d.doc, savedAt: r.savedAt };
    }
  } catch {
    /* the local copy may still be there */
  }
  if (lastSave?.path) {
    try {
      const res = await client.call('openFile', { path: lastSave.path });
      if (res) rememberHandle(res);
      const d = res && asDocument(res.doc);
      if (res && d?.doc) studio().editor.load(d.doc, { filePath: res.path });
    } catch {
      /* the file moved: the autosave offer below still applies */
    }
  }
  // prefer the newer copy; the local one knows the file path
  let best: { doc: GraphDocument; savedAt: number; path: string | null } | null = null;
  if (local) best = local;
  if (host && (!best || host.savedAt > best.savedAt + 1000)) best = { ...host, path: local?.path ?? null };
  const cutoff = Math.max(lastSave?.at ?? 0, discarded);
  const open = studio().editor.getState().doc;
  const sameAsOpen = !!best && JSON.stringify([best.doc.nodes, best.doc.edges, best.doc.meta]) === JSON.stringify([open.nodes, open.edges, open.meta]);
  if (best && best.savedAt > cutoff && best.doc.nodes.length > 0 && !sameAsOpen) {
    ui.set({ restore: best });
  } else if (!lastSave?.path && studio().editor.getState().doc.nodes.length === 0) {
    ui.set({ modal: 'templates' });
  }
  requestFit();
}

export function acceptRestore(): void {
  const { ui } = studio();
  const r = ui.getState().restore;
  if (!r) return;
  loadDocument(r.doc, { filePath: r.path, dirty: true });
  ui.set({ restore: null, modal: null });
  toast('success', `Restored the autosaved graph from ${new Date(r.savedAt).toLocaleTimeString()}`);
}

export function discardRestore(): void {
  const { ui } = studio();
  const r = ui.getState().restore;
  if (r) writeLocal(LS_DISCARDED, r.savedAt);
  ui.set({ restore: null });
}

// ---------------------------------------------------------------- training

/** where a run trains: the app's own backend, or PyTorch on a device */
export type TrainTarget = { backend?: 'torch'; device?: string };

export async function startTraining(steps: number, seed: number, target: TrainTarget = {}): Promise<void> {
  const { editor, training, api: client, ui } = studio();
  const doc = editor.getState().doc;
  const v = validateDoc(doc);
  const errors = v.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    toast('error', `Fix ${errors.length} error${errors.length > 1 ? 's' : ''} before training: ${errors[0]!.nodeId ? `${errors[0]!.nodeId}: ` : ''}${errors[0]!.message}`);
    ui.set({ dockTab: 'diagnostics', dockOpen: true });
    return;
  }
  training.starting(steps);
  try {
    // short runs report samples more often, so the plots move from the start
    const sampleEvery = Math.max(20, Math.min(250, Math.round(steps / 10)));
    const logEvery = Math.max(1, Math.min(10, Math.round(steps / 100)));
    const filePath = editor.getState().filePath;
    // relative CSV paths resolve against the graph's folder
    const r = await client.call('startTraining', { doc, steps, seed, sampleEvery, logEvery, ...target, ...(filePath && { path: fileRef(filePath) }) });
    training.started(r.runId, r.runDir);
    setStatus(`Training run ${r.runId} started`);
  } catch (err) {
    training.failed(errorMessage(err));
    toast('error', `Could not start training: ${errorMessage(err)}`);
  }
}

export async function controlTraining(kind: 'pause' | 'resume' | 'stop'): Promise<void> {
  const { training, api: client } = studio();
  const runId = training.getState().runId;
  if (!runId) return;
  try {
    if (kind === 'pause') await client.call('pauseTraining', { runId });
    else if (kind === 'resume') await client.call('resumeTraining', { runId });
    else {
      training.setStatus('stopping');
      await client.call('stopTraining', { runId });
    }
  } catch (err) {
    toast('error', `Could not ${kind} the run: ${errorMessage(err)}`);
  }
}
