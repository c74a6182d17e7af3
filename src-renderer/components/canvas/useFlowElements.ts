/** The document's React Flow nodes (with group frames) and edges, memoised and cached across renders. */
import type { Edge as FlowEdge, Node as FlowNode } from '@xyflow/react';
import { useMemo, useRef, useState, type MutableRefObject } from 'react';
import type { GraphDocument } from '../../../src-main/document/schema';
import type { Selection } from '../../model/store';
import { structureOf } from '../../model/store';
import type { NodeCheck, ValidatedGraph } from '../../model/validation';
import type { FrameFlowNode } from '../FrameNode';
import { equationOffsets } from '../../model/equationLayout';
import { deriveEdges, deriveFrames, deriveNodes, measureKey, type CachedEdge, type CachedNode, type Measured, type Offsets } from './flowElements';

export interface FlowElements {
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** the current frames (read by the node-change handler) */
  framesRef: MutableRefObject<Map<string, FrameFlowNode>>;
  /** measured node sizes, updated in place by the node-change handler */
  measured: MutableRefObject<Measured>;
  /** call after `measured` changed: frames follow measured node sizes */
  remeasured(): void;
  /** how far down the view shows each node (equations on); moves read back subtract it */
  offsetsRef: MutableRefObject<Offsets>;
}

const NONE: Offsets = new Map();

export function useFlowElements(doc: GraphDocument, selection: Selection, v: ValidatedGraph, checks: Map<string, NodeCheck>, equations = false, dragging = false): FlowElements {
  const measured = useRef<Measured>(new Map());
  const [measureVersion, setMeasureVersion] = useState(0);
  const cache = useRef(new Map<string, CachedNode>());
  const edgeCache = useRef(new Map<string, CachedEdge>());

  // equations on: nodes that grew push the ones below them down (the view only); held still during a drag
  const offsetsRef = useRef<Offsets>(NONE);
  const offsets = useMemo(() => {
    if (!equations) return NONE;
    if (dragging) return offsetsRef.current;
    return equationOffsets(
      doc.nodes.map((n) => {
        const m = measured.current.get(measureKey(n.id, n.type));
        return { id: n.id, x: n.ui?.x ?? 0, y: n.ui?.y ?? 0, width: m?.width ?? 232, height: m?.height ?? 120 };
      }),
    );
  }, [doc.nodes, equations, dragging, measureVersion]);
  offsetsRef.current = offsets;

  // measureVersion: frame sizes follow measured node sizes
  const frames = useMemo(() => deriveFrames(doc.nodes, selection.nodes, measured.current, offsets), [doc.nodes, selection.nodes, measureVersion, offsets]);
  const framesRef = useRef(frames);
  framesRef.current = frames;

  const nodes = useMemo(() => {
    const r = deriveNodes(doc.nodes, checks, selection.nodes, measured.current, frames, cache.current, offsets);
    cache.current = r.cache;
    return r.nodes;
  }, [doc.nodes, checks, selection.nodes, frames, measureVersion, offsets]);

  const structure = structureOf(doc);
  const edges = useMemo(() => {
    const r = deriveEdges(structure, selection.edges, v.diagnostics, edgeCache.current);
    edgeCache.current = r.cache;
    return r.edges;
  }, [structure, selection.edges, v]);

  const remeasured = useMemo(() => () => setMeasureVersion((x) => x + 1), []);
  return { nodes, edges, framesRef, measured, remeasured, offsetsRef };
}
