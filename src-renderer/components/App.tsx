/** The studio window: toolbar, palette, canvas, inspector, bottom dock, status bar, dialogs. */
import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useLayoutEffect, useMemo } from 'react';
import { deleteSelection, groupSelection, isClip, ungroupSelection } from '../model/actions';
import { doCopy, doPaste, getClip } from './clipboard';
import { ContextMenu, openMenuFromKeyboard } from './ContextMenu';
import { structureOf, useEditor } from '../model/store';
import { lectureAction, nextTheme, resolveTheme, THEME_LABEL } from '../model/prefs';
import { useStore } from '../model/ui';
import { validateDoc } from '../model/validation';
import { loadTemplates, newDocument, openFile, refreshRecent, restoreOnStart, saveFile, setPresentation, setTheme, startAutosave, studio, toast, toggleEquations } from '../studio';
import { AddNodePopup } from './AddNodePopup';
import { Canvas, canvas } from './Canvas';
import { CompareView } from './CompareView';
import { DiagnosticsPanel } from './DiagnosticsPanel';
import { ExportDialog } from './ExportDialog';
import { FileDialog } from './FileDialog';
import { Inspector } from './Inspector';
import { Modal } from './Modal';
import { Palette } from './Palette';
import { PanelHandle } from './PanelHandle';
import { COLLAPSED_WIDTH, type PanelLayout } from '../model/panels';
import { ProgramView } from './ProgramView';
import { HostBanner } from './HostBanner';
import { RestoreBanner } from './RestoreBanner';
import { TemplateGallery } from './TemplateGallery';
import { Toasts } from './Toasts';
import { TrainPanel } from './TrainPanel';

let booted = false;

const isEditable = (t: EventTarget | null) => {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
};

export const SHORTCUTS: [string, string][] = [
  ['Ctrl/Cmd+Z', 'undo'],
  ['Shift+Ctrl+Z, Ctrl+Y', 'redo'],
  ['Delete / Backspace', 'delete the selection'],
  ['Ctrl+C / Ctrl+V', 'copy / paste nodes'],
  ['Ctrl+G / Shift+Ctrl+G', 'group / ungroup'],
  ['Ctrl+A', 'select all'],
  ['Ctrl+S / Shift+Ctrl+S', 'save / save as'],
  ['Ctrl+O', 'open'],
  ['Ctrl+N', 'new graph'],
  ['F', 'fit the view'],
  ['E', 'equations on the nodes, on / off'],
  ['P', 'presentation mode, on / off'],
  ['Esc', 'leave presentation mode'],
  ['double-click canvas', 'search and add a node'],
  ['drop a wire on the canvas', 'search the node types that fit it'],
  ['right-click, Shift+F10', 'menu on a node, an edge or the canvas'],
  ['Shift+drag', 'box-select'],
];

