/**
 * What a training run writes and sends besides its losses: checkpoints (only of finite
 * weights), each sampler's samples, the metrics hook's values, and the 'stopped' details
 * of a non-finite run naming the last good checkpoint.
 *
 * A checkpoint that cannot be written (a full disk, a file system turned read-only) is
 * tried once more after a short pause; when that fails too the run stops with reason
 * 'error', naming the checkpoints folder, the cause and the last good checkpoint (which
 * latest.json still names). Samples and metrics.jsonl that cannot be written are warnings.
 */
import type { TrainEvent, TrainRequest } from '../api/trainingProtocol';
import type { Program } from '../compile/compile';
import { describeIoError } from '../document/documentFile';
import type { Feed } from './feeds';
import { appendMetrics, runPaths, writeCheckpoint, writeSamples, type BeforeOp } from './runFolder';
import { scoped } from './tfScope';
import type { DataFeed, NonFiniteError, TermValues, Trainer } from './Trainer';
import type { RunSettings } from './trainSetup';

/** metrics of the current model, e.g. the REFERENCE metrics of src-main/eval (injected by the caller) */
export type Evaluate = (
  trainer: Trainer,
  program: Program,
  feeds: Map<string, DataFeed>,
  opts?: { onProgress?: EvaluateProgress },
) => Record<string, number> | Promise<Record<string, number>>;

/** called by an Evaluate after each of its parts: `done` of `total`, `what` the part just finished */
export type EvaluateProgress = (done: number, total: number, what?: string) => void;

/** the details of the final 'stopped' event */
export type StopDetails = Omit<Extract<TrainEvent, { type: 'stopped' }>, 'type'>;

/** samples of image-sized data (784 = 28 x 28) sent per sampler, at most */
export const MAX_IMAGE_SAMPLES = 64;
const IMAGE_DIM = 784;

export const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));
export const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

function allFinite(data: ArrayLike<number>): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return false;
  return true;
}

/** seams of a run for tests: the fault-injection hook of the run folder's writes */
export interface RunHooks {
  beforeOp?: BeforeOp;
}

/** how long a failed checkpoint write waits before its second try (ms) */
export const CHECKPOINT_RETRY_MS = 250;

/** the parts of a set-up run that its outputs read */
export interface RunParts {
  request: TrainRequest;
  program: Program;
  feeds: Map<string, Feed>;
  trainer: Trainer;
  settings: RunSettings;
  emit: (e: TrainEvent) => void;
  warn: (m: string) => void;
  hooks?: RunHooks;
}

/** an errno failure in words with its code (`the disk is full (ENOSPC)`), else the message */
const ioText = (e: unknown) => ((e as { code?: unknown } | null)?.code !== undefined ? describeIoError(e) : errorMessage(e));

export class RunOutputs {
  /** the newest checkpoint written with finite weights (or the one resumed from) */
  lastGood: string | undefined;
  private lastCheckpointStep: number;

  constructor(
    private readonly run: RunParts,
    private readonly evaluate: Evaluate | undefined,
  ) {
    const from = run.settings.resumeFrom;
    this.lastGood = from?.dir;
    this.lastCheckpointStep = from ? from.step : -1;
  }

  /** why the last checkpoint failed (set when checkpoint() returns 'failed') */
  failure: string | undefined;
  /** the writes that are failing now (warned about once, until one succeeds again) */
  private readonly failing = new Set<string>();

  /** a failed write is warned about once, not at every log step of a full disk */
  private wrote(kind: string, write: Promise<unknown>, what: () => string): Promise<void> {
    return write.then(
      () => void this.failing.delete(kind),
      (e) => {
        if (this.failing.has(kind)) return;
        this.failing.add(kind);
        this.run.warn(`${what()}: ${ioText(e)} (further failures of these writes are not reported until one succeeds)`);
      },
    );
  }

