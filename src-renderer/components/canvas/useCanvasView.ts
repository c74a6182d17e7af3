/**
 * The viewport: fit the view when a document is loaded (once its nodes are measured), bind
 * the `canvas` handle, and the level of detail (far out, port labels and params are not
 * drawn; layout is kept, so handles and edges do not move; toggled by a class, no render).
 */
import { useNodesInitialized, useReactFlow, type Node as FlowNode } from '@xyflow/react';
import { useCallback, useEffect, useRef, type RefObject } from 'react';
import { canvas } from './handle';

/**
 * Fit-view padding in px: the right side keeps the minimap's corner (180 px wide plus its
 * 15 px margin) clear, the left the zoom controls', so no node sits under either after a fit.
 */
export const FIT_PADDING = { top: '40px', bottom: '40px', left: '64px', right: '215px' } as const;
const FIT = { padding: FIT_PADDING, maxZoom: 1.1 };
/** presentation mode: small graphs are shown larger (large type) */
const FIT_PRESENTING = { padding: FIT_PADDING, maxZoom: 1.6 };
const fitOptions = (presenting: boolean) => (presenting ? FIT_PRESENTING : FIT);
const FAR_ZOOM = 0.42;

type Flow = ReturnType<typeof useReactFlow>;

/** fits the view after each `fitSeq` bump, once the nodes are measured; marks the paint for timing */
function useFitOnLoad(rf: Flow, fitSeq: number, nodeCount: number, nodes: FlowNode[], presenting: RefObject<boolean>) {
  const initialized = useNodesInitialized();
  const pendingFit = useRef(0);
  useEffect(() => {
    pendingFit.current = fitSeq;
  }, [fitSeq]);
  useEffect(() => {
    if (!pendingFit.current || !(initialized || nodeCount === 0)) return;
    pendingFit.current = 0;
    const painted = () =>
      requestAnimationFrame(() => {
        performance.clearMarks('genloom:canvas-painted');
        performance.mark('genloom:canvas-painted');
      });
    // with no nodes, React Flow queues a fit until nodes appear: the first node dropped would
    // then be moved away from the drop point and zoomed in. An empty graph gets the plain view.
    if (nodeCount === 0) {
      void rf.setViewport({ x: 0, y: 0, zoom: 1 }).then(painted);
      return;
    }
    void rf.fitView(fitOptions(presenting.current)).then(painted);
  }, [initialized, fitSeq, rf, nodeCount, nodes]);
}

/** binds the `canvas` handle to this viewport */
function useCanvasHandle(rf: Flow, wrapper: RefObject<HTMLDivElement | null>, presenting: RefObject<boolean>) {
  useEffect(() => {
    canvas.fitView = () => {
      if (rf.getNodes().length) void rf.fitView({ ...fitOptions(presenting.current), duration: 250 });
    };
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
  }, [rf, wrapper, presenting]);
}

export function useCanvasView(rf: Flow, wrapper: RefObject<HTMLDivElement | null>, fitSeq: number, nodeCount: number, nodes: FlowNode[], presentation = false) {
  const presenting = useRef(presentation);
  presenting.current = presentation;
  useFitOnLoad(rf, fitSeq, nodeCount, nodes, presenting);
  useCanvasHandle(rf, wrapper, presenting);
  const far = useRef(false);
  const onMove = useCallback(
    (_e: unknown, vp: { zoom: number }) => {
      const f = vp.zoom < FAR_ZOOM;
      if (f !== far.current) {
        far.current = f;
        wrapper.current?.classList.toggle('zoom-far', f);
      }
    },
    [wrapper],
  );
  return { onMove };
}
