/**
 * The machinery shared by every export: a Recipe says which inputs a model takes and how
 * its outputs are computed, written once against Ops. It is
 * - recorded with OnnxOps into a model (`buildModel`), and
 * - run with tfjs on the same inputs and the same noise, then compared with the model run
 *   by onnxruntime-node (`checkParity`).
 * Export targets (targets.ts) and the per-node conformance cases (conformance.ts) are
 * Recipes.
 */
import * as tf from '@tensorflow/tfjs';
import type { Ops } from '../../nodes/core/ops';
import { Rng } from '../data/rng';
import { ExportError } from './errors';
import { FedNoiseTfjsOps, drawNoise, probeModel, type HostTensor } from './noise';
import { BATCH, OnnxOps, toDims, type NoiseMode, type NoiseSlot } from './OnnxOps';
import { encodeModel, type Dim } from './onnxGraph';
import { runOnnx, type Feed } from './ort';

/** how an input is filled when nobody gives it (parity checks, `genloom run-onnx`) */
export type Fill =
  | { kind: 'normal' }
  | { kind: 'uniform' }
  /** integer time-step indices in [0, T), as float32 */
  | { kind: 'steps'; T: number }
  /** data points (parity uses N(0, 1) rows) */
  | { kind: 'data' }
  /** the sample count N, an int64 scalar */
  | { kind: 'count' };

export interface IoSpec {
  name: string;
  /** -1 = the batch N */
  shape: number[];
  dtype: 'float32' | 'int64';
  doc: string;
  fill: Fill;
}

/** an input or output of an exported model, as documented to users */
export interface IoDoc {
  name: string;
  dtype: 'float32' | 'int64';
  /** 'N' is the free batch dimension; loop-noise inputs lead with their step count */
  shape: Dim[];
  doc: string;
  /** 'data': the model's real inputs; 'count': the sample count; 'noise': noise mode 'inputs' */
  role: 'data' | 'count' | 'noise' | 'output';
  fill?: Fill;
}

export interface RunCtx<T> {
  ops: Ops<T>;
  /** the model inputs as tensors of this interpreter (not the sample count) */
  inputs: Record<string, T>;
  /** the batch size to give the Runner: -1 (symbolic) when recording ONNX */
  batch: number;
  /** a trained parameter as a tensor of this interpreter */
  param(name: string, shape: number[]): T;
}

export interface Recipe {
  title: string;
  /** the model's data inputs */
  inputs: IoSpec[];
  /** documentation of each output, by name */
  outputDocs: Record<string, string>;
  /** no data input gives the batch: in internal noise mode the model takes `n` (int64) */
  countInput: boolean;
  /** node family and type, to name noise inputs and errors */
  describeNode?: (id: string) => { family: string; type: string } | undefined;
  run<T>(ctx: RunCtx<T>): Record<string, T>;
}

/** values of trained parameters: (name, expected shape) -> data; throws ExportError */
export type WeightSource = (name: string, shape: number[]) => Float32Array;

export function weightSource(weights: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>): WeightSource {
  return (name, shape) => {
    const w = weights.get(name);
    if (!w) throw new ExportError('bad-weights', `the weights have no tensor "${name}" (was the model trained with this graph?)`, name.split('/')[0]);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new ExportError('bad-weights', `the weights' "${name}" has shape [${w.shape.join(', ')}], the graph expects [${shape.join(', ')}]`, name.split('/')[0]);
    }
    return w.data;
  };
}

export interface BuiltModel {
  bytes: Uint8Array;
  inputs: IoDoc[];
  outputs: IoDoc[];
  noise: NoiseMode;
  /** every random draw, in call order (dead ones marked unused) */
  slots: NoiseSlot[];
  nodeCount: number;
  loopCount: number;
  /** bytes of the trained parameters stored in the model */
  weightBytes: number;
  /** bytes of all initializers (parameters, constant tables) */
  initializerBytes: number;
}

