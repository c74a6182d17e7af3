/**
 * ValidatedGraph -> Program: who owns which parameters, which objectives train which
 * networks with which optimiser, which samplers and evaluators exist. The Program prints
 * itself (`programToString`) and is snapshot-tested for every template.
 */
import type { Init, ParamSpec } from '../../nodes/core/ops';
import { formatShape, type PortShape } from '../../nodes/core/ports';
import type { OptimizerConfig } from '../../nodes/core/objective';
import type { EvaluatorDecl } from '../../nodes/core/defineNode';
import { formatDiagnostic } from '../graph/diagnostics';
import type { PortRef, ValidatedGraph } from '../graph/validate';
import { Runner } from './execute';

export interface NetworkInfo {
  nodeId: string;
  type: string;
  params: ParamSpec[];
  size: number;
}

export interface ObjectiveProgram {
  nodeId: string;
  type: string;
  title: string;
  trains: string[];
  paramNames: string[];
  optimizer: OptimizerConfig;
  stepsPerRound: number;
  order: number;
}

export interface SamplerProgram {
  nodeId: string;
  type: string;
  shape: number[];
}

export interface DataProgram {
  nodeId: string;
  dataset: string;
  csvPath?: string;
  dim: number;
}

export type Evaluator =
  /** `objective`: the node that declared it */
  | { kind: 'nll'; objective: string; dist: PortRef; data: string }
  | { kind: 'terms'; objective: string; metric: string; sum: string[]; report: string[] }
  /**
   * importance-sampled held-out NLL (src-main/eval/iwae.ts): the values driving the
   * objective's x, q, prior and px inputs, and `z`, the latent that drives the node producing
   * px (a draw from q, replaced by the K = `samples` draws)
   */
  | { kind: 'iwae'; objective: string; metric: string; samples: number; rows: number; data: string; x: PortRef; q: PortRef; prior: PortRef; px: PortRef; z: PortRef }
  /** held-out NLL of an RBM by AIS (src-main/eval/ais.ts): `rbm` drives the objective's RBM input */
  | { kind: 'ais'; objective: string; metric: string; rbm: PortRef; data: string; betas: number; chains: number }
  | { kind: 'samples'; sampler: string; data: string };

export interface Program {
  graph: ValidatedGraph;
  params: ParamSpec[];
  networks: NetworkInfo[];
  objectives: ObjectiveProgram[];
  samplers: SamplerProgram[];
  data: DataProgram[];
  evaluators: Evaluator[];
}

export class CompileError extends Error {}

/** an Ops whose every method returns an inert token: builds only declare parameters */
const recordingOps = new Proxy({} as any, { get: (_t, k) => (k === 'name' ? 'record' : () => ({})) });

