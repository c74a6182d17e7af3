/**
 * Resolving the nodes of other graph documents that a node names (NodeSpec.external: the
 * trained teacher of a distillation). Pure: the host supplies `read`, which turns the
 * written graph reference (a file path or a bundled template's name) into a document
 * (src-main/compile/readGraphFile.ts on disk, the template gallery in the studio).
 *
 * The other document is validated on its own (its externals resolved in turn, to a depth
 * of MAX_DEPTH, so a cycle of documents ends with a clear message); the node must validate
 * there and offer a static network function (its `fn`).
 */
import type { ExternalNode, ExternalRef } from '../../nodes/core/defineNode';
import type { NodeRegistry } from '../../nodes/index';
import { formatDiagnostic } from './diagnostics';
import { validateGraph, type GraphLike, type ValidatedGraph } from './validate';

/** a document read for a graph reference; `where` names it in messages and refs (an absolute path, or `template:NAME`) */
export interface ReadGraphResult {
  doc: GraphLike;
  where: string;
  /** the document's params were parsed already (parseDocument), so validation trusts them */
  parsed?: boolean;
}

/** reads the document a reference names, or says why it cannot */
export type ReadGraph = (graph: string) => ReadGraphResult | string;

/** how deep documents may refer to documents (teacher of a teacher of ...) */
export const MAX_DEPTH = 4;

/** ValidateOptions.resolveExternal over `read`; each document is read and validated once */
export function externalResolver(registry: NodeRegistry, read: ReadGraph, resolveRun: (run: string) => string = (r) => r, depth = 0) {
  const cache = new Map<string, { where: string; graph: ValidatedGraph } | string>();
  const load = (graph: string) => {
    let hit = cache.get(graph);
    if (hit === undefined) {
      const r = read(graph);
      if (typeof r === 'string') hit = r;
      else {
        const inner = depth + 1 < MAX_DEPTH ? externalResolver(registry, read, resolveRun, depth + 1) : () => `documents refer to one another more than ${MAX_DEPTH} deep (a cycle?)`;
        hit = { where: r.where, graph: validateGraph(r.doc, registry, { parsed: r.parsed, resolveExternal: inner }) };
      }
      cache.set(graph, hit);
    }
    return hit;
  };
  return (ref: ExternalRef, nodeId: string): ExternalNode | string => {
    const hit = load(ref.graph);
    if (typeof hit === 'string') return `${nodeId}: cannot read the graph "${ref.graph}": ${hit}`;
    const n = hit.graph.nodes.get(ref.node);
    if (!n) {
      const own = hit.graph.diagnostics.filter((d) => d.nodeId === ref.node && d.severity === 'error');
      if (own.length) return `${nodeId}: the node "${ref.node}" of ${hit.where} does not validate there: ${own.map(formatDiagnostic).join('; ')}`;
      const ids = [...hit.graph.nodes.keys()];
      return `${nodeId}: ${hit.where} has no node "${ref.node}" (its nodes: ${ids.join(', ') || 'none'})`;
    }
    return { ref: { graph: hit.where, node: ref.node, run: resolveRun(ref.run) }, type: n.type, spec: n.spec, params: n.params, inShapes: n.inShapes, outShapes: n.outShapes };
  };
}