export interface ModelDocs {
  /** model doc_string (a summary is appended) */
  doc: string;
  metadata: Record<string, string>;
  producerVersion: string;
}

/** records a recipe with OnnxOps and serialises it */
export function buildModel(recipe: Recipe, weights: WeightSource, noise: NoiseMode, docs: ModelDocs): BuiltModel {
  const ops = new OnnxOps({ noise, describeNode: recipe.describeNode });
  const inputs: Record<string, ReturnType<OnnxOps['input']>> = {};
  for (const s of recipe.inputs) inputs[s.name] = ops.input(s.name, s.shape, s.dtype, s.doc);
  if (noise === 'internal') {
    if (recipe.countInput) ops.setBatchSource(ops.input('n', [], 'int64', 'how many samples N to draw (int64 scalar)'));
    else {
      const first = recipe.inputs.find((s) => s.shape.includes(BATCH));
      if (first) ops.setBatchSource(inputs[first.name]!);
    }
  }
  let weightBytes = 0;
  const outs = recipe.run({
    ops,
    inputs,
    batch: BATCH,
    param: (name, shape) => ops.param(name, shape, weights(name, shape)),
  });
  const rec = ops.finish(Object.entries(outs).map(([name, value]) => ({ name, value, doc: recipe.outputDocs[name] ?? '' })));
  for (const i of rec.initializers) if (i.doc === 'trained parameter') weightBytes += i.data.byteLength;
  const initializerBytes = rec.initializers.reduce((a, i) => a + i.data.byteLength, 0);
  const specOf = new Map(recipe.inputs.map((s) => [s.name, s]));
  const inDocs: IoDoc[] = rec.inputs.map((i) => {
    const s = specOf.get(i.name);
    const role: IoDoc['role'] = s ? 'data' : i.kind === 'noise' ? 'noise' : 'count';
    const fill: Fill | undefined = s ? s.fill : role === 'count' ? { kind: 'count' } : rec.slots.find((x) => x.name === i.name)?.kind === 'uniform' ? { kind: 'uniform' } : { kind: 'normal' };
    return { name: i.name, dtype: i.dtype as 'float32' | 'int64', shape: i.dims, doc: i.doc, role, ...(fill && { fill }) };
  });
  const outDocs: IoDoc[] = rec.outputs.map((o) => ({ name: o.name, dtype: o.dtype as 'float32', shape: o.dims, doc: o.doc, role: 'output' }));
  const sig = (d: IoDoc) => `  ${d.name}: ${d.dtype} [${d.shape.join(', ')}]  ${d.doc}`;
  const summary = [
    docs.doc,
    '',
    `Noise: ${noise === 'internal' ? 'drawn inside the model (RandomNormal/RandomUniform nodes)' : 'passed as inputs (every draw is an input; loop draws are [steps, ...] and row k feeds step k)'}.`,
    'Inputs:',
    ...inDocs.map(sig),
    'Outputs:',
    ...outDocs.map(sig),
  ].join('\n');
  const bytes = encodeModel({
    graph: rec.graph,
    initializers: rec.initializers,
    doc: summary,
    graphDoc: recipe.title,
    producerVersion: docs.producerVersion,
    metadata: { ...docs.metadata, 'genloom.inputs': JSON.stringify(inDocs), 'genloom.outputs': JSON.stringify(outDocs), 'genloom.noise': noise },
  });
  return { bytes, inputs: inDocs, outputs: outDocs, noise, slots: rec.slots, nodeCount: rec.nodeCount, loopCount: rec.loopCount, weightBytes, initializerBytes };
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** data for the model inputs of a recipe, N rows, from a seeded stream */
export function makeInputs(specs: readonly IoSpec[], n: number, seed: number): Record<string, HostTensor> {
  const rng = new Rng(seed);
  const out: Record<string, HostTensor> = {};
  for (const s of specs) {
    if (s.dtype !== 'float32') continue;
    const shape = s.shape.map((d) => (d === BATCH ? n : d));
    const data = new Float32Array(prod(shape));
    for (let i = 0; i < data.length; i++) {
      const f = s.fill;
      data[i] = f.kind === 'uniform' ? rng.uniform() : f.kind === 'steps' ? Math.min(f.T - 1, Math.floor(rng.uniform() * f.T)) : rng.normal();
    }
    out[s.name] = { shape, data };
  }
  return out;
}

/** runs a recipe on tfjs (the active backend) with the given inputs and noise */
export function runTfjs(recipe: Recipe, weights: WeightSource, inputs: Record<string, HostTensor>, noise: HostTensor[], slots: readonly NoiseSlot[], n: number): Record<string, HostTensor> {
  let result: Record<string, HostTensor> = {};
  tf.tidy(() => {
    const ops = new FedNoiseTfjsOps(noise, slots);
    const ins: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ins[k] = tf.tensor(v.data, v.shape, 'float32');
    const outs = recipe.run({ ops, inputs: ins, batch: n, param: (name, shape) => tf.tensor(weights(name, shape), shape, 'float32') });
    if (ops.draws !== slots.length) throw new Error(`noise stream mismatch: tfjs drew ${ops.draws} times, the ONNX model recorded ${slots.length} draws`);
    result = Object.fromEntries(Object.entries(outs).map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) }]));
  });
  return result;
}

