/**
 * The graph canvas (React Flow). The GraphDocument in the editor store is the source of
 * truth; React Flow nodes and edges are derived from it (canvas/flowElements.ts: objects
 * reused when nothing on them changed, so memoised nodes do not re-render), and React
 * Flow's changes are turned back into document edits (canvas/useGraphChanges.ts).
 */
import { Background, BackgroundVariant, Controls, ReactFlow, useReactFlow } from '@xyflow/react';
import { useMemo, useRef } from 'react';
import { useEditor } from '../model/store';
import { useStore } from '../model/ui';
import { nodeChecks, validateDoc } from '../model/validation';
import { studio } from '../studio';
import { CanvasMiniMap, EmptyCanvas } from './canvas/CanvasParts';
import { ConnectHint } from './canvas/ConnectHint';
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
  const v = useMemo(() => validateDoc(doc), [doc]);
  const checks = useMemo(() => nodeChecks(v), [v]);
  const wrapper = useRef<HTMLDivElement>(null);

  const flow = useFlowElements(doc, selection, v, checks);
  const changes = useGraphChanges(editor, flow);
  const rules = useConnectionRules(editor, ui);
  const pointer = useDropAndSearch(rf, editor, ui);
  const { onMove } = useCanvasView(rf, wrapper, fitSeq, doc.nodes.length, flow.nodes);

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
      <ReactFlow
        nodes={flow.nodes}
        edges={flow.edges}
        nodeTypes={nodeTypes}
        {...changes}
        {...rules}
        onPaneClick={pointer.onPaneClick}
        onMove={onMove}
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
        <CanvasMiniMap />
        <ConnectHint />
      </ReactFlow>
      {doc.nodes.length === 0 ? <EmptyCanvas onBrowse={() => ui.set({ modal: 'templates' })} /> : null}
    </div>
  );
}