export function compile(graph: ValidatedGraph): Program {
  if (!graph.ok) {
    const errs = graph.diagnostics.filter((d) => d.severity === 'error');
    throw new CompileError(`the graph has ${errs.length} error(s):\n${errs.map(formatDiagnostic).join('\n')}`);
  }
  const params: ParamSpec[] = [];
  const seen = new Set<string>();
  new Runner(graph, recordingOps, {
    param(name: string, shape: number[], init: Init) {
      if (!seen.has(name)) {
        seen.add(name);
        params.push({ name, shape, init });
      }
      return {};
    },
    // node state and EMA shadows are not parameters: the recorder only skips them
    state: () => ({}),
    ema: () => ({}),
  });
  const owner = (p: ParamSpec) => p.name.slice(0, p.name.indexOf('/'));
  const networks: NetworkInfo[] = graph.order
    .filter((id) => graph.nodes.get(id)!.spec.role === 'network')
    .map((id) => {
      const ps = params.filter((p) => owner(p) === id);
      return { nodeId: id, type: graph.nodes.get(id)!.type, params: ps, size: ps.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0) };
    });
  const position = new Map(graph.order.map((id, i) => [id, i]));
  const objectives: ObjectiveProgram[] = graph.objectives
    .map((o) => {
      const n = graph.nodes.get(o.nodeId)!;
      return {
        nodeId: o.nodeId,
        type: n.type,
        title: n.spec.title,
        trains: o.trains,
        paramNames: params.filter((p) => o.trains.includes(owner(p))).map((p) => p.name),
        optimizer: n.params.optimizer,
        stepsPerRound: n.params.stepsPerRound,
        order: n.params.order,
      };
    })
    .sort((a, b) => a.order - b.order || position.get(a.nodeId)! - position.get(b.nodeId)!);
  const samplers: SamplerProgram[] = graph.samplers.map((id) => {
    const n = graph.nodes.get(id)!;
    const s = n.outShapes.samples as Extract<PortShape, { kind: 'Tensor' }>;
    return { nodeId: id, type: n.type, shape: s.shape };
  });
  const data: DataProgram[] = graph.order
    .filter((id) => graph.nodes.get(id)!.spec.role === 'data')
    .map((id) => {
      const n = graph.nodes.get(id)!;
      const x = n.outShapes.x as Extract<PortShape, { kind: 'Tensor' }>;
      return { nodeId: id, dataset: n.params.dataset, ...(n.params.dataset === 'csv' && { csvPath: n.params.csvPath }), dim: x.shape[0]! };
    });
  const evaluators: Evaluator[] = [];
  const firstData = data[0]?.nodeId;
  // what each node declares it can be evaluated by (held-out NLL, an objective's loss terms,
  // an importance-sampled NLL)
  const objectiveIds = new Set(objectives.map((o) => o.nodeId));
  for (const id of graph.order) {
    const n = graph.nodes.get(id)!;
    for (const e of n.spec.evaluators ?? []) {
      if (e.kind === 'nll') {
        const dist = n.inputs[e.dist] ?? (n.outShapes[e.dist]?.kind === 'Dist' ? { node: id, port: e.dist } : undefined);
        const x = e.data !== undefined ? n.inputs[e.data]?.node : firstData;
        if (x && graph.nodes.get(x)!.spec.role !== 'data') {
          // a model of features another network computes (a VQ-VAE's codes): its held-out NLL is
          // the objective's own term, evaluated on held-out data through that network
          if (objectiveIds.has(id)) evaluators.push({ kind: 'terms', objective: id, metric: 'nll', sum: ['nll'], report: [] });
        } else if (dist && x && !evaluators.some((v) => v.kind === 'nll' && v.dist.node === dist.node && v.dist.port === dist.port)) {
          evaluators.push({ kind: 'nll', objective: id, dist, data: x });
        }
      } else if (e.kind === 'iwae') {
        const iw = objectiveIds.has(id) ? iwaeRefs(graph, id, e) : undefined;
        // held-out rows of the data node driving x (else the graph's first)
        const rowsOf = iw && graph.nodes.get(iw.x.node)!.spec.role === 'data' ? iw.x.node : firstData;
        if (iw && rowsOf) evaluators.push({ kind: 'iwae', objective: id, metric: e.metric, samples: e.samples, rows: e.rows, data: rowsOf, ...iw });
      } else if (e.kind === 'ais') {
        const rbm = n.inputs[e.rbm];
        const x = n.inputs[e.data];
        // an RBM trained on the features of another network (a deep belief net's upper layer) has no held-out rows of its own
        const rowsOf = x ? (graph.nodes.get(x.node)!.spec.role === 'data' ? x.node : undefined) : firstData;
        const num = (k: string, d: number) => (typeof n.params[k] === 'number' ? (n.params[k] as number) : d);
        if (rbm && rowsOf && objectiveIds.has(id)) evaluators.push({ kind: 'ais', objective: id, metric: e.metric, rbm, data: rowsOf, betas: num('aisBetas', 10000), chains: num('aisChains', 100) });
      } else if (objectiveIds.has(id)) evaluators.push({ kind: 'terms', objective: id, metric: e.metric, sum: e.sum, report: e.report });
    }
  }
  if (firstData) for (const s of samplers) evaluators.push({ kind: 'samples', sampler: s.nodeId, data: firstData });
  return { graph, params, networks, objectives, samplers, data, evaluators };
}

/**
 * The refs of an importance-sampling evaluator: the values driving the objective's x, q,
 * prior and px, and the latent z that drives the producer of px. z must be a draw from q:
 * an output of the node producing q, or of a node that q drives. Undefined (no evaluator)
 * when an input is unconnected or no such latent exists.
 */
function iwaeRefs(graph: ValidatedGraph, id: string, e: Extract<EvaluatorDecl, { kind: 'iwae' }>): { x: PortRef; q: PortRef; prior: PortRef; px: PortRef; z: PortRef } | undefined {
  const n = graph.nodes.get(id)!;
  const [x, q, prior, px] = [n.inputs[e.x], n.inputs[e.q], n.inputs[e.prior], n.inputs[e.px]];
  if (!x || !q || !prior || !px) return undefined;
  const producer = graph.nodes.get(px.node)!;
  const fromQ = (r: PortRef) => r.node === q.node || Object.values(graph.nodes.get(r.node)!.inputs).some((u) => u.node === q.node && u.port === q.port);
  const latents = Object.entries(producer.inputs).filter(([port, r]) => {
    const t = producer.spec.inputs[port]?.type;
    return t?.kind === 'Tensor' && t.semantic === 'latent' && fromQ(r);
  });
  if (latents.length !== 1) return undefined;
  return { x, q, prior, px, z: latents[0]![1] };
}

