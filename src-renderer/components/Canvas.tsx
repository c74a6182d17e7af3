/**
 * The graph canvas (React Flow). The GraphDocument in the editor store is the source of
 * truth; React Flow nodes and edges are derived from it (objects reused when nothing on
 * them changed, so memoised nodes do not re-render), and React Flow's changes are turned
 * back into document edits.
 */
import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  useConnection,
  useNodesInitialized,
  useReactFlow,
  type Connection,
  type Edge as FlowEdge,
  type EdgeChange,
  type FinalConnectionState,
  type Node as FlowNode,
  type NodeChange,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { NodeInstance } from '../../src-main/document/schema';
import { addNode, connect } from '../model/actions';
import { familyColour, PORT_COLOR, specOf } from '../model/registry';
import { edgeId, structureOf, useEditor } from '../model/store';
import { useStore } from '../model/ui';
import { checkConnection, noCheck, nodeChecks, validateDoc, type NodeCheck } from '../model/validation';
import { studio, toast } from '../studio';
import { FrameNode, type FrameFlowNode } from './FrameNode';
import { GenNode, type GenFlowNode } from './GenNode';

/** module scope: React Flow must see the same object on every render */
const nodeTypes = { gen: GenNode, frame: FrameNode };

export const NODE_MIME = 'application/x-genloom-node';

/** what the rest of the app may ask of the canvas */
export const canvas = {
  fitView: () => {},
  centerOn: (_id: string) => {},
  /** flow coordinates of the viewport centre */
  center: (): { x: number; y: number } => ({ x: 0, y: 0 }),
  /** last pointer position over the canvas, in flow coordinates */
  pointer: null as { x: number; y: number } | null,
};

interface Cached {
  inst: NodeInstance;
  check: NodeCheck;
  selected: boolean;
  w?: number;
  h?: number;
  node: GenFlowNode;
}

const FALLBACK = { width: 250, height: 120 };

function ConnectHint() {
  const conn = useConnection();
  const [pt, setPt] = useState<{ x: number; y: number } | null>(null);
  useEffect(() => {
    if (!conn.inProgress) return;
    const on = (e: MouseEvent) => setPt({ x: e.clientX, y: e.clientY });
    window.addEventListener('mousemove', on);
    return () => window.removeEventListener('mousemove', on);
  }, [conn.inProgress]);
  if (!conn.inProgress || conn.isValid !== false || !conn.toHandle || !pt) return null;
  const from = conn.fromHandle;
  const to = conn.toHandle;
  if (!from || !to) return null;
  const [src, dst] = from.type === 'source' ? [from, to] : [to, from];
  if (src.type !== 'source' || dst.type !== 'target') {
    return (
      <div className="connect-hint" style={{ left: pt.x + 14, top: pt.y + 14 }}>
        connect an output (right side) to an input (left side)
      </div>
    );
  }
  const r = checkConnection(studio().editor.getState().doc, [src.nodeId, src.id ?? ''], [dst.nodeId, dst.id ?? '']);
  if (r.ok) return null;
  return (
    <div className="connect-hint" data-testid="connect-hint" style={{ left: pt.x + 14, top: pt.y + 14 }}>
      Refused: {r.reason}
    </div>
  );
}