export const PARITY_TOLERANCE = 1e-4;

export interface OutputParity {
  name: string;
  shape: number[];
  /** max |onnx - tfjs| */
  maxAbsError: number;
  /** max |onnx - tfjs| / max(1, |tfjs|): absolute below 1, relative above */
  maxError: number;
  /** largest |value| of the tfjs output */
  maxMagnitude: number;
}

export interface ParityReport {
  title: string;
  noise: NoiseMode;
  /** rows per input (the batch N) */
  n: number;
  seed: number;
  tolerance: number;
  pass: boolean;
  /** max over outputs of maxError */
  maxError: number;
  maxAbsError: number;
  outputs: OutputParity[];
  /** what was compared with what */
  method: string;
  backend: string;
  /** random draws in the model (dead draws of the graph pruned) */
  draws: number;
  modelBytes: number;
  tfjsMs: number;
  onnxMs: number;
  /** internal noise: the model itself (own random draws) ran, with finite outputs of the right shape */
  internalRun?: { ok: boolean; detail: string };
  problems: string[];
}

function compare(name: string, a: HostTensor, b: HostTensor): OutputParity & { problem?: string } {
  const shapeOk = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  let maxAbs = 0;
  let maxErr = 0;
  let mag = 0;
  if (!shapeOk || a.data.length !== b.data.length) {
    return { name, shape: b.shape, maxAbsError: Infinity, maxError: Infinity, maxMagnitude: NaN, problem: `output "${name}": shape [${a.shape.join(', ')}] from onnx, [${b.shape.join(', ')}] from tfjs` };
  }
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    const d = Math.abs(x - y);
    const e = Number.isNaN(d) ? (Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity) : d;
    if (e > maxAbs) maxAbs = e;
    const r = e / Math.max(1, Math.abs(y));
    if (r > maxErr) maxErr = r;
    if (Math.abs(y) > mag) mag = Math.abs(y);
  }
  return { name, shape: b.shape, maxAbsError: maxAbs, maxError: maxErr, maxMagnitude: mag };
}

export interface ParityOptions {
  /** rows per input (default 64) */
  n?: number;
  seed?: number;
}

/**
 * Runs `model` (built from `recipe`) with onnxruntime-node and the recipe with tfjs on the
 * same inputs and noise, and compares every output.
 * - noise 'inputs': the model is run as exported, the noise fed to its noise inputs;
 * - noise 'internal': the exported model with each random node replaced by a read of the
 *   same noise (probe inputs; every other node as exported), and, separately, the model
 *   itself with its own draws, which must run and give finite outputs of the right shape.
 */
