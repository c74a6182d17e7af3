/**
 * One training run, from a TrainRequest to a final 'stopped' event, independent of where
 * it runs (a worker thread, a utility process, in-process for tests and the CLI).
 *
 *   document -> parse -> validate -> compile -> backend -> feeds -> Trainer
 *   (resume: load the run's latest checkpoint) -> rounds until `steps`
 *
 * Every `logEvery` steps the losses are read (a sync with the backend) and sent as a 'step'
 * event and a metrics.jsonl line; every `sampleEvery` steps each sampler's samples are sent
 * and saved; every `checkpointEvery` steps, at a stop and at the end a checkpoint is written,
 * only when the losses read at that step were finite and every weight is finite. A
 * non-finite loss stops the run with reason 'non-finite', naming the objective and the
 * last good checkpoint (left untouched). Pause, resume and stop are looked at between
 * rounds; the loop yields to the event loop every few milliseconds so that they arrive.
 *
 * runTraining never throws: every failure ends in exactly one 'stopped' event.
 */
import * as tf from '@tensorflow/tfjs';
import { programToString, type Program } from '../compile/compile';
import { loadProgram } from '../compile/loadProgram';
import { serializeDocument } from '../document/serializeDocument';
import { initBackend } from './backend';
import { createFeeds, type Feed } from './feeds';
import { TrainRequest, type TrainEvent, type TrainRequestInput } from './protocol';
import {
  appendMetrics,
  genloomVersion,
  initRunFolder,
  readLatestCheckpoint,
  readRunGraph,
  truncateMetrics,
  writeCheckpoint,
  writeSamples,
} from './runFolder';
import { NonFiniteError, Trainer, type DataFeed, type TermValues } from './Trainer';

export interface TrainControl {
  paused(): boolean;
  stopped(): boolean;
  /** resolves when the run is resumed or stopped */
  waitWhilePaused(): Promise<void>;
}

/** REFERENCE metrics of the current model (src-main/eval/evaluate.ts provides one) */
export type Evaluate = (
  trainer: Trainer,
  program: Program,
  feeds: Map<string, DataFeed>,
) => Record<string, number> | Promise<Record<string, number>>;

/** samples of image-sized data (784 = 28 x 28) sent per sampler, at most */
export const MAX_IMAGE_SAMPLES = 64;
const IMAGE_DIM = 784;
/** the loop gives the event loop a turn at least this often (ms) */
const YIELD_EVERY_MS = 20;

const DEFAULT_BATCH_SIZE = 256;

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** runs `fn` in a tfjs scope: tensors it creates and does not keep (or return) are disposed */
async function scoped<T>(fn: () => Promise<T> | T): Promise<T> {
  tf.engine().startScope();
  try {
    return await fn();
  } finally {
    tf.engine().endScope();
  }
}

let evaluateModule: Promise<Evaluate | undefined> | undefined;
/** src-main/eval/evaluate.ts, loaded on first use (undefined, with the reason, if it cannot be) */
function defaultEvaluate(warn: (m: string) => void): Promise<Evaluate | undefined> {
  evaluateModule ??= import('../eval/evaluate').then(
    (m: Record<string, unknown>) => {
      const fn = m.evaluateRun ?? m.evaluate ?? m.default;
      if (typeof fn === 'function') return fn as Evaluate;
      warn('metrics are off: src-main/eval/evaluate.ts exports no evaluateRun function');
      return undefined;
    },
    (e: unknown) => {
      warn(`metrics are off: src-main/eval/evaluate.ts could not be loaded (${(e as Error).message})`);
      return undefined;
    },
  );
  return evaluateModule;
}

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

function allFinite(data: ArrayLike<number>): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return false;
  return true;
}

/**
 * Runs a training request to the end, a stop, a non-finite loss or an error, emitting
 * TrainEvents; the last event is always 'stopped'.
 *
 * `evaluate`: the metrics hook, used every `evalEvery` steps and at the end of a completed
 * run; undefined = src-main/eval/evaluate.ts, null = no metrics.
 */