  /**
   * a checkpoint of the current step (once per step); 'non-finite' when a weight is not
   * finite; 'failed' when it could not be written twice (see `failure` and failedStop)
   */
  async checkpoint(losses: TermValues | undefined): Promise<'ok' | 'non-finite' | 'failed'> {
    const { trainer: t, request, settings, emit, warn, hooks } = this.run;
    if (t.step === this.lastCheckpointStep) return 'ok';
    if (!t.weightsFinite()) return 'non-finite';
    const weights = t.store.snapshot();
    const optimizer = await scoped(() => t.optimizerState()); // scoped: optimizerState leaves an 'iter' scalar per optimiser
    const { seed, batchSize, backend } = settings;
    const folder = runPaths(request.runDir).checkpoints;
    for (let attempt = 1; ; attempt++) {
      try {
        const dir = await writeCheckpoint(
          request.runDir,
          { step: t.step, weights, optimizer, state: { seed, batchSize, backend, ...(losses && { losses }) } },
          { ...(hooks?.beforeOp && { beforeOp: hooks.beforeOp }) },
        );
        this.lastGood = dir;
        this.lastCheckpointStep = t.step;
        emit({ type: 'checkpoint', step: t.step, path: dir });
        return 'ok';
      } catch (e) {
        const why = `the checkpoint at step ${t.step} could not be written to ${folder}: ${ioText(e)}`;
        if (attempt >= 2) {
          this.failure = `${why} (tried twice); ${this.lastGoodText()}; the run is stopped so that nothing more is lost: free some space or make the folder writable, then resume the run`;
          return 'failed';
        }
        warn(`${why}; trying once more`);
        await new Promise((r) => setTimeout(r, CHECKPOINT_RETRY_MS));
      }
    }
  }

  /** the end of a run whose checkpoint could not be written */
  failedStop(): StopDetails {
    return {
      step: this.run.trainer.step,
      reason: 'error',
      message: this.failure ?? 'a checkpoint could not be written',
      ...(this.lastGood && { checkpoint: this.lastGood }),
    };
  }

  /** each sampler's samples, sent and saved (a failing or non-finite sampler is skipped with a warning) */
  async sampleAll(): Promise<void> {
    const { trainer: t, request, program, feeds, emit, warn } = this.run;
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
      await this.wrote('samples', writeSamples(request.runDir, t.step, files), () => `samples at step ${t.step} could not be saved`);
    }
  }

  /** the metrics hook's finite values, sent and appended to metrics.jsonl */
  async runEval(): Promise<void> {
    const evalFn = this.evaluate;
    if (!evalFn) return;
    const { trainer: t, request, program, feeds, emit, warn } = this.run;
    let metrics: Record<string, number>;
    const step = t.step;
    emit({ type: 'evaluating', step, done: 0, total: 0 });
    const onProgress: EvaluateProgress = (done, total, what) => emit({ type: 'evaluating', step, done, total, ...(what ? { what } : {}) });
    try {
      metrics = await scoped(() => evalFn(t, program, feeds, { onProgress }));
    } catch (e) {
      warn(`evaluation failed at step ${t.step}: ${errorMessage(e)}`);
      return;
    }
    const finite = Object.fromEntries(Object.entries(metrics).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
    const dropped = Object.keys(metrics).filter((k) => !(k in finite));
    if (dropped.length) warn(`metrics without a finite value at step ${t.step}: ${dropped.join(', ')}`);
    emit({ type: 'metrics', step: t.step, metrics: finite });
    await this.wrote('metrics', appendMetrics(request.runDir, { type: 'metrics', step: t.step, metrics: finite, time: new Date().toISOString() }), () => 'metrics.jsonl could not be written');
  }

  /** the 'step' event and its metrics.jsonl line */
  async logStep(step: number, losses: TermValues, rates: { stepsPerSec: number; etaSec: number }): Promise<void> {
    const { request, emit } = this.run;
    emit({ type: 'step', step, totalSteps: request.steps, ...rates, losses });
    await this.wrote('metrics', appendMetrics(request.runDir, { type: 'step', step, losses, stepsPerSec: rates.stepsPerSec, time: new Date().toISOString() }), () => 'metrics.jsonl could not be written');
  }

  private lastGoodText(): string {
    return this.lastGood ? `the last good checkpoint is ${this.lastGood}` : 'no checkpoint was written before it';
  }

  /** the end of a run whose objective produced a non-finite value */
  nonFiniteLoss(e: NonFiniteError): StopDetails {
    return {
      step: e.step,
      reason: 'non-finite',
      nodeId: e.objective,
      message: `${e.message}; ${this.lastGoodText()}`,
      ...(this.lastGood && { checkpoint: this.lastGood }),
    };
  }

  /** the end of a run whose weights became non-finite by step `at` */
  nonFiniteWeights(at: number): StopDetails {
    const { objectives } = this.run.program;
    return {
      step: at,
      reason: 'non-finite',
      ...(objectives.length === 1 && { nodeId: objectives[0]!.nodeId }),
      message: `the weights became non-finite by step ${at}; ${this.lastGoodText()}`,
      ...(this.lastGood && { checkpoint: this.lastGood }),
    };
  }
}
