/**
 * Compare view for educators: two graphs side by side, nodes coloured by role, and a
 * generated summary of their structural differences.
 */
import { ReactFlow, ReactFlowProvider, Background, BackgroundVariant, type Edge as FlowEdge, type Node as FlowNode } from '@xyflow/react';
import { useEffect, useMemo, useState } from 'react';
import type { GraphDocument } from '../../src-main/document/schema';
import { analyze, compareSummary, describeObjectives, type Analysis } from '../model/compare';
import { PORT_COLOR, ROLE_COLOR, ROLE_LABEL, specOf } from '../model/registry';
import { useEditor } from '../model/store';
import { useStore } from '../model/ui';
import { nodeChecks, noCheck, validateDoc } from '../model/validation';
import { loadTemplates, studio } from '../studio';
import { GenNode } from './GenNode';
import { Modal } from './Modal';

const nodeTypes = { gen: GenNode };

function Pane({ doc }: { doc: GraphDocument }) {
  const { nodes, edges } = useMemo(() => {
    const checks = nodeChecks(validateDoc(doc));
    const nodes: FlowNode[] = doc.nodes.map((n) => ({
      id: n.id,
      type: 'gen',
      position: { x: n.ui?.x ?? 0, y: n.ui?.y ?? 0 },
      data: { node: n, check: checks.get(n.id) ?? noCheck, colorBy: 'role', readOnly: true },
    }));
    const edges: FlowEdge[] = doc.edges.map((e, i) => {
      const kind = specOf(doc.nodes.find((n) => n.id === e.from[0])?.type ?? '')?.outputs[e.from[1]]?.type.kind;
      return { id: `e${i}`, source: e.from[0], sourceHandle: e.from[1], target: e.to[0], targetHandle: e.to[1], style: { stroke: kind ? PORT_COLOR[kind] : '#888', strokeWidth: 2 } };
    });
    return { nodes, edges };
  }, [doc]);
  return (
    <ReactFlowProvider>
      <ReactFlow
        key={doc.meta.title ?? ''}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        colorMode="dark"
        fitView
        fitViewOptions={{ padding: 0.1 }}
        minZoom={0.05}
        proOptions={{ hideAttribution: true }}
      >
        <Background variant={BackgroundVariant.Dots} gap={22} size={1} color="#2a3040" />
      </ReactFlow>
    </ReactFlowProvider>
  );
}

function Facts({ a }: { a: Analysis }) {
  return (
    <ul className="facts">
      <li>
        <b>Objectives:</b> {describeObjectives(a)}
      </li>
      <li>
        <b>Adversarial:</b> {a.adversarial ? 'yes' : 'no'}
      </li>
      <li>
        <b>Minimises:</b> {a.divergences.length ? a.divergences.join('; ') : 'not stated'}
      </li>
      <li>
        <b>Latent:</b> {a.latent.text}
      </li>
      <li>
        <b>Likelihood:</b> {a.likelihood.kind === 'exact' ? 'exact' : a.likelihood.kind === 'bound' ? 'bound only' : 'none'} — {a.likelihood.text}
      </li>
      <li>
        <b>Sampler:</b> {a.samplers.length ? a.samplers.map((s) => `${s.title}: ${s.text}`).join('; ') : 'none'}
      </li>
    </ul>
  );
}

export function CompareView() {
  const { ui, editor } = studio();
  const templates = useStore(ui, (s) => s.templates);
  const current = useEditor(editor, (s) => s.doc);
  const [left, setLeft] = useState<string>(current.nodes.length ? 'current' : '');
  const [right, setRight] = useState<string>('');
  useEffect(() => {
    void loadTemplates();
  }, []);
  useEffect(() => {
    if (!templates?.length) return;
    setLeft((l) => l || templates[0]!.id);
    setRight((r) => r || (templates.find((t) => t.id !== (left || templates[0]!.id) && t.id !== current.meta.template) ?? templates[1] ?? templates[0])!.id);
  }, [templates, left, current.meta.template]);
  const docOf = (key: string): GraphDocument | undefined => (key === 'current' ? current : templates?.find((t) => t.id === key)?.doc);
  const a = docOf(left);
  const b = docOf(right);
  const aa = useMemo(() => (a ? analyze(a) : undefined), [a]);
  const bb = useMemo(() => (b ? analyze(b) : undefined), [b]);
  const summary = aa && bb ? compareSummary(aa, bb) : [];
  const options = (
    <>
      <option value="current">Current graph{current.meta.title ? ` (${current.meta.title})` : ''}</option>
      {templates?.map((t) => (
        <option key={t.id} value={t.id}>
          {t.title}
        </option>
      ))}
    </>
  );
  return (
    <Modal title="Compare models" onClose={() => ui.set({ modal: null })} wide>
      <div className="compare" data-testid="compare-view">
        <div className="compare-legend">
          Nodes coloured by role:
          {(['data', 'network', 'objective', 'sampler', 'none'] as const).map((r) => (
            <span key={r}>
              <i style={{ background: ROLE_COLOR[r] }} />
              {ROLE_LABEL[r]}
            </span>
          ))}
        </div>
        <div className="compare-panes">
          {[
            [left, setLeft, a, aa] as const,
            [right, setRight, b, bb] as const,
          ].map(([key, set, doc, an], i) => (
            <div className="compare-pane" key={i}>
              <select value={key} onChange={(e) => set(e.target.value)} aria-label={i ? 'right graph' : 'left graph'}>
                {options}
              </select>
              <div className="compare-canvas">{doc ? <Pane doc={doc} /> : <div className="muted pad">choose a graph</div>}</div>
              {an ? <Facts a={an} /> : null}
            </div>
          ))}
        </div>
        <div className="compare-summary" data-testid="compare-summary">
          <div className="section-title">How they differ</div>
          <ul>
            {summary.map((s, i) => (
              <li key={i}>{s}</li>
            ))}
          </ul>
        </div>
      </div>
    </Modal>
  );
}