function useShortcuts() {
  useEffect(() => {
    const { editor, ui } = studio();
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      const editable = isEditable(e.target);
      // file shortcuts work everywhere
      if (mod && k === 's') {
        e.preventDefault();
        void saveFile({ saveAs: e.shiftKey });
        return;
      }
      if (mod && k === 'o') {
        e.preventDefault();
        void openFile();
        return;
      }
      if (mod && k === 'n') {
        e.preventDefault();
        newDocument();
        return;
      }
      if (editable) return;
      const modal = ui.getState().modal;
      const lecture = lectureAction(e, ui.getState().presentation);
      // a dialog keeps its keys; the compare view's nodes show equations too
      if (lecture && (!modal || (modal === 'compare' && lecture === 'toggle-equations'))) {
        e.preventDefault();
        if (lecture === 'toggle-equations') toggleEquations();
        else setPresentation(lecture === 'toggle-presentation' ? !ui.getState().presentation : false);
        return;
      }
      if (modal) return;
      // the context menu from the keyboard: the selected node's, else the canvas's
      if (e.key === 'ContextMenu' || (e.shiftKey && e.key === 'F10')) {
        e.preventDefault();
        openMenuFromKeyboard();
        return;
      }
      if (mod && k === 'z' && !e.shiftKey) {
        e.preventDefault();
        if (!editor.undo()) ui.set({ status: 'Nothing to undo' });
      } else if (mod && ((k === 'z' && e.shiftKey) || k === 'y')) {
        e.preventDefault();
        if (!editor.redo()) ui.set({ status: 'Nothing to redo' });
      } else if (!mod && (e.key === 'Delete' || e.key === 'Backspace')) {
        e.preventDefault();
        const n = deleteSelection(editor);
        if (n) ui.set({ status: `Deleted ${n} item${n > 1 ? 's' : ''}` });
      } else if (mod && k === 'c') {
        doCopy();
      } else if (mod && k === 'v') {
        if (getClip()) {
          e.preventDefault();
          doPaste();
        }
      } else if (mod && k === 'g') {
        e.preventDefault();
        if (e.shiftKey) ungroupSelection(editor);
        else if (!groupSelection(editor)) ui.set({ status: 'Select nodes to group' });
      } else if (mod && k === 'a') {
        e.preventDefault();
        editor.select({ nodes: editor.getState().doc.nodes.map((n) => n.id), edges: [] });
      } else if (!mod && !e.altKey && k === 'f') {
        e.preventDefault();
        canvas.fitView();
      } else if (e.key === 'Escape') {
        editor.select({ nodes: [], edges: [] });
        ui.set({ addPopup: null, contextMenu: null });
      }
    };
    // the system clipboard carries a JSON copy, so nodes paste between windows too
    const onCopy = (e: ClipboardEvent) => {
      const clip = getClip();
      if (isEditable(e.target) || !clip) return;
      e.clipboardData?.setData('text/plain', JSON.stringify(clip));
      e.preventDefault();
    };
    const onPaste = (e: ClipboardEvent) => {
      if (isEditable(e.target)) return;
      const text = e.clipboardData?.getData('text/plain');
      if (!text) return;
      try {
        const v: unknown = JSON.parse(text);
        if (isClip(v)) {
          e.preventDefault();
          doPaste(v);
        }
      } catch {
        /* not ours */
      }
    };
    window.addEventListener('keydown', onKey);
    document.addEventListener('copy', onCopy);
    document.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('keydown', onKey);
      document.removeEventListener('copy', onCopy);
      document.removeEventListener('paste', onPaste);
    };
  }, []);
}

