/**
 * What the document layer needs to know about node types. The real registry
 * (nodes/index.ts) satisfies this structurally: a NodeSpec has all these fields.
 */
import type { z } from 'zod';

export interface NodeTypeInfo {
  /** current version of the node type; documents with a higher one are refused */
  version: number;
  /** zod schema of the params, with defaults */
  params: z.ZodType;
  /** upgrades params written by version `fromVersion` to `fromVersion + 1` */
  migrate?: (params: Record<string, unknown>, fromVersion: number) => Record<string, unknown>;
  /** input port names (values are not read here) */
  inputs: Record<string, unknown>;
  /** output port names (values are not read here) */
  outputs: Record<string, unknown>;
}

export interface NodeTypeLookup {
  get(type: string): NodeTypeInfo | undefined;
  /** all registered type names (used for "did you mean" suggestions) */
  types(): readonly string[];
}

/** A lookup over a list of specs that carry their `type` (e.g. NodeSpec[]). */
export function createNodeTypeLookup(specs: Iterable<NodeTypeInfo & { type: string }>): NodeTypeLookup {
  const byType = new Map<string, NodeTypeInfo>();
  for (const spec of specs) {
    if (byType.has(spec.type)) throw new Error(`node type "${spec.type}" is registered twice`);
    byType.set(spec.type, spec);
  }
  return {
    get: (type) => byType.get(type),
    types: () => [...byType.keys()],
  };
}
