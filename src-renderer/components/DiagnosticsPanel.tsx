/** Every diagnostic of the graph; a click selects and centres the node it names; an obvious fix has a button that applies it. */
import { useMemo } from 'react';
import { applyFix, suggestFixes, type Fix } from '../model/fixes';
import { structureOf, useEditor, type GraphDocument } from '../model/store';
import { validateDoc, type Diagnostic } from '../model/validation';
import { studio } from '../studio';
import { canvas } from './Canvas';

/** "Fix: [set prior.dim to 2] or [set encoder.latentDim to 3]": each button one undo step */
export function FixButtons({ doc, d }: { doc: GraphDocument; d: Diagnostic }) {
  const fixes = useMemo(() => suggestFixes(doc, d), [doc, d]);
  if (!fixes.length) return null;
  const apply = (f: Fix) => {
    const { editor, ui } = studio();
    applyFix(editor, f);
    ui.set({ status: `Fixed: ${f.label} (Ctrl+Z undoes it)` });
  };
  return (
    <div className="diag-fix" data-testid="diag-fix">
      <span className="diag-fix-label">Fix:</span>
      {fixes.map((f, i) => (
        <span key={`${f.nodeId}.${f.param}`} className="diag-fix-item">
          {i > 0 ? <span className="muted"> or </span> : null}
          <button className="fix-button" onClick={() => apply(f)} data-fix={`${f.nodeId}.${f.param}=${f.to}`} title={`${f.nodeId}.${f.param} is ${f.from}; set it to ${f.to}`}>
            {f.label}
          </button>
        </span>
      ))}
    </div>
  );
}

export function DiagnosticsPanel() {
  const { editor } = studio();
  const doc = useEditor(editor, (s) => structureOf(s.doc));
  const v = useMemo(() => validateDoc(doc), [doc]);
  const list = [...v.diagnostics].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  if (!list.length) return <div className="diag-empty" data-testid="diagnostics">✔ No problems: the graph type-checks, shapes agree, every network has an objective.</div>;
  return (
    <div className="diag-list" data-testid="diagnostics">
      {list.map((d, i) => (
        <div key={i} className="diag-item" data-code={d.code} data-node={d.nodeId ?? ''}>
          <button
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
          <FixButtons doc={doc} d={d} />
        </div>
      ))}
    </div>
  );
}