const fmtInit = (i: Init) =>
  i.kind === 'constant' ? `const(${i.value})` : i.kind === 'normal' ? `normal(${i.std})` : i.kind === 'imported' ? `imported(${i.name})` : i.kind;

/** `adam(lr=0.001, betas=0.9/0.999)`, `sgd(lr=0.01, momentum=0.9)`, ...; `, clip=0.01` when weights are clipped */
export function formatOptimizer(opt: OptimizerConfig): string {
  const clip = opt.clipWeights !== undefined ? `, clip=${opt.clipWeights}` : '';
  switch (opt.kind) {
    case 'adam':
      return `adam(lr=${opt.lr}, betas=${opt.beta1}/${opt.beta2}${clip})`;
    case 'sgd':
      return `sgd(lr=${opt.lr}, momentum=${opt.momentum}${clip})`;
    case 'rmsprop':
      return `rmsprop(lr=${opt.lr}, decay=${opt.decay}, momentum=${opt.momentum}, eps=${opt.epsilon}${clip})`;
    case 'update':
      return `the networks' own update rules (no gradient step${clip})`;
  }
}

export function programToString(p: Program): string {
  const lines: string[] = [];
  const g = p.graph;
  lines.push('program');
  lines.push('  nodes (topological order):');
  for (const id of g.order) {
    const n = g.nodes.get(id)!;
    const ins = Object.entries(n.inputs).map(([port, r]) => `${port}=${r.node}.${r.port}`);
    const outs = Object.entries(n.outShapes).map(([port, s]) => `${port}: ${formatShape(s)}`);
    lines.push(`    ${id} = ${n.type}(${ins.join(', ')}) -> ${outs.join('; ')}`);
  }
  lines.push('  data:');
  for (const d of p.data) lines.push(`    ${d.nodeId}: ${d.dataset}${d.csvPath ? ` (${d.csvPath})` : ''}, dim ${d.dim}`);
  lines.push(`  parameters: ${p.params.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0)} in ${p.params.length} tensors`);
  for (const n of p.networks) {
    lines.push(`    ${n.nodeId} (${n.type}): ${n.size}`);
    for (const s of n.params) lines.push(`      ${s.name} [${s.shape.join(', ')}] ${fmtInit(s.init)}`);
  }
  // trained networks of other graphs: weights loaded from their runs, trained by nothing here
  for (const id of g.order) {
    const ext = g.nodes.get(id)!.external;
    if (!ext) continue;
    const own = p.params.filter((s) => s.name.startsWith(`${id}/`));
    const size = own.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    lines.push(`    ${id} (${ext.type} "${ext.ref.node}" of ${ext.ref.graph}, not trained here): ${size}`);
    for (const s of own) lines.push(`      ${s.name} [${s.shape.join(', ')}] ${fmtInit(s.init)}`);
  }
  lines.push('  round:');
  for (const o of p.objectives) {
    lines.push(`    ${o.nodeId} (${o.type}) x${o.stepsPerRound}: trains ${o.trains.join(', ')} with ${formatOptimizer(o.optimizer)}, ${o.paramNames.length} tensors`);
  }
  lines.push('  samplers:');
  for (const s of p.samplers) lines.push(`    ${s.nodeId} (${s.type}) -> [B, ${s.shape.join(', ')}]`);
  lines.push('  evaluators:');
  for (const e of p.evaluators) {
    lines.push(
      e.kind === 'nll'
        ? `    held-out NLL of ${e.dist.node}.${e.dist.port} on ${e.data}`
        : e.kind === 'terms'
          ? `    held-out ${e.metric} = ${e.sum.join(' + ')} of ${e.objective}`
          : e.kind === 'iwae'
            ? `    held-out ${e.metric} of ${e.objective}: importance-sampled NLL, K = ${e.samples} draws of ${e.z.node}.${e.z.port} from ${e.q.node}.${e.q.port}, up to ${e.rows} rows of ${e.data}`
            : e.kind === 'ais'
              ? `    held-out ${e.metric} of ${e.objective}: mean F(v) + log Z of ${e.rbm.node}.${e.rbm.port}, log Z by AIS (${e.chains} runs, ${e.betas} temperatures), on ${e.data}`
              : `    sample metrics of ${e.sampler} against ${e.data}`,
    );
  }
  return lines.join('\n');
}