function Toolbar() {
  const { editor, ui } = studio();
  const title = useEditor(editor, (s) => s.doc.meta.title ?? 'Untitled graph');
  const filePath = useEditor(editor, (s) => s.filePath);
  const dirty = useEditor(editor, (s) => s.revision !== s.savedRevision);
  const canUndo = useEditor(editor, (s) => s.past.length > 0);
  const canRedo = useEditor(editor, (s) => s.future.length > 0);
  const undoLabel = useEditor(editor, (s) => s.past[s.past.length - 1]?.label);
  const redoLabel = useEditor(editor, (s) => s.future[s.future.length - 1]?.label);
  const recent = useStore(ui, (s) => s.recent);
  return (
    <header className="toolbar">
      <div className="brand">
        <span className="logo">◈</span> Genloom
      </div>
      <div className="tb-group">
        <button onClick={newDocument} title="New graph (Ctrl+N)">
          New
        </button>
        <button onClick={() => void openFile()} title="Open (Ctrl+O)">
          Open…
        </button>
        <button onClick={() => void saveFile()} title="Save (Ctrl+S)" data-testid="save">
          Save
        </button>
        <button onClick={() => void saveFile({ saveAs: true })} title="Save as (Shift+Ctrl+S)">
          Save as…
        </button>
        <select
          className="recent-select"
          value=""
          onFocus={() => void refreshRecent()}
          onMouseDown={() => void refreshRecent()}
          onChange={(e) => e.target.value && void openFile(e.target.value)}
          aria-label="Recent files"
        >
          <option value="">Recent…</option>
          {recent.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </div>
      <div className="tb-group">
        <button onClick={() => ui.set({ modal: 'templates' })} data-testid="open-templates">
          Templates
        </button>
        <button onClick={() => ui.set({ modal: 'compare' })} data-testid="open-compare">
          Compare
        </button>
      </div>
      <div className="tb-group">
        <button onClick={() => editor.undo()} disabled={!canUndo} title={`Undo ${undoLabel ?? ''} (Ctrl+Z)`} data-testid="undo">
          ↶ Undo
        </button>
        <button onClick={() => editor.redo()} disabled={!canRedo} title={`Redo ${redoLabel ?? ''} (Shift+Ctrl+Z)`} data-testid="redo">
          ↷ Redo
        </button>
        <button onClick={() => groupSelection(editor) ?? toast('info', 'Select nodes to group first')} title="Group the selection (Ctrl+G)">
          Group
        </button>
        <button onClick={() => canvas.fitView()} title="Fit view (F)">
          Fit
        </button>
        <button onClick={() => ui.set({ modal: 'help' })} title="Keyboard shortcuts">
          ?
        </button>
      </div>
      <LectureButtons />
      <div className="doc-title" title={filePath ?? 'not saved to a file yet'} data-testid="doc-title">
        {title}
        {dirty ? <span className="dirty" title="unsaved changes (autosaved)"> •</span> : null}
        <span className="doc-path">{filePath ?? 'unsaved'}</span>
      </div>
    </header>
  );
}

/** the lecture toggles: equations on the nodes, presentation mode, the theme */
function LectureButtons() {
  const { ui } = studio();
  const equations = useStore(ui, (s) => s.equations);
  const presentation = useStore(ui, (s) => s.presentation);
  const theme = useStore(ui, (s) => s.theme);
  const shown = useStore(ui, (s) => resolveTheme(s.theme, s.systemDark));
  return (
    <div className="tb-group">
      <button className={equations ? 'toggled' : undefined} aria-pressed={equations} onClick={toggleEquations} title="Equations on the nodes (E)" data-testid="toggle-equations">
        ∑ Equations
      </button>
      <button className={presentation ? 'toggled' : undefined} aria-pressed={presentation} onClick={() => setPresentation(!presentation)} title={presentation ? 'Leave presentation mode (Esc or P)' : 'Presentation mode: large type, high contrast, panels hidden (P)'} data-testid="toggle-presentation">
        {presentation ? 'Exit presentation' : 'Present'}
      </button>
      <button onClick={() => setTheme(nextTheme(theme))} title={`${THEME_LABEL[theme]}${theme === 'system' ? ` (now ${shown})` : ''}: click for ${THEME_LABEL[nextTheme(theme)].toLowerCase()}`} data-testid="toggle-theme" data-theme-pref={theme}>
        {theme === 'system' ? '◐ System' : theme === 'light' ? '☀ Light' : '☾ Dark'}
      </button>
    </div>
  );
}

/** the theme and presentation mode on the root element, where the CSS custom properties live */
function useDocumentLook() {
  const { ui } = studio();
  const theme = useStore(ui, (s) => resolveTheme(s.theme, s.systemDark));
  const presentation = useStore(ui, (s) => s.presentation);
  const equations = useStore(ui, (s) => s.equations);
  // before the paint: no flash of the other theme
  useLayoutEffect(() => {
    const root = document.documentElement;
    root.dataset.theme = theme;
    if (presentation) root.dataset.presentation = '';
    else delete root.dataset.presentation;
    if (equations) root.dataset.equations = '';
    else delete root.dataset.equations;
  }, [theme, presentation, equations]);
}

function StatusBar() {
  const { editor, ui, api } = studio();
  const doc = useEditor(editor, (s) => structureOf(s.doc));
  const sel = useEditor(editor, (s) => s.selection.nodes.length);
  const status = useStore(ui, (s) => s.status);
  const conn = useStore(ui, (s) => s.connection);
  const lastAutosave = useStore(ui, (s) => s.lastAutosave);
  const v = useMemo(() => validateDoc(doc), [doc]);
  const errors = v.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = v.diagnostics.length - errors;
  return (
    <footer className="statusbar">
      <span className="status-text" data-testid="status-text">
        {status}
      </span>
      <span className="spacer" />
      <button className="linkish" onClick={() => ui.set({ dockTab: 'diagnostics', dockOpen: true })} data-testid="diag-count">
        <span className={errors ? 'err' : 'ok'}>{errors} errors</span> · <span className={warnings ? 'warn' : 'ok'}>{warnings} warnings</span>
      </button>
      <span>
        {doc.nodes.length} nodes{sel ? ` · ${sel} selected` : ''}
      </span>
      <span data-testid="autosave-state">
        {api.transport === 'websocket' && conn !== 'open'
          ? 'not saved to the host: edits kept in this browser'
          : lastAutosave
            ? `autosaved ${new Date(lastAutosave).toLocaleTimeString()}`
            : 'autosave on'}
      </span>
      <span className={`conn conn-${conn}`} title={api.transport === 'electron' ? 'Electron bridge' : 'WebSocket to the host'} data-testid="conn">
        ● {api.transport === 'electron' ? 'desktop' : conn === 'open' ? 'connected' : conn === 'connecting' ? 'connecting…' : conn === 'refused' ? 'the host restarted' : 'reconnecting…'}
      </span>
    </footer>
  );
}

function Dock() {
  const { ui, editor } = studio();
  const tab = useStore(ui, (s) => s.dockTab);
  const open = useStore(ui, (s) => s.dockOpen);
  const dockHeight = useStore(ui, (s) => s.panels.dockHeight);
  const doc = useEditor(editor, (s) => structureOf(s.doc));
  const count = useMemo(() => validateDoc(doc).diagnostics.length, [doc]);
  return (
    <section className={`dock${open ? '' : ' dock-closed'}`} style={open ? { height: dockHeight } : undefined}>
      {open ? <PanelHandle id="dock" label="dock" /> : null}
      <div className="dock-tabs">
        {(
          [
            ['train', 'Train'],
            ['diagnostics', `Problems${count ? ` (${count})` : ''}`],
            ['program', 'Program'],
          ] as const
        ).map(([id, label]) => (
          <button key={id} className={`tab${tab === id && open ? ' active' : ''}`} onClick={() => ui.set({ dockTab: id, dockOpen: true })} data-testid={`tab-${id}`}>
            {label}
          </button>
        ))}
        <span className="spacer" />
        <button className="icon" onClick={() => ui.set({ dockOpen: !open })} title={open ? 'Collapse the dock' : 'Expand the dock'} aria-expanded={open} data-testid={open ? 'collapse-dock' : 'expand-dock'}>
          {open ? '▾' : '▴'}
        </button>
      </div>
      {open ? (
        <div className="dock-body">
          <div style={{ display: tab === 'train' ? 'contents' : 'none' }}>
            <TrainPanel />
          </div>
          {tab === 'diagnostics' ? <DiagnosticsPanel /> : null}
          {tab === 'program' ? <ProgramView /> : null}
        </div>
      ) : null}
    </section>
  );
}

function panelVars(p: PanelLayout): React.CSSProperties {
  return {
    ['--palette-w' as string]: `${p.paletteOpen ? p.paletteWidth : COLLAPSED_WIDTH}px`,
    ['--inspector-w' as string]: `${p.inspectorOpen ? p.inspectorWidth : COLLAPSED_WIDTH}px`,
  };
}

function Help() {
  return (
    <Modal title="Keyboard shortcuts" onClose={() => studio().ui.set({ modal: null })} width={480}>
      <table className="metrics">
        <tbody>
          {SHORTCUTS.map(([k, what]) => (
            <tr key={k}>
              <td>
                <kbd>{k}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Modal>
  );
}

export function App() {
  const { ui, api } = studio();
  const modal = useStore(ui, (s) => s.modal);
  const panels = useStore(ui, (s) => s.panels);
  // the panel sizes as custom properties: the stylesheet lays out the grid (and presentation mode overrides it)
  const mainStyle = useMemo(() => panelVars(panels), [panels]);
  useShortcuts();
  useDocumentLook();
  useEffect(() => {
    ui.set({ connection: api.connection() });
    return api.onConnection((c) => ui.set({ connection: c }));
  }, [api, ui]);
  useEffect(() => {
    if (booted) return;
    booted = true;
    void loadTemplates();
    void refreshRecent();
    void restoreOnStart();
    startAutosave();
  }, []);
  return (
    <ReactFlowProvider>
      <div className="app">
        <Toolbar />
        <HostBanner />
        <RestoreBanner />
        <div className="main" style={mainStyle}>
          <Palette />
          <div className="center">
            <Canvas />
            <Dock />
          </div>
          <Inspector />
        </div>
        <StatusBar />
        <AddNodePopup />
        <ContextMenu />
        {modal === 'templates' ? <TemplateGallery /> : null}
        {modal === 'compare' ? <CompareView /> : null}
        {modal === 'export' ? <ExportDialog /> : null}
        {modal === 'open' || modal === 'saveAs' ? <FileDialog mode={modal} /> : null}
        {modal === 'help' ? <Help /> : null}
        <Toasts />
      </div>
    </ReactFlowProvider>
  );
}