export async function runTraining(
  requestInput: TrainRequestInput,
  emit: (e: TrainEvent) => void,
  control: TrainControl,
  evaluate?: Evaluate | null,
): Promise<void> {
  let step = 0;
  let stopped = false;
  const finish = (e: Omit<Extract<TrainEvent, { type: 'stopped' }>, 'type'>) => {
    if (stopped) return;
    stopped = true;
    emit({ type: 'stopped', ...e });
  };
  const warn = (message: string) => emit({ type: 'warning', message });
  let trainer: Trainer | undefined;
  try {
    const parsedRequest = TrainRequest.safeParse(requestInput);
    if (!parsedRequest.success) {
      const lines = parsedRequest.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`);
      return finish({ step, reason: 'error', message: `invalid training request: ${lines.join('; ')}` });
    }
    const request = parsedRequest.data;
    const { runDir } = request;

    // ---- document -> program
    let docJson = request.doc;
    if (docJson === undefined || docJson === null) {
      if (!request.resume) return finish({ step, reason: 'error', message: 'the training request has no graph document' });
      docJson = await readRunGraph(runDir);
    }
    // the host sent a value (text only at the wire): one pass through the pipeline
    const loaded = loadProgram(docJson);
    if (!loaded.ok) {
      return finish({ step, reason: 'error', message: loaded.stage === 'document' ? `the graph document is invalid:\n${loaded.message}` : loaded.message });
    }
    const { doc, program } = loaded;
    for (const w of loaded.warnings) warn(w);
    if (program.objectives.length === 0) return finish({ step, reason: 'error', message: 'the graph has no objective (loss node): nothing to train' });

    // ---- backend, run folder, feeds, trainer
    const { backend } = await initBackend(request.backend);
    const training = (doc.meta as { training?: { batchSize?: unknown } }).training;
    const docBatch = typeof training?.batchSize === 'number' && Number.isInteger(training.batchSize) && training.batchSize > 0 ? training.batchSize : undefined;
    let seed = request.seed;
    let batchSize = request.batchSize ?? docBatch ?? DEFAULT_BATCH_SIZE;
    let lastGood: string | undefined;
    const resumeFrom = request.resume ? await readLatestCheckpoint(runDir) : undefined;
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
      lastGood = resumeFrom.dir;
    }
    const feeds: Map<string, Feed> = createFeeds(program, { seed });
    trainer = new Trainer(program, feeds, { seed, batchSize });
    const t = trainer;
    if (resumeFrom) {
      await scoped(async () => {
        t.store.load(resumeFrom.weights);
        await t.loadOptimizerState(resumeFrom.optimizer);
      });
      t.step = resumeFrom.step;
      await truncateMetrics(runDir, resumeFrom.step);
    } else {
      const config = {
        ...Object.fromEntries(Object.entries(request).filter(([k]) => k !== 'doc')),
        seed,
        batchSize,
        backendRequested: request.backend ?? null,
        backend,
        genloom: genloomVersion(),
        tfjs: tf.version.tfjs,
        node: process.version,
        createdAt: new Date().toISOString(),
      };
      for (const w of await initRunFolder(runDir, serializeDocument(doc), config)) warn(w);
    }
    step = t.step;
    const total = request.steps;

    // the terms of each objective, for the UI's plots (one forward pass on held-out rows)
    const objectives = program.objectives.map((o) => {
      try {
        const terms = scopedSync(() => Object.keys(t.heldOutTerms(o.nodeId, 2)));
        return { nodeId: o.nodeId, terms };
      } catch {
        return { nodeId: o.nodeId };
      }
    });
    emit({
      type: 'started',
      backend,
      runDir,
      step,
      totalSteps: total,
      program: programToString(program),
      objectives,
      samplers: program.samplers.map((s) => ({ nodeId: s.nodeId, shape: s.shape })),
    });

    const evalFn = evaluate === null ? undefined : (evaluate ?? (await defaultEvaluate(warn)));

    // ---- helpers of the loop
    let lastCheckpointStep = resumeFrom ? resumeFrom.step : -1;
    const checkpoint = async (losses: TermValues | undefined): Promise<'ok' | 'non-finite' | 'failed'> => {
      if (t.step === lastCheckpointStep) return 'ok';
      if (!t.weightsFinite()) return 'non-finite';
      try {
        const weights = t.store.snapshot();
        const optimizer = await scoped(() => t.optimizerState()); // scoped: optimizerState leaves an 'iter' scalar per optimiser
        const dir = await writeCheckpoint(runDir, {
          step: t.step,
          weights,
          optimizer,
          state: { seed, batchSize, backend, ...(losses && { losses }) },
        });
        lastGood = dir;
        lastCheckpointStep = t.step;
        emit({ type: 'checkpoint', step: t.step, path: dir });
        return 'ok';
      } catch (e) {
        warn(`the checkpoint at step ${t.step} could not be written: ${errorMessage(e)}`);
        return 'failed';
      }
    };
    const sampleAll = async () => {
      const files: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const s of program.samplers) {
        const dim = s.shape.reduce((a, b) => a * b, 1);
        const isImage = dim >= IMAGE_DIM || [...feeds.values()].some((f) => f.kind === 'image' && f.dim === dim);
        const n = isImage ? Math.min(MAX_IMAGE_SAMPLES, request.sampleCount) : request.sampleCount;
        let out: { data: Float32Array; shape: number[] };
        try {
          out = t.sample(s.nodeId, n);
        } catch (e) {
          warn(`sampler "${s.nodeId}" failed at step ${t.step}: ${errorMessage(e)}`);
          continue;
        }
        if (!allFinite(out.data)) {
          warn(`sampler "${s.nodeId}" produced non-finite values at step ${t.step}; its samples are not shown`);
          continue;
        }
        files[s.nodeId] = out;
        emit({ type: 'samples', step: t.step, sampler: s.nodeId, shape: out.shape, data: Array.from(out.data) });
        await yieldToEventLoop();
      }
      if (Object.keys(files).length) {
        await writeSamples(runDir, t.step, files).catch((e) => warn(`samples at step ${t.step} could not be saved: ${errorMessage(e)}`));
      }
    };
    const runEval = async () => {
      if (!evalFn) return;
      let metrics: Record<string, number>;
      try {
        metrics = await scoped(() => evalFn(t, program, feeds));
      } catch (e) {
        warn(`evaluation failed at step ${t.step}: ${errorMessage(e)}`);
        return;
      }
      const finite = Object.fromEntries(Object.entries(metrics).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
      const dropped = Object.keys(metrics).filter((k) => !(k in finite));
      if (dropped.length) warn(`metrics without a finite value at step ${t.step}: ${dropped.join(', ')}`);
      emit({ type: 'metrics', step: t.step, metrics: finite });
      await appendMetrics(runDir, { type: 'metrics', step: t.step, metrics: finite, time: new Date().toISOString() }).catch((e) =>
        warn(`metrics.jsonl could not be written: ${errorMessage(e)}`),
      );
    };
    const nonFiniteWeights = (at: number) =>
      finish({
        step: at,
        reason: 'non-finite',
        ...(program.objectives.length === 1 && { nodeId: program.objectives[0]!.nodeId }),
        message: `the weights became non-finite by step ${at}; ${lastGood ? `the last good checkpoint is ${lastGood}` : 'no checkpoint was written before it'}`,
        ...(lastGood && { checkpoint: lastGood }),
      });

    // ---- the loop
    const startStep = t.step;
    let activeMs = 0; // wall time of this session, pauses excluded
    let segmentStart = performance.now();
    let lastLogStep = t.step;
    let lastLogActive = 0;
    let lastYield = performance.now();
    const active = () => activeMs + (performance.now() - segmentStart);

    while (t.step < total) {
      if (control.stopped()) break;
      if (control.paused()) {
        activeMs += performance.now() - segmentStart;
        emit({ type: 'paused', step: t.step });
        await control.waitWhilePaused();
        segmentStart = performance.now();
        lastYield = segmentStart;
        if (control.stopped()) break;
        emit({ type: 'resumed', step: t.step });
      }
      const s = t.step + 1;
      const logNow = s % request.logEvery === 0 || s === total;
      const ckptNow = s % request.checkpointEvery === 0 || s === total;
      let losses: TermValues | undefined;
      try {
        losses = t.round(logNow || ckptNow);
      } catch (e) {
        if (e instanceof NonFiniteError) {
          return finish({
            step: e.step,
            reason: 'non-finite',
            nodeId: e.objective,
            message: `${e.message}; ${lastGood ? `the last good checkpoint is ${lastGood}` : 'no checkpoint was written before it'}`,
            ...(lastGood && { checkpoint: lastGood }),
          });
        }
        throw e;
      }
      step = t.step;
      if (logNow && losses) {
        const now = active();
        const dt = (now - lastLogActive) / 1000;
        const stepsPerSec = dt > 0 ? (s - lastLogStep) / dt : 0;
        const avg = (s - startStep) / (now / 1000);
        const etaSec = avg > 0 && Number.isFinite(avg) ? (total - s) / avg : 0;
        lastLogStep = s;
        lastLogActive = now;
        emit({ type: 'step', step: s, totalSteps: total, stepsPerSec, etaSec, losses });
        await appendMetrics(runDir, { type: 'step', step: s, losses, stepsPerSec, time: new Date().toISOString() }).catch((e) =>
          warn(`metrics.jsonl could not be written: ${errorMessage(e)}`),
        );
      }
      if (s % request.sampleEvery === 0 || s === total) await sampleAll();
      if (request.evalEvery > 0 && s % request.evalEvery === 0 && s !== total) await runEval();
      if (ckptNow && (await checkpoint(losses)) === 'non-finite') return nonFiniteWeights(s);
      if (performance.now() - lastYield >= YIELD_EVERY_MS || logNow) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }

    if (t.step < total) {
      // stopped by the user: keep what was trained
      if ((await checkpoint(undefined)) === 'non-finite') return nonFiniteWeights(t.step);
      return finish({ step: t.step, reason: 'user', ...(lastGood && { checkpoint: lastGood }) });
    }
    if (startStep < total) await runEval();
    if ((await checkpoint(undefined)) === 'non-finite') return nonFiniteWeights(t.step);
    return finish({ step: t.step, reason: 'done', ...(lastGood && { checkpoint: lastGood }) });
  } catch (e) {
    return finish({ step, reason: 'error', message: errorMessage(e) });
  } finally {
    if (!stopped) finish({ step, reason: 'error', message: 'training ended unexpectedly' });
    trainer?.dispose();
  }
}

function scopedSync<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}
