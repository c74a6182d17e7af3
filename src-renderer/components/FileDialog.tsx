/** Web mode has no native file dialogs: open / save as by path, with the recent files. */
import { useState } from 'react';
import { useStore } from '../model/ui';
import { useEditor } from '../model/store';
import { openFile, saveFile, studio } from '../studio';
import { Modal } from './Modal';

export function FileDialog({ mode }: { mode: 'open' | 'saveAs' }) {
  const { ui, editor } = studio();
  const recent = useStore(ui, (s) => s.recent);
  const current = useEditor(editor, (s) => s.filePath);
  const title = useEditor(editor, (s) => s.doc.meta.title);
  const suggested = current ?? `${(title ?? 'untitled').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'untitled'}.genloom.json`;
  const [path, setPath] = useState(mode === 'saveAs' ? suggested : '');
  const go = (p: string) => {
    if (!p.trim()) return;
    if (mode === 'open') void openFile(p.trim());
    else void saveFile({ path: p.trim() });
  };
  return (
    <Modal title={mode === 'open' ? 'Open a graph' : 'Save graph as'} onClose={() => ui.set({ modal: null })} width={560}>
      <div className="field">
        <label className="field-label">Path on the host</label>
        <input
          autoFocus
          type="text"
          value={path}
          onChange={(e) => setPath(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && go(path)}
          placeholder="a .json file; relative paths are in the studio's graphs folder"
          aria-label="file path"
          data-testid="file-path"
        />
      </div>
      <div className="modal-actions">
        <button className="primary" onClick={() => go(path)} disabled={!path.trim()} data-testid="file-go">
          {mode === 'open' ? 'Open' : 'Save'}
        </button>
      </div>
      <div className="section-title">Recent files</div>
      {recent.length === 0 ? <div className="muted">none yet</div> : null}
      <ul className="recent">
        {recent.map((r) => (
          <li key={r}>
            <button className="link" onClick={() => (mode === 'open' ? go(r) : setPath(r))}>
              {r}
            </button>
          </li>
        ))}
      </ul>
    </Modal>
  );
}
