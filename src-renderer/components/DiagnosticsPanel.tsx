/** Every diagnostic of the graph; a click selects and centres the node it names. */
import { useMemo } from 'react';
import { structureOf, useEditor } from '../model/store';
import { validateDoc } from '../model/validation';
import { studio } from '../studio';
import { canvas } from './Canvas';

export function DiagnosticsPanel() {
  const { editor } = studio();
  const doc = useEditor(editor, (s) => structureOf(s.doc));
  const v = useMemo(() => validateDoc(doc), [doc]);
  const list = [...v.diagnostics].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  if (!list.length) return <div className="diag-empty" data-testid="diagnostics">✔ No problems: the graph type-checks, shapes agree, every network has an objective.</div>;
  return (
    <div className="diag-list" data-testid="diagnostics">
      {list.map((d, i) => (
        <button
          key={i}
          className={`diag-row diag-${d.severity}`}
          onClick={() => {
            if (!d.nodeId) return;
            editor.select({ nodes: [d.nodeId], edges: [] });
            canvas.centerOn(d.nodeId);
          }}
        >
          <span className={`sev sev-${d.severity}`}>{d.severity}</span>
          <span className="diag-where">{d.nodeId ? `${d.nodeId}${d.port ? `.${d.port}` : ''}` : 'graph'}</span>
          <span className="diag-msg">{d.message}</span>
          <code className="diag-code">{d.code}</code>
        </button>
      ))}
    </div>
  );
}
