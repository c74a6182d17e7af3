/**
 * ONNX export of trained graphs: the public API.
 *
 *   listTargets(program)                         what the graph can export
 *   exportOnnx(program, weights, target, opts)   the model bytes and its documented inputs/outputs
 *   parityCheck(program, weights, target, opts)  the model run by onnxruntime-node vs the trained
 *                                                graph on tfjs, same inputs and noise
 *
 * Models: IR 8, opset 17, batch dimension free ("N"). Noise modes:
 *   'internal' (default): random numbers are drawn inside the model; a sampler takes `n`
 *     (int64 scalar, the number of samples);
 *   'inputs': every random draw is an input (a prior's draw `z`, a DDPM sampler's `x_T`,
 *     a draw inside the sampling loop `noise` [steps, N, d] whose row k feeds step k,
 *     other draws `eps_<node>` / `u_<node>`), so the same noise can be fed to the trained
 *     graph and the outputs compared exactly.
 * metadata_props: genloom.graph (the graph document), genloom.template,
 * genloom.training_steps, genloom.metrics (JSON), genloom.version, genloom.target,
 * genloom.noise, genloom.inputs / genloom.outputs (JSON IoDoc lists).
 */
import { createRequire } from 'node:module';
import type { Program } from '../compile/compile';
import type { ValidatedGraph } from '../graph/validate';
import { ExportError } from './errors';
import { buildModel, checkParity, weightSource, type BuiltModel, type IoDoc, type ParityOptions, type ParityReport } from './harness';
import type { NoiseMode } from './OnnxOps';
import { resolveTarget, targetRecipe, type ExportTarget } from './targets';

export { ExportError, OnnxUnsupportedError, type ExportErrorCode } from './errors';
export { listTargets, resolveTarget, TARGET_KINDS, type ExportTarget, type TargetKind } from './targets';
export type { IoDoc, ParityReport, OutputParity, Fill } from './harness';
export { PARITY_TOLERANCE } from './harness';
export type { NoiseMode } from './OnnxOps';

export type Weights = ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>;

export const GENLOOM_VERSION: string = (() => {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();

export interface ExportMeta {
  /** the graph document (parsed JSON); default: rebuilt from the compiled graph */
  document?: unknown;
  /** default: document.meta.template */
  template?: string;
  /** training steps of the weights */
  trainingSteps?: number;
  /** metrics at export time (e.g. the last evaluation) */
  metrics?: Record<string, number>;
  /** default: package.json's version */
  genloomVersion?: string;
}

export interface ExportOptions {
  /** default 'internal' */
  noise?: NoiseMode;
  meta?: ExportMeta;
  /** sampler steps (DDIM and other samplers with a `steps` param) */
  steps?: number;
}

export interface ExportResult extends BuiltModel {
  target: ExportTarget;
}

/** a graph document rebuilt from a compiled graph (node params as parsed, no ui) */
export function documentFromGraph(g: ValidatedGraph): unknown {
  const nodes = g.order.map((id) => {
    const n = g.nodes.get(id)!;
    return { id, type: n.type, version: n.spec.version, params: n.params };
  });
  const edges = g.order.flatMap((id) => Object.entries(g.nodes.get(id)!.inputs).map(([port, r]) => ({ from: [r.node, r.port], to: [id, port] })));
  return { format: 'genloom', version: 1, meta: {}, nodes, edges };
}

function metadataOf(program: Program, target: ExportTarget, meta: ExportMeta = {}): Record<string, string> {
  const document = meta.document ?? documentFromGraph(program.graph);
  const docMeta = (document as { meta?: { template?: unknown } } | undefined)?.meta;
  const template = meta.template ?? (typeof docMeta?.template === 'string' ? docMeta.template : '');
  const out: Record<string, string> = {
    'genloom.graph': JSON.stringify(document),
    'genloom.template': template,
    'genloom.version': meta.genloomVersion ?? GENLOOM_VERSION,
    'genloom.target': target.id,
    'genloom.target_title': target.title,
  };
  if (meta.trainingSteps !== undefined) out['genloom.training_steps'] = String(meta.trainingSteps);
  out['genloom.metrics'] = JSON.stringify(meta.metrics ?? {});
  return out;
}

/** records the target as ONNX with the trained weights */
export function exportOnnx(program: Program, weights: Weights, target: string | ExportTarget, opts: ExportOptions = {}): ExportResult {
  const t = resolveTarget(program, target);
  const noise = opts.noise ?? 'internal';
  if (noise !== 'internal' && noise !== 'inputs') throw new ExportError('bad-option', `noise must be "internal" or "inputs", got "${String(noise)}"`);
  const recipe = targetRecipe(program, t, { steps: opts.steps });
  const built = buildModel(recipe, weightSource(weights), noise, {
    doc: `Genloom ${t.kind} export: ${t.title}.`,
    metadata: metadataOf(program, t, opts.meta),
    producerVersion: opts.meta?.genloomVersion ?? GENLOOM_VERSION,
  });
  return { ...built, target: t };
}

export interface TargetParityReport extends ParityReport {
  target: string;
  kind: string;
  /** inputs and outputs of the exported model */
  inputs: IoDoc[];
  outputNames: string[];
  nodeCount: number;
  loopCount: number;
}

/**
 * Exports the target and proves the model equal to the trained graph: onnxruntime-node
 * vs tfjs (the active backend) on the same inputs and noise, tolerance 1e-4 (absolute,
 * or relative where values exceed 1). Pass `model` to check bytes already exported.
 */
export async function parityCheck(
  program: Program,
  weights: Weights,
  target: string | ExportTarget,
  opts: ExportOptions & ParityOptions & { model?: ExportResult } = {},
): Promise<TargetParityReport> {
  const model = opts.model ?? exportOnnx(program, weights, target, opts);
  const recipe = targetRecipe(program, model.target, { steps: opts.steps });
  const r = await checkParity(recipe, weightSource(weights), model, opts);
  return {
    ...r,
    target: model.target.id,
    kind: model.target.kind,
    inputs: model.inputs,
    outputNames: model.outputs.map((o) => o.name),
    nodeCount: model.nodeCount,
    loopCount: model.loopCount,
  };
}

const e = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : String(x));

/** a readable summary of a parity report */
export function formatParityReport(r: ParityReport & Partial<Pick<TargetParityReport, 'target' | 'inputs' | 'loopCount' | 'nodeCount'>>): string {
  const lines = [
    `parity ${r.pass ? 'PASS' : 'FAIL'}: ${r.target ?? r.title} (noise ${r.noise}, N = ${r.n}, tfjs backend ${r.backend})`,
    `  max error ${e(r.maxError)} (tolerance ${e(r.tolerance)}: |onnx - tfjs| / max(1, |tfjs|)), max abs error ${e(r.maxAbsError)}`,
  ];
  for (const o of r.outputs) lines.push(`  ${o.name} [${o.shape.join(', ')}]: max error ${e(o.maxError)}, max abs ${e(o.maxAbsError)}, max |value| ${o.maxMagnitude.toPrecision(3)}`);
  lines.push(`  compared: ${r.method}`);
  if (r.internalRun) lines.push(`  internal noise: ${r.internalRun.detail}`);
  lines.push(`  model: ${(r.modelBytes / 1024).toFixed(1)} KiB${r.nodeCount !== undefined ? `, ${r.nodeCount} nodes` : ''}${r.loopCount ? `, ${r.loopCount} Loop` : ''}, ${r.draws} random draw(s); tfjs ${r.tfjsMs.toFixed(0)} ms, onnxruntime ${r.onnxMs.toFixed(0)} ms`);
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  return lines.join('\n');
}
