/** The document's React Flow nodes (with group frames) and edges, memoised and cached across renders. */
import type { Edge as FlowEdge, Node as FlowNode } from '@xyflow/react';
import { useMemo, useRef, useState, type MutableRefObject } from 'react';
import type { GraphDocument } from '../../../src-main/document/schema';
import type { Selection } from '../../model/store';
import { structureOf } from '../../model/store';
import type { NodeCheck, ValidatedGraph } from '../../model/validation';
import type { FrameFlowNode } from '../FrameNode';
import { deriveEdges, deriveFrames, deriveNodes, type CachedEdge, type CachedNode, type Measured } from './flowElements';

export interface FlowElements {
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** the current frames (read by the node-change handler) */
  framesRef: MutableRefObject<Map<string, FrameFlowNode>>;
  /** measured node sizes, updated in place by the node-change handler */
  measured: MutableRefObject<Measured>;
  /** call after `measured` changed: frames follow measured node sizes */
  remeasured(): void;
}

export function useFlowElements(doc: GraphDocument, selection: Selection, v: ValidatedGraph, checks: Map<string, NodeCheck>): FlowElements {
  const measured = useRef<Measured>(new Map());
  const [measureVersion, setMeasureVersion] = useState(0);
  const cache = useRef(new Map<string, CachedNode>());
  const edgeCache = useRef(new Map<string, CachedEdge>());

  // measureVersion: frame sizes follow measured node sizes
  const frames = useMemo(() => deriveFrames(doc.nodes, selection.nodes, measured.current), [doc.nodes, selection.nodes, measureVersion]);
  const framesRef = useRef(frames);
  framesRef.current = frames;

  const nodes = useMemo(() => {
    const r = deriveNodes(doc.nodes, checks, selection.nodes, measured.current, frames, cache.current);
    cache.current = r.cache;
    return r.nodes;
  }, [doc.nodes, checks, selection.nodes, frames, measureVersion]);

  const structure = structureOf(doc);
  const edges = useMemo(() => {
    const r = deriveEdges(structure, selection.edges, v.diagnostics, edgeCache.current);
    edgeCache.current = r.cache;
    return r.edges;
  }, [structure, selection.edges, v]);

  const remeasured = useMemo(() => () => setMeasureVersion((x) => x + 1), []);
  return { nodes, edges, framesRef, measured, remeasured };
}
