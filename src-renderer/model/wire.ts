/**
 * A wire dropped on empty canvas (ComfyUI's habit): the node types that can take the other
 * end, and the edit that adds one there with the wire connected (one undo step).
 */
import type { Draft } from 'immer';
import { canConnect, type PortDecl } from '../../nodes/core/ports';
import type { GraphDocument, NodeInstance } from '../../src-main/document/schema';
import { makeNode } from './actions';
import { searchSpecs, specOf, type AnyNodeSpec } from './registry';
import type { EditorStore } from './store';
import type { WireEnd } from './ui';
import { checkConnection } from './validation';

/** the declaration of the port a wire was dragged from */
export function wirePort(doc: GraphDocument, wire: WireEnd): PortDecl | undefined {
  const n = doc.nodes.find((x) => x.id === wire.nodeId);
  const spec = n && specOf(n.type);
  if (!spec) return undefined;
  return wire.side === 'source' ? spec.outputs[wire.port] : spec.inputs[wire.port];
}

/** the ports of `spec` that could take the other end of the wire: inputs for a dragged output, outputs for a dragged input */
export function compatiblePorts(spec: AnyNodeSpec, dragged: PortDecl, side: WireEnd['side']): string[] {
  const ports = side === 'source' ? spec.inputs : spec.outputs;
  return Object.entries(ports)
    .filter(([, p]) => (side === 'source' ? canConnect(dragged.type, p.type) : canConnect(p.type, dragged.type)).ok)
    .map(([name]) => name);
}

/** the search's hits, keeping only node types with a port for the wire's other end */
export function searchForWire(doc: GraphDocument, wire: WireEnd | undefined, query: string): AnyNodeSpec[] {
  const hits = searchSpecs(query);
  if (!wire) return hits;
  const dragged = wirePort(doc, wire);
  if (!dragged) return [];
  return hits.filter((s) => compatiblePorts(s, dragged, wire.side).length > 0);
}

/** adds a node of `type` at `pos` with the wire connected to its first port that accepts it (one undo step); null if none */
export function addNodeOnWire(store: EditorStore, type: string, pos: { x: number; y: number }, wire: WireEnd): { id: string; port: string } | null {
  const doc = store.getState().doc;
  const spec = specOf(type);
  const dragged = wirePort(doc, wire);
  if (!spec || !dragged) return null;
  const ports = compatiblePorts(spec, dragged, wire.side);
  if (!ports.length) return null;
  const node = makeNode(doc, type, pos);
  // a trial document with the new node: prefer the port whose connection passes every check (shapes too)
  const trial: GraphDocument = { ...doc, nodes: [...doc.nodes, node] };
  const ends = (p: string): [[string, string], [string, string]] => (wire.side === 'source' ? [[wire.nodeId, wire.port], [node.id, p]] : [[node.id, p], [wire.nodeId, wire.port]]);
  const port = ports.find((p) => checkConnection(trial, ...ends(p)).ok) ?? ports[0]!;
  const [from, to] = ends(port);
  store.commit(`Add ${spec.title} and connect`, (d) => {
    d.nodes.push(node as Draft<NodeInstance>);
    // an input takes one driver: the wire replaces whatever drove it
    d.edges = d.edges.filter((e) => !(e.to[0] === to[0] && e.to[1] === to[1]));
    d.edges.push({ from, to });
  });
  store.select({ nodes: [node.id], edges: [] });
  return { id: node.id, port };
}