export function Canvas() {
  const { editor, ui } = studio();
  const rf = useReactFlow();
  const doc = useEditor(editor, (s) => s.doc);
  const selection = useEditor(editor, (s) => s.selection);
  const fitSeq = useStore(ui, (s) => s.fitSeq);
  const v = useMemo(() => validateDoc(doc), [doc]);
  const checks = useMemo(() => nodeChecks(v), [v]);
  const measured = useRef(new Map<string, { width: number; height: number }>());
  const [measureVersion, setMeasureVersion] = useState(0);
  const cache = useRef(new Map<string, Cached>());
  const edgeCache = useRef(new Map<string, { key: string; edge: FlowEdge }>());
  const wrapper = useRef<HTMLDivElement>(null);

  // ---- derive React Flow nodes from the document
  const frames = useMemo(() => {
    const groups = new Map<string, NodeInstance[]>();
    for (const n of doc.nodes) if (n.ui?.group) (groups.get(n.ui.group) ?? groups.set(n.ui.group, []).get(n.ui.group)!).push(n);
    const out = new Map<string, FrameFlowNode>();
    const sel = new Set(selection.nodes);
    for (const [g, members] of groups) {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (const m of members) {
        const size = measured.current.get(`${m.id}|${m.type}`) ?? FALLBACK;
        const x = m.ui?.x ?? 0;
        const y = m.ui?.y ?? 0;
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x + size.width);
        y1 = Math.max(y1, y + size.height);
      }
      const pad = 24;
      const id = `frame:${g}`;
      out.set(id, {
        id,
        type: 'frame',
        position: { x: x0 - pad, y: y0 - pad - 22 },
        width: x1 - x0 + pad * 2,
        height: y1 - y0 + pad * 2 + 22,
        data: { label: g, count: members.length },
        zIndex: -1,
        selected: sel.has(id),
        dragHandle: '.frame-label',
      });
    }
    return out;
    // measureVersion: frame sizes follow measured node sizes
  }, [doc.nodes, selection.nodes, measureVersion]);

  const nodes = useMemo(() => {
    const sel = new Set(selection.nodes);
    const next = new Map<string, Cached>();
    const out: FlowNode[] = [...frames.values()];
    for (const inst of doc.nodes) {
      const check = checks.get(inst.id) ?? noCheck;
      const selected = sel.has(inst.id);
      const m = measured.current.get(`${inst.id}|${inst.type}`);
      const prev = cache.current.get(inst.id);
      let c: Cached;
      if (prev && prev.inst === inst && prev.check.key === check.key && prev.selected === selected && prev.w === m?.width && prev.h === m?.height) {
        c = prev;
      } else if (prev && prev.inst.type === inst.type && prev.inst.params === inst.params && prev.check.key === check.key && prev.selected === selected && prev.w === m?.width && prev.h === m?.height) {
        // only moved: keep `data` so the memoised node body does not re-render
        c = { ...prev, inst, node: { ...prev.node, position: { x: inst.ui?.x ?? 0, y: inst.ui?.y ?? 0 } } };
        c.node.data = prev.node.data.node === inst ? prev.node.data : { ...prev.node.data, node: inst };
      } else {
        const data = prev && prev.inst === inst && prev.check.key === check.key ? prev.node.data : { node: inst, check, colorBy: 'family' as const };
        c = {
          inst,
          check,
          selected,
          w: m?.width,
          h: m?.height,
          node: { id: inst.id, type: 'gen', position: { x: inst.ui?.x ?? 0, y: inst.ui?.y ?? 0 }, data, selected, ...(m ? { measured: m } : {}) },
        };
      }
      next.set(inst.id, c);
      out.push(c.node);
    }
    cache.current = next;
    return out;
  }, [doc.nodes, checks, selection.nodes, frames, measureVersion]);

  const structure = structureOf(doc);
  const edges = useMemo(() => {
    const doc = structure;
    const types = new Map(doc.nodes.map((n) => [n.id, n.type]));
    const sel = new Set(selection.edges);
    const bad = new Set<string>();
    for (const d of v.diagnostics) if (d.nodeId && d.port && (d.code === 'port-type-mismatch' || d.code === 'multiple-drivers' || d.code === 'shape-mismatch')) bad.add(`${d.nodeId}:${d.port}`);
    const next = new Map<string, { key: string; edge: FlowEdge }>();
    const out: FlowEdge[] = [];
    for (const e of doc.edges) {
      const id = edgeId(e);
      const spec = specOf(types.get(e.from[0]) ?? '');
      const kind = spec?.outputs[e.from[1]]?.type.kind;
      const isBad = bad.has(`${e.to[0]}:${e.to[1]}`);
      const selected = sel.has(id);
      const key = `${kind}|${isBad}|${selected}`;
      const prev = edgeCache.current.get(id);
      const edge =
        prev && prev.key === key
          ? prev.edge
          : {
              id,
              source: e.from[0],
              sourceHandle: e.from[1],
              target: e.to[0],
              targetHandle: e.to[1],
              selected,
              className: `edge-${kind ?? 'unknown'}${isBad ? ' edge-bad' : ''}`,
              style: { stroke: isBad ? '#ff5a5a' : kind ? PORT_COLOR[kind] : '#888', strokeWidth: selected ? 3 : 2, strokeDasharray: isBad ? '6 4' : undefined },
            };
      next.set(id, { key, edge });
      out.push(edge);
    }
    edgeCache.current = next;
    return out;
  }, [structure, selection.edges, v]);

  // ---- changes from React Flow -> document edits
  const onNodesChange = useCallback(
    (changes: NodeChange[]) => {
      const st = editor.getState();
      let sel: Set<string> | null = null;
      const moves = new Map<string, { x: number; y: number }>();
      let dragging = false;
      let dims = false;
      for (const c of changes) {
        if (c.type === 'position') {
          if (c.position) moves.set(c.id, c.position);
          if (c.dragging) dragging = true;
        } else if (c.type === 'select') {
          sel ??= new Set(st.selection.nodes);
          if (c.selected) sel.add(c.id);
          else sel.delete(c.id);
        } else if (c.type === 'dimensions' && c.dimensions) {
          const inst = st.doc.nodes.find((n) => n.id === c.id);
          const key = inst ? `${c.id}|${inst.type}` : c.id;
          const prev = measured.current.get(key);
          if (!prev || prev.width !== c.dimensions.width || prev.height !== c.dimensions.height) {
            measured.current.set(key, { width: c.dimensions.width, height: c.dimensions.height });
            dims = true;
          }
        }
      }
      if (moves.size) {
        const framesNow = framesRef.current;
        const memberMoves = new Map<string, { x: number; y: number }>();
        for (const [id, p] of moves) {
          if (!id.startsWith('frame:')) continue;
          const f = framesNow.get(id);
          if (!f) continue;
          const dx = p.x - f.position.x;
          const dy = p.y - f.position.y;
          for (const n of st.doc.nodes) if (n.ui?.group === id.slice(6) && !moves.has(n.id)) memberMoves.set(n.id, { x: (n.ui?.x ?? 0) + dx, y: (n.ui?.y ?? 0) + dy });
        }
        const recipe = (d: { nodes: { id: string; ui?: { x: number; y: number } }[] }) => {
          for (const n of d.nodes) {
            const p = moves.get(n.id) ?? memberMoves.get(n.id);
            if (p) n.ui = { ...n.ui, x: Math.round(p.x), y: Math.round(p.y) };
          }
        };
        if (dragging) editor.dragTo(recipe);
        else if (st.dragBase) {
          editor.dragTo(recipe);
          editor.endDrag();
        } else editor.commit('Move', recipe);
      }
      if (sel) editor.select({ nodes: [...sel] });
      if (dims) setMeasureVersion((x) => x + 1);
    },
    [editor],
  );
  const framesRef = useRef(frames);
  framesRef.current = frames;

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      let sel: Set<string> | null = null;
      for (const c of changes) {
        if (c.type === 'select') {
          sel ??= new Set(editor.getState().selection.edges);
          if (c.selected) sel.add(c.id);
          else sel.delete(c.id);
        }
      }
      if (sel) editor.select({ edges: [...sel] });
    },
    [editor],
  );

  const isValidConnection = useCallback(
    (c: Connection | FlowEdge) => checkConnection(editor.getState().doc, [c.source, c.sourceHandle ?? ''], [c.target, c.targetHandle ?? '']).ok,
    [editor],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const { replaced } = connect(editor, [c.source, c.sourceHandle ?? ''], [c.target, c.targetHandle ?? '']);
      if (replaced) toast('info', `${c.target}.${c.targetHandle} takes one input: replaced ${replaced.from[0]}.${replaced.from[1]}`);
      else ui.set({ status: `Connected ${c.source}.${c.sourceHandle} → ${c.target}.${c.targetHandle}` });
    },
    [editor, ui],
  );

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid !== false || !state.toHandle || !state.fromHandle) return;
      const [src, dst] = state.fromHandle.type === 'source' ? [state.fromHandle, state.toHandle] : [state.toHandle, state.fromHandle];
      const r =
        src.type === 'source' && dst.type === 'target'
          ? checkConnection(editor.getState().doc, [src.nodeId, src.id ?? ''], [dst.nodeId, dst.id ?? ''])
          : { ok: false, reason: 'connect an output (right side) to an input (left side)' };
      if (r.ok) return;
      const pt = 'clientX' in event ? { x: event.clientX, y: event.clientY } : undefined;
      toast('error', `Connection refused: ${r.reason}`, pt);
    },
    [editor],
  );

  const onNodeDragStop = useCallback(() => editor.endDrag(), [editor]);

  // ---- palette drop and double-click search
  const onDragOver = useCallback((e: React.DragEvent) => {
    if (e.dataTransfer.types.includes(NODE_MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  }, []);
  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const type = e.dataTransfer.getData(NODE_MIME);
      if (!type) return;
      e.preventDefault();
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNode(editor, type, { x: p.x - 120, y: p.y - 20 });
    },
    [rf, editor],
  );
  const onDoubleClick = useCallback(
    (e: React.MouseEvent) => {
      const t = e.target as HTMLElement;
      if (!t.classList.contains('react-flow__pane')) return;
      const flow = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      ui.set({ addPopup: { x: e.clientX, y: e.clientY, flow } });
    },
    [rf, ui],
  );
  const onPointerMove = useCallback(
    (e: React.PointerEvent) => {
      canvas.pointer = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    },
    [rf],
  );

  // ---- fit view when a document is loaded, once its nodes are measured
  const initialized = useNodesInitialized();
  const pendingFit = useRef(0);
  useEffect(() => {
    pendingFit.current = fitSeq;
  }, [fitSeq]);
  useEffect(() => {
    if (!pendingFit.current || !(initialized || doc.nodes.length === 0)) return;
    pendingFit.current = 0;
    void rf.fitView({ padding: 0.15, maxZoom: 1.1 }).then(() => {
      requestAnimationFrame(() => {
        performance.clearMarks('genloom:canvas-painted');
        performance.mark('genloom:canvas-painted');
      });
    });
  }, [initialized, fitSeq, rf, doc.nodes.length, nodes]);

  useEffect(() => {
    canvas.fitView = () => void rf.fitView({ padding: 0.15, maxZoom: 1.1, duration: 250 });
    canvas.centerOn = (id: string) => {
      const n = rf.getInternalNode(id);
      if (!n) return;
      const w = n.measured.width ?? 250;
      const h = n.measured.height ?? 120;
      void rf.setCenter(n.internals.positionAbsolute.x + w / 2, n.internals.positionAbsolute.y + h / 2, { zoom: Math.max(rf.getZoom(), 0.9), duration: 300 });
    };
    canvas.center = () => {
      const r = wrapper.current?.getBoundingClientRect();
      return r ? rf.screenToFlowPosition({ x: r.left + r.width / 2, y: r.top + r.height / 2 }) : { x: 0, y: 0 };
    };
  }, [rf]);

  // level of detail: far out, port labels and params are not drawn (layout is kept, so
  // handles and edges do not move); toggled by a class, no React render
  const far = useRef(false);
  const onMove = useCallback((_e: unknown, vp: { zoom: number }) => {
    const f = vp.zoom < 0.42;
    if (f !== far.current) {
      far.current = f;
      wrapper.current?.classList.toggle('zoom-far', f);
    }
  }, []);

  const onPaneClick = useCallback(() => {
    editor.select({ nodes: [], edges: [] });
    ui.set({ addPopup: null });
  }, [editor, ui]);

  return (
    <div className="canvas" ref={wrapper} onDoubleClick={onDoubleClick} onPointerMove={onPointerMove} onDragOver={onDragOver} onDrop={onDrop} data-testid="canvas">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        onNodeDragStop={onNodeDragStop}
        onPaneClick={onPaneClick}
        onMove={onMove}
        isValidConnection={isValidConnection}
        deleteKeyCode={null}
        zoomOnDoubleClick={false}
        onlyRenderVisibleElements
        minZoom={0.08}
        maxZoom={2.5}
        colorMode="dark"
        connectionRadius={28}
        elevateNodesOnSelect={false}
        multiSelectionKeyCode={['Meta', 'Control']}
        defaultEdgeOptions={{ interactionWidth: 14 }}
        attributionPosition="top-right"
        fitView={false}
      >
        <Background variant={BackgroundVariant.Dots} gap={22} size={1.2} color="#2c3344" />
        <Controls position="bottom-left" showInteractive={false} />
        <MiniMap
          position="bottom-right"
          pannable
          zoomable
          nodeColor={(n) => (n.type === 'frame' ? 'transparent' : familyColour(specOf((n.data as { node?: NodeInstance }).node?.type ?? '')))}
          nodeStrokeColor={(n) => (n.type === 'frame' ? '#5b6478' : 'transparent')}
          maskColor="rgba(10, 12, 18, 0.72)"
          style={{ background: '#151922', width: 180, height: 120 }}
        />
        <ConnectHint />
      </ReactFlow>
      {doc.nodes.length === 0 ? (
        <div className="canvas-empty">
          <div className="canvas-empty-title">An empty canvas</div>
          <div>Drag a node from the palette, double-click here to search for one, or start from a template.</div>
          <button className="primary" onClick={() => ui.set({ modal: 'templates' })}>
            Browse templates
          </button>
        </div>
      ) : null}
    </div>
  );
}
