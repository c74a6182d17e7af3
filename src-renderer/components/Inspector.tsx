/** Inspector: the selected node's params form, ports and shapes, equation and explanation. */
import { useMemo, useState } from 'react';
import { describePortType } from '../../nodes/core/ports';
import { renameNode, setMeta } from '../model/actions';
import { familyColour, familyLabel, PORT_COLOR, ROLE_LABEL, specOf } from '../model/registry';
import { structureOf, useEditor } from '../model/store';
import { nodeChecks, validateDoc } from '../model/validation';
import { analyze, describeObjectives } from '../model/compare';
import { studio, toast } from '../studio';
import { Katex } from './Katex';
import { ParamForm } from './ParamForm';
import { FixButtons } from './DiagnosticsPanel';
import { CollapseButton, PanelHandle } from './PanelHandle';
import { useStore } from '../model/ui';

function IdEditor({ id }: { id: string }) {
  const [text, setText] = useState(id);
  const [err, setErr] = useState<string>();
  return (
    <div className="id-edit">
      <label className="field-label">id</label>
      <input
        key={id}
        defaultValue={id}
        aria-label="node id"
        onChange={(e) => setText(e.target.value)}
        onBlur={() => {
          const problem = renameNode(studio().editor, id, text.trim());
          setErr(problem);
          if (problem) toast('error', `Cannot rename: ${problem}`);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') e.currentTarget.blur();
        }}
      />
      {err ? <div className="field-err">{err}</div> : null}
    </div>
  );
}

function DocSummary() {
  const { editor } = studio();
  const doc = useEditor(editor, (s) => structureOf(s.doc));
  const a = useMemo(() => analyze(doc), [doc]);
  return (
    <div className="inspector-body">
      <div className="section">
        <div className="field">
          <label className="field-label">Title</label>
          <input type="text" value={doc.meta.title ?? ''} aria-label="graph title" onChange={(e) => setMeta(editor, 'title', e.target.value)} />
        </div>
        <div className="field">
          <label className="field-label">Description</label>
          <textarea rows={4} value={doc.meta.description ?? ''} aria-label="graph description" onChange={(e) => setMeta(editor, 'description', e.target.value)} />
        </div>
      </div>
      <div className="section">
        <div className="section-title">This graph</div>
        <ul className="facts">
          <li>
            <b>{doc.nodes.length}</b> nodes, <b>{doc.edges.length}</b> edges
          </li>
          <li>{describeObjectives(a)}</li>
          <li>Latent: {a.latent.text}</li>
          <li>Likelihood: {a.likelihood.text}</li>
          <li>Sampling: {a.samplers.length ? a.samplers.map((s) => `${s.title} (${s.text})`).join('; ') : 'no sampler'}</li>
        </ul>
      </div>
      <div className="section muted small">
        Select a node to edit its parameters and read its equation. Double-click the canvas to add a node; drag from an output (right) to an input (left) to connect.
      </div>
    </div>
  );
}

export function Inspector() {
  const open = useStore(studio().ui, (s) => s.panels.inspectorOpen);
  if (!open)
    return (
      <aside className="inspector panel-collapsed" aria-label="Inspector (collapsed)">
        <CollapseButton id="inspector" label="inspector" />
        <span className="panel-collapsed-label">Inspector</span>
      </aside>
    );
  return <InspectorOpen />;
}

function InspectorOpen() {
  const { editor } = studio();
  const doc = useEditor(editor, (s) => structureOf(s.doc));
  const selected = useEditor(editor, (s) => s.selection.nodes);
  const real = selected.filter((id) => !id.startsWith('frame:'));
  const v = useMemo(() => validateDoc(doc), [doc]);
  const checks = useMemo(() => nodeChecks(v), [v]);
  const node = real.length === 1 ? doc.nodes.find((n) => n.id === real[0]) : undefined;
  const spec = node && specOf(node.type);

  let body: React.ReactNode;
  if (!node || !spec) {
    body =
      real.length > 1 ? (
        <div className="inspector-body">
          <div className="section">
            <b>{real.length}</b> nodes selected. <span className="muted">Ctrl+G groups them, Delete removes them, Ctrl+C copies them.</span>
          </div>
        </div>
      ) : (
        <DocSummary />
      );
  } else {
    const check = checks.get(node.id);
    // connected is read from the edges: the inferred shapes are missing whenever inference fails
    const connected = new Set(doc.edges.filter((e) => e.to[0] === node.id).map((e) => e.to[1]));
    body = (
      <div className="inspector-body" data-testid="inspector">
        <div className="insp-head" style={{ ['--fam' as string]: familyColour(spec) }}>
          <div className="insp-title">{spec.title}</div>
          <div className="insp-sub">
            <span className="chip" style={{ background: familyColour(spec) }}>
              {familyLabel(spec)}
            </span>
            <span className="chip chip-dim">{ROLE_LABEL[spec.role]}</span>
            <code>{spec.type}</code>
          </div>
          <IdEditor key={node.id} id={node.id} />
        </div>
        {check?.diagnostics.length ? (
          <div className="section">
            {check.diagnostics.map((d, i) => (
              <div key={i} className={`diag-line diag-${d.severity}`}>
                <b>{d.port ? `${d.port}: ` : ''}</b>
                {d.message}
                <FixButtons doc={doc} d={d} />
              </div>
            ))}
          </div>
        ) : null}
        <div className="section">
          <div className="section-title">Parameters</div>
          <ParamForm key={node.id} nodeId={node.id} spec={spec} params={node.params} doc={doc} />
        </div>
        <div className="section">
          <div className="section-title">Ports</div>
          <table className="ports-table">
            <tbody>
              {Object.entries(spec.inputs).map(([p, d]) => (
                <tr key={`i-${p}`} data-port={`in:${p}`}>
                  <td className="muted">in</td>
                  <td>
                    {p}
                    {d.optional ? '?' : ''}
                  </td>
                  <td style={{ color: PORT_COLOR[d.type.kind] }}>{describePortType(d.type)}</td>
                  <td className="mono">{check?.inShapes[p] ?? (connected.has(p) ? 'connected' : d.optional ? 'optional' : 'not connected')}</td>
                </tr>
              ))}
              {Object.entries(spec.outputs).map(([p, d]) => (
                <tr key={`o-${p}`} data-port={`out:${p}`}>
                  <td className="muted">out</td>
                  <td>{p}</td>
                  <td style={{ color: PORT_COLOR[d.type.kind] }}>{describePortType(d.type)}</td>
                  <td className="mono">{check?.outShapes[p] ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="section" data-testid="inspector-equation">
          <div className="section-title">What it computes</div>
          <Katex latex={spec.math.latex} />
          <p className="explain">{spec.math.explain}</p>
        </div>
      </div>
    );
  }
  return (
    <aside className="inspector" aria-label="Inspector">
      <div className="panel-title">
        Inspector
        <CollapseButton id="inspector" label="inspector" />
      </div>
      <PanelHandle id="inspector" label="inspector" />
      {body}
    </aside>
  );
}
