/**
 * A compiled Program as plain data, so that the host that compiled a document can hand
 * the result to the training worker (a worker thread or an Electron utilityProcess)
 * instead of the worker parsing, validating and compiling the same document again.
 *
 * A Program is data except for each graph node's `spec` (a registry entry, with its
 * functions): the wire form drops it and `programFromWire` looks it up again by type. The
 * wire form is checked on arrival like every message: a malformed one is refused with the
 * path of the first problem, and a node type this build does not register is refused by
 * name. Params were parsed by the host (defaults filled in) and are trusted as they are.
 */
import { z } from 'zod';
import type { NodeRegistry } from '../../nodes/index';
import { DIAGNOSTIC_CODES } from '../graph/diagnostics';
import type { GraphNode, ValidatedGraph } from '../graph/validate';
import type { Program } from './compile';

const Shape = z.array(z.number().int().min(0));
const PortRef = z.object({ node: z.string(), port: z.string() });
const PortShape = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('Tensor'), shape: Shape }),
  z.object({ kind: z.literal('Dist'), event: Shape }),
  z.object({ kind: z.literal('Fn'), in: Shape, out: Shape, timeConditioned: z.boolean(), time: z.enum(['discrete', 'continuous']).optional() }),
  z.object({ kind: z.literal('Bijector'), event: Shape }),
  z.object({ kind: z.literal('Schedule'), T: z.number().int() }),
  z.object({ kind: z.literal('Loss') }),
]);
const Init = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('zeros') }),
  z.object({ kind: z.literal('ones') }),
  z.object({ kind: z.literal('constant'), value: z.number() }),
  z.object({ kind: z.literal('glorot') }),
  z.object({ kind: z.literal('normal'), std: z.number() }),
  z.object({ kind: z.literal('imported'), source: z.string(), name: z.string() }),
]);
const ParamSpec = z.object({ name: z.string(), shape: Shape, init: Init });
const Diagnostic = z.object({
  code: z.enum(Object.keys(DIAGNOSTIC_CODES) as [keyof typeof DIAGNOSTIC_CODES, ...(keyof typeof DIAGNOSTIC_CODES)[]]),
  severity: z.enum(['error', 'warning']),
  nodeId: z.string().optional(),
  port: z.string().optional(),
  message: z.string(),
});
const WireNode = z.object({
  id: z.string(),
  type: z.string(),
  params: z.record(z.string(), z.unknown()),
  inputs: z.record(z.string(), PortRef),
  inShapes: z.record(z.string(), PortShape.optional()),
  outShapes: z.record(z.string(), PortShape),
  /** the node of another graph this node stands for (its spec looked up by type) */
  external: z
    .object({
      ref: z.object({ graph: z.string(), node: z.string(), run: z.string() }),
      type: z.string(),
      params: z.unknown(),
      inShapes: z.record(z.string(), PortShape.optional()),
      outShapes: z.record(z.string(), PortShape),
    })
    .optional(),
});
const Optimizer = z.looseObject({ kind: z.enum(['adam', 'sgd', 'rmsprop', 'update']), clipWeights: z.number().optional() });

export const ProgramWire = z.object({
  graph: z.object({
    ok: z.literal(true),
    diagnostics: z.array(Diagnostic),
    order: z.array(z.string()),
    nodes: z.array(WireNode),
    objectives: z.array(z.object({ nodeId: z.string(), trains: z.array(z.string()) })),
    samplers: z.array(z.string()),
  }),
  params: z.array(ParamSpec),
  networks: z.array(z.object({ nodeId: z.string(), type: z.string(), params: z.array(ParamSpec), size: z.number() })),
  objectives: z.array(
    z.object({
      nodeId: z.string(),
      type: z.string(),
      title: z.string(),
      trains: z.array(z.string()),
      paramNames: z.array(z.string()),
      optimizer: Optimizer,
      stepsPerRound: z.number().int().min(1),
      order: z.number().int(),
    }),
  ),
  samplers: z.array(z.object({ nodeId: z.string(), type: z.string(), shape: Shape })),
  data: z.array(z.object({ nodeId: z.string(), dataset: z.string(), csvPath: z.string().optional(), dim: z.number().int() })),
  evaluators: z.array(
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('nll'), objective: z.string(), dist: PortRef, data: z.string() }),
      z.object({ kind: z.literal('terms'), objective: z.string(), metric: z.string(), sum: z.array(z.string()), report: z.array(z.string()) }),
      z.object({ kind: z.literal('iwae'), objective: z.string(), metric: z.string(), samples: z.number().int().min(1), rows: z.number().int().min(1), data: z.string(), x: PortRef, q: PortRef, prior: PortRef, px: PortRef, z: PortRef }),
      z.object({ kind: z.literal('ais'), objective: z.string(), metric: z.string(), rbm: PortRef, data: z.string(), betas: z.number().int().min(1), chains: z.number().int().min(1) }),
      z.object({ kind: z.literal('samples'), sampler: z.string(), data: z.string() }),
    ]),
  ),
});
export type ProgramWire = z.infer<typeof ProgramWire>;

/** the program as plain data (structured-clone and JSON safe) */
export function programToWire(p: Program): ProgramWire {
  const { graph, ...rest } = p;
  const nodes = [...graph.nodes.values()].map(({ spec: _spec, external, ...n }) => {
    if (!external) return n;
    const { spec: _inner, ...ext } = external;
    return { ...n, external: ext };
  });
  return structuredClone({ ...rest, graph: { ok: true as const, diagnostics: graph.diagnostics, order: graph.order, nodes, objectives: graph.objectives, samplers: graph.samplers } }) as ProgramWire;
}

/** the program again, each node's spec looked up by type; a string says what is wrong */
export function programFromWire(value: unknown, registry: NodeRegistry): Program | string {
  const r = ProgramWire.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    return `the compiled program sent to the training worker is malformed at ${i.path.join('.') || '(program)'}: ${i.message}`;
  }
  const w = r.data;
  const nodes = new Map<string, GraphNode>();
  for (const n of w.graph.nodes) {
    const spec = registry.get(n.type);
    if (!spec) return `the compiled program names node type "${n.type}" (node "${n.id}"), which this build does not register`;
    let external: GraphNode['external'];
    if (n.external) {
      const inner = registry.get(n.external.type);
      if (!inner) return `the compiled program's node "${n.id}" stands for a "${n.external.type}" of another graph, which this build does not register`;
      external = { ...n.external, spec: inner };
    }
    nodes.set(n.id, { ...n, spec, ...(external && { external }) } as GraphNode);
  }
  for (const id of w.graph.order) if (!nodes.has(id)) return `the compiled program's order names node "${id}", which it does not contain`;
  const graph: ValidatedGraph = { ...w.graph, nodes };
  return { ...w, graph } as Program;
}