export async function checkParity(recipe: Recipe, weights: WeightSource, model: BuiltModel, opts: ParityOptions = {}): Promise<ParityReport> {
  const n = opts.n ?? 64;
  const seed = opts.seed ?? 0;
  const problems: string[] = [];
  const userData = makeInputs(recipe.inputs, n, seed);
  const noise = drawNoise(model.slots, n, seed + 1);
  const t0 = performance.now();
  const ref = runTfjs(recipe, weights, userData, noise, model.slots, n);
  const tfjsMs = performance.now() - t0;

  const feeds: Record<string, Feed> = {};
  for (const i of model.inputs) {
    if (i.role === 'data') feeds[i.name] = { dtype: 'float32', ...userData[i.name]! };
    else if (i.role === 'count') feeds[i.name] = { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(n)) };
  }
  let bytes = model.bytes;
  let method: string;
  const probeFeeds: Record<string, Feed> = { ...feeds };
  if (model.noise === 'inputs') {
    for (const s of model.slots) if (s.used) probeFeeds[s.name] = { dtype: 'float32', ...noise[s.index]! };
    method = 'the exported model (noise as inputs) run by onnxruntime-node vs the trained graph on tfjs, same inputs and noise';
  } else {
    const p = probeModel(model.bytes, model.slots, n);
    bytes = p.bytes;
    for (const q of p.probes) probeFeeds[q.name] = { dtype: 'float32', shape: q.shape, data: noise[q.slot]!.data };
    method = `the exported model (noise drawn inside) with its ${p.probes.length} random node(s) replaced by reads of the tfjs run's noise, run by onnxruntime-node vs the trained graph on tfjs`;
  }
  const t1 = performance.now();
  const got = await runOnnx(bytes, probeFeeds);
  const onnxMs = performance.now() - t1;

  const outputs: OutputParity[] = [];
  for (const o of model.outputs) {
    const a = got[o.name];
    const b = ref[o.name];
    if (!a || !b) {
      problems.push(`output "${o.name}" is missing from the ${a ? 'tfjs' : 'onnx'} run`);
      continue;
    }
    const c = compare(o.name, a, b);
    if (c.problem) problems.push(c.problem);
    outputs.push({ name: c.name, shape: c.shape, maxAbsError: c.maxAbsError, maxError: c.maxError, maxMagnitude: c.maxMagnitude });
  }

  let internalRun: ParityReport['internalRun'];
  if (model.noise === 'internal') {
    const raw = await runOnnx(model.bytes, feeds);
    const bad: string[] = [];
    for (const o of model.outputs) {
      const r = raw[o.name];
      const want = ref[o.name];
      if (!r || !want) continue;
      if (r.shape.join() !== want.shape.join()) bad.push(`${o.name} has shape [${r.shape.join(', ')}], expected [${want.shape.join(', ')}]`);
      if (!r.data.every(Number.isFinite)) bad.push(`${o.name} has non-finite values`);
    }
    internalRun = { ok: bad.length === 0, detail: bad.length ? bad.join('; ') : `ran with its own random draws: ${model.outputs.map((o) => `${o.name} [${raw[o.name]?.shape.join(', ')}]`).join(', ')}, all finite` };
    if (bad.length) problems.push(...bad);
  }
  const maxError = outputs.reduce((m, o) => Math.max(m, o.maxError), 0);
  const maxAbsError = outputs.reduce((m, o) => Math.max(m, o.maxAbsError), 0);
  return {
    title: recipe.title,
    noise: model.noise,
    n,
    seed,
    tolerance: PARITY_TOLERANCE,
    pass: problems.length === 0 && outputs.length > 0 && maxError <= PARITY_TOLERANCE,
    maxError,
    maxAbsError,
    outputs,
    method,
    backend: tf.getBackend(),
    draws: model.slots.filter((x) => x.used).length,
    modelBytes: model.bytes.byteLength,
    tfjsMs,
    onnxMs,
    ...(internalRun && { internalRun }),
    problems,
  };
}

export { toDims };
