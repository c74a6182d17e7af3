/**
 * Compare view for educators: two graphs side by side, nodes coloured by role, and a
 * generated summary of their structural differences.
 */
import { ReactFlow, ReactFlowProvider, Background, BackgroundVariant, useNodesInitialized, useReactFlow, type Edge as FlowEdge, type Node as FlowNode } from '@xyflow/react';
import { useEffect, useMemo, useState } from 'react';
import type { GraphDocument } from '../../src-main/document/schema';
import { analyze, compareSummary, describeObjectives, type Analysis } from '../model/compare';
import { equationOffsets } from '../model/equationLayout';
import { PORT_COLOR, ROLE_COLOR, ROLE_LABEL, specOf } from '../model/registry';
import { useEditor } from '../model/store';
import { resolveTheme } from '../model/prefs';
import { useStore } from '../model/ui';
import { nodeChecks, noCheck, validateDoc } from '../model/validation';
import { loadTemplates, studio, toggleEquations } from '../studio';
import { GenNode } from './GenNode';
import { NodeDisplayContext } from './canvas/NodeDisplay';
import { Modal } from './Modal';

const nodeTypes = { gen: GenNode };

function Pane({ doc, equations, colorMode }: { doc: GraphDocument; equations: boolean; colorMode: 'light' | 'dark' }) {
  const display = useMemo(() => ({ equations }), [equations]);
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
      return { id: `e${i}`, source: e.from[0], sourceHandle: e.from[1], target: e.to[0], targetHandle: e.to[1], style: { stroke: kind ? PORT_COLOR[kind] : 'var(--edge-default)', strokeWidth: 2 } };
    });
    return { nodes, edges };
  }, [doc]);
  return (
    <ReactFlowProvider>
      <NodeDisplayContext.Provider value={display}>
        <PaneFlow key={`${doc.meta.title ?? ''}:${equations}`} base={nodes} edges={edges} equations={equations} colorMode={colorMode} />
      </NodeDisplayContext.Provider>
    </ReactFlowProvider>
  );
}

/** one pane's flow; equations on, nodes that grew push the ones below them down, then the view fits again */
function PaneFlow({ base, edges, equations, colorMode }: { base: FlowNode[]; edges: FlowEdge[]; equations: boolean; colorMode: 'light' | 'dark' }) {
  const rf = useReactFlow();
  const initialized = useNodesInitialized();
  const [offsets, setOffsets] = useState<ReadonlyMap<string, number>>(() => new Map());
  useEffect(() => {
    if (!equations || !initialized) return;
    const boxes = base.map((n) => {
      const m = rf.getInternalNode(n.id)?.measured;
      return { id: n.id, x: n.position.x, y: n.position.y, width: m?.width ?? 232, height: m?.height ?? 120 };
    });
    setOffsets(equationOffsets(boxes));
    const t = setTimeout(() => void rf.fitView({ padding: 0.1 }), 30);
    return () => clearTimeout(t);
  }, [initialized, equations, base, rf]);
  const nodes = useMemo(() => (offsets.size ? base.map((n) => (offsets.has(n.id) ? { ...n, position: { x: n.position.x, y: n.position.y + offsets.get(n.id)! } } : n)) : base), [base, offsets]);
  return (
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        colorMode={colorMode}
        fitView
        fitViewOptions={{ padding: 0.1 }}
        minZoom={0.05}
        proOptions={{ hideAttribution: true }}
      >
        <Background variant={BackgroundVariant.Dots} gap={22} size={1} color="var(--canvas-dots)" />
      </ReactFlow>
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
  const equations = useStore(ui, (s) => s.equations);
  const colorMode = useStore(ui, (s) => resolveTheme(s.theme, s.systemDark));
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
          <span className="spacer" />
          <label className="check" title="Equations on the nodes (E)">
            <input type="checkbox" checked={equations} onChange={toggleEquations} data-testid="compare-equations" /> Equations on the nodes
          </label>
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
              <div className="compare-canvas">{doc ? <Pane doc={doc} equations={equations} colorMode={colorMode} /> : <div className="muted pad">choose a graph</div>}</div>
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
