/**
 * The graph canvas (React Flow). The GraphDocument in the editor store is the source of
 * truth; React Flow nodes and edges are derived from it (canvas/flowElements.ts: objects
 * reused when nothing on them changed, so memoised nodes do not re-render), and React
 * Flow's changes are turned back into document edits (canvas/useGraphChanges.ts).
 */
import { Background, BackgroundVariant, Controls, ReactFlow, useReactFlow } from '@xyflow/react';
import { useCallback, useMemo, useRef } from 'react';
import type { Edge as FlowEdge, Node as FlowNode } from '@xyflow/react';
import { isTyping } from '../model/contextMenu';
import { resolveTheme } from '../model/prefs';
import { useEditor } from '../model/store';
import { useStore } from '../model/ui';
import { nodeChecks, validateDoc } from '../model/validation';
import { studio } from '../studio';
import { CanvasMiniMap, EmptyCanvas } from './canvas/CanvasParts';
import { ConnectHint } from './canvas/ConnectHint';
import { NodeDisplayContext } from './canvas/NodeDisplay';
import { useCanvasView } from './canvas/useCanvasView';
import { useConnectionRules } from './canvas/useConnectionRules';
import { useDropAndSearch } from './canvas/useDropAndSearch';
import { useFlowElements } from './canvas/useFlowElements';
import { useGraphChanges } from './canvas/useGraphChanges';
import { FrameNode } from './FrameNode';
import { GenNode } from './GenNode';

export { canvas, NODE_MIME } from './canvas/handle';

/** module scope: React Flow must see the same object on every render */
const nodeTypes = { gen: GenNode, frame: FrameNode };

export function Canvas() {
  const { editor, ui } = studio();
  const rf = useReactFlow();
  const doc = useEditor(editor, (s) => s.doc);
  const selection = useEditor(editor, (s) => s.selection);
  const fitSeq = useStore(ui, (s) => s.fitSeq);
  const equations = useStore(ui, (s) => s.equations);
  const presentation = useStore(ui, (s) => s.presentation);
  const colorMode = useStore(ui, (s) => resolveTheme(s.theme, s.systemDark));
  const display = useMemo(() => ({ equations }), [equations]);
  const v = useMemo(() => validateDoc(doc), [doc]);
  const checks = useMemo(() => nodeChecks(v), [v]);
  const wrapper = useRef<HTMLDivElement>(null);

  const dragging = useEditor(editor, (s) => s.dragBase !== null);
  const flow = useFlowElements(doc, selection, v, checks, equations, dragging);
  const changes = useGraphChanges(editor, flow);
  const rules = useConnectionRules(editor, ui, rf.screenToFlowPosition);
  const pointer = useDropAndSearch(rf, editor, ui);
  // the right-click menu: on a node (selecting it), an edge or the empty canvas; a field keeps the browser's menu
  const openMenu = useCallback(
    (e: React.MouseEvent | MouseEvent, target: NonNullable<ReturnType<typeof ui.getState>['contextMenu']>['target']) => {
      if (isTyping(e.target)) return;
      e.preventDefault();
      if (target.kind === 'node' && !editor.getState().selection.nodes.includes(target.id)) editor.select({ nodes: [target.id], edges: [] });
      ui.set({ addPopup: null, contextMenu: { x: e.clientX, y: e.clientY, flow: rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }), target } });
    },
    [editor, ui, rf],
  );
  const onNodeContextMenu = useCallback((e: React.MouseEvent, n: FlowNode) => (n.type === 'gen' ? openMenu(e, { kind: 'node', id: n.id }) : openMenu(e, { kind: 'pane' })), [openMenu]);
  const onEdgeContextMenu = useCallback((e: React.MouseEvent, edge: FlowEdge) => openMenu(e, { kind: 'edge', id: edge.id }), [openMenu]);
  const onPaneContextMenu = useCallback((e: React.MouseEvent | MouseEvent) => openMenu(e, { kind: 'pane' }), [openMenu]);
  const { onMove } = useCanvasView(rf, wrapper, fitSeq, doc.nodes.length, flow.nodes, presentation);

  return (
    <div
      className="canvas"
      ref={wrapper}
      onDoubleClick={pointer.onDoubleClick}
      onPointerMove={pointer.onPointerMove}
      onDragOver={pointer.onDragOver}
      onDrop={pointer.onDrop}
      data-testid="canvas"
    >
      <NodeDisplayContext.Provider value={display}>
      <ReactFlow
        nodes={flow.nodes}
        edges={flow.edges}
        nodeTypes={nodeTypes}
        {...changes}
        {...rules}
        onPaneClick={pointer.onPaneClick}
        onNodeContextMenu={onNodeContextMenu}
        onEdgeContextMenu={onEdgeContextMenu}
        onPaneContextMenu={onPaneContextMenu}
        onMove={onMove}
        deleteKeyCode={null}
        zoomOnDoubleClick={false}
        onlyRenderVisibleElements
        minZoom={0.08}
        maxZoom={2.5}
        colorMode={colorMode}
        connectionRadius={28}
        elevateNodesOnSelect={false}
        multiSelectionKeyCode={['Meta', 'Control']}
        defaultEdgeOptions={{ interactionWidth: 14 }}
        attributionPosition="top-right"
        fitView={false}
      >
        <Background variant={BackgroundVariant.Dots} gap={22} size={1.2} color="var(--canvas-dots)" />
        <Controls position="bottom-left" showInteractive={false} />
        <CanvasMiniMap />
        <ConnectHint />
      </ReactFlow>
      </NodeDisplayContext.Provider>
      {doc.nodes.length === 0 ? <EmptyCanvas onBrowse={() => ui.set({ modal: 'templates' })} /> : null}
    </div>
  );
}
