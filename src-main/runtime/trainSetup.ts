/**
 * The steps of a training run before its first round: the request checked and its
 * document compiled, the backend and the run's settings (a resumed run keeps its seed and
 * batch size), the run folder written or the checkpoint loaded, and the 'started' event.
 */
import * as tf from '@tensorflow/tfjs';
import { registry } from '../../nodes/index';
import { TrainRequest, type TrainEvent, type TrainRequestInput } from '../api/trainingProtocol';
import { programToString, type Program } from '../compile/compile';
import { loadProgram } from '../compile/loadProgram';
import { programFromWire } from '../compile/programWire';
import { formatDiagnostic } from '../graph/diagnostics';
import type { GraphDocument } from '../document/schema';
import { serializeDocument } from '../document/serializeDocument';
import { initBackend } from './backend';
import { ensureWritableDir, genloomVersion, initRunFolder, readLatestCheckpoint, readRunGraph, RunDirError, truncateMetrics, type BeforeOp } from './runFolder';
import { describeIoError } from '../document/documentFile';
import { loadImportedWeights } from './importedWeights';
import { scoped, scopedSync } from './tfScope';
import type { Trainer } from './Trainer';

export const DEFAULT_BATCH_SIZE = 256;

export interface LoadedRequest {
  request: TrainRequest;
  doc: GraphDocument;
  program: Program;
}

export interface RunSettings {
  backend: string;
  seed: number;
  batchSize: number;
  /** the checkpoint a resumed run continues from */
  resumeFrom?: Awaited<ReturnType<typeof readLatestCheckpoint>>;
}

/** the request validated and its document (or, resuming, the run's) compiled; a string says why not */
export async function loadRequest(input: TrainRequestInput, warn: (m: string) => void): Promise<LoadedRequest | string> {
  const parsed = TrainRequest.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`);
    return `invalid training request: ${lines.join('; ')}`;
  }
  const request = parsed.data;
  let docJson = request.doc;
  if (docJson === undefined || docJson === null) {
    if (!request.resume) return 'the training request has no graph document';
    docJson = await readRunGraph(request.runDir);
  }
  let doc: GraphDocument;
  let program: Program;
  if (request.program !== undefined && !request.resume) {
    // the host parsed and compiled the document: its program is taken as it is
    const p = programFromWire(request.program, registry);
    if (typeof p === 'string') return p;
    if (typeof docJson !== 'object' || !Array.isArray((docJson as { nodes?: unknown }).nodes)) return 'the training request has a compiled program but no graph document';
    doc = docJson as GraphDocument;
    program = p;
    for (const d of p.graph.diagnostics) if (d.severity === 'warning') warn(formatDiagnostic(d));
  } else {
    // the host sent a value (text only at the wire): one pass through the pipeline
    const loaded = loadProgram(docJson);
    if (!loaded.ok) return loaded.stage === 'document' ? `the graph document is invalid:\n${loaded.message}` : loaded.message;
    for (const w of loaded.warnings) warn(w);
    ({ doc, program } = loaded);
  }
  if (program.objectives.length === 0) return 'the graph has no objective (loss node): nothing to train';
  return { request, doc, program };
}

/** the backend, seed and batch size of the run (a resumed run's own, with a warning where the request differs) */
export async function resolveSettings({ request, doc }: LoadedRequest, warn: (m: string) => void): Promise<RunSettings> {
  if (request.backend === 'torch') throw new Error('the torch backend runs in a PyTorch process, not in a tfjs training host');
  const { backend } = await initBackend(request.backend);
  const training = (doc.meta as { training?: { batchSize?: unknown } }).training;
  const docBatch = typeof training?.batchSize === 'number' && Number.isInteger(training.batchSize) && training.batchSize > 0 ? training.batchSize : undefined;
  let seed = request.seed;
  let batchSize = request.batchSize ?? docBatch ?? DEFAULT_BATCH_SIZE;
  const resumeFrom = request.resume ? await readLatestCheckpoint(request.runDir) : undefined;
  if (resumeFrom) {
    for (const w of resumeFrom.warnings) warn(w);
    if (resumeFrom.state.seed !== seed) {
      if (request.seed !== 0) warn(`resuming with the run's seed ${resumeFrom.state.seed}; the request's seed ${request.seed} is ignored`);
      seed = resumeFrom.state.seed;
    }
    if (request.batchSize === undefined) batchSize = resumeFrom.state.batchSize;
    else if (request.batchSize !== resumeFrom.state.batchSize) {
      warn(`resuming with batch size ${request.batchSize}, the run used ${resumeFrom.state.batchSize}: it will not match an uninterrupted run`);
    }
  }
  return { backend, seed, batchSize, ...(resumeFrom && { resumeFrom }) };
}

/** resuming: the checkpoint loaded into `t`; otherwise a fresh run folder with the graph and the config */
export async function prepareRunFolder(
  t: Trainer,
  { request, doc }: LoadedRequest,
  settings: RunSettings,
  warn: (m: string) => void,
  hooks: { beforeOp?: BeforeOp } = {},
): Promise<void> {
  const { runDir } = request;
  const { resumeFrom, seed, batchSize, backend } = settings;
  if (resumeFrom) {
    await scoped(async () => {
      t.store.load(resumeFrom.weights);
      await t.loadOptimizerState(resumeFrom.optimizer);
    });
    t.importsPending.clear(); // the checkpoint holds the imported weights too
    t.step = resumeFrom.step;
    await ensureWritableDir(runDir, hooks);
    try {
      await truncateMetrics(runDir, resumeFrom.step);
    } catch (e) {
      throw new RunDirError(runDir, `cannot write the metrics of ${runDir}: ${describeIoError(e)}`);
    }
    return;
  }
  const config = {
    ...Object.fromEntries(Object.entries(request).filter(([k]) => k !== 'doc' && k !== 'program')),
    seed,
    batchSize,
    backendRequested: request.backend ?? null,
    backend,
    genloom: genloomVersion(),
    tfjs: tf.version.tfjs,
    node: process.version,
    createdAt: new Date().toISOString(),
  };
  // before the folder is written: a missing teacher run leaves no half-made run behind
  await loadImportedWeights(t, warn);
  for (const w of await initRunFolder(runDir, serializeDocument(doc), config, hooks)) warn(w);
}

/** the 'started' event, with the terms of each objective for the UI's plots (one forward pass on held-out rows) */
export function startedEvent(t: Trainer, { request, program }: LoadedRequest, backend: string): Extract<TrainEvent, { type: 'started' }> {
  const objectives = program.objectives.map((o) => {
    try {
      const terms = scopedSync(() => Object.keys(t.heldOutTerms(o.nodeId, 2)));
      return { nodeId: o.nodeId, terms };
    } catch {
      return { nodeId: o.nodeId };
    }
  });
  return {
    type: 'started',
    backend,
    runDir: request.runDir,
    step: t.step,
    totalSteps: request.steps,
    program: programToString(program),
    objectives,
    samplers: program.samplers.map((s) => ({ nodeId: s.nodeId, shape: s.shape })),
  };
}
