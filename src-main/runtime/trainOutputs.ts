/**
 * What a training run writes and sends besides its losses: checkpoints (only of finite
 * weights), each sampler's samples, the metrics hook's values, and the 'stopped' details
 * of a non-finite run naming the last good checkpoint.
 */
import type { TrainEvent, TrainRequest } from '../api/trainingProtocol';
import type { Program } from '../compile/compile';
import type { Feed } from './feeds';
import { appendMetrics, writeCheckpoint, writeSamples } from './runFolder';
import { scoped } from './tfScope';
import type { DataFeed, NonFiniteError, TermValues, Trainer } from './Trainer';
import type { RunSettings } from './trainSetup';

/** metrics of the current model, e.g. the REFERENCE metrics of src-main/eval (injected by the caller) */
export type Evaluate = (
  trainer: Trainer,
  program: Program,
  feeds: Map<string, DataFeed>,
) => Record<string, number> | Promise<Record<string, number>>;

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

/** the parts of a set-up run that its outputs read */
export interface RunParts {
  request: TrainRequest;
  program: Program;
  feeds: Map<string, Feed>;
  trainer: Trainer;
  settings: RunSettings;
  emit: (e: TrainEvent) => void;
  warn: (m: string) => void;
}

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

  /** a checkpoint of the current step (once per step); 'non-finite' when a weight is not finite */
  async checkpoint(losses: TermValues | undefined): Promise<'ok' | 'non-finite' | 'failed'> {
    const { trainer: t, request, settings, emit, warn } = this.run;
    if (t.step === this.lastCheckpointStep) return 'ok';
    if (!t.weightsFinite()) return 'non-finite';
    try {
      const weights = t.store.snapshot();
      const optimizer = await scoped(() => t.optimizerState()); // scoped: optimizerState leaves an 'iter' scalar per optimiser
      const { seed, batchSize, backend } = settings;
      const dir = await writeCheckpoint(request.runDir, {
        step: t.step,
        weights,
        optimizer,
        state: { seed, batchSize, backend, ...(losses && { losses }) },
      });
      this.lastGood = dir;
      this.lastCheckpointStep = t.step;
      emit({ type: 'checkpoint', step: t.step, path: dir });
      return 'ok';
    } catch (e) {
      warn(`the checkpoint at step ${t.step} could not be written: ${errorMessage(e)}`);
      return 'failed';
    }
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
      await writeSamples(request.runDir, t.step, files).catch((e) => warn(`samples at step ${t.step} could not be saved: ${errorMessage(e)}`));
    }
  }

  /** the metrics hook's finite values, sent and appended to metrics.jsonl */
  async runEval(): Promise<void> {
    const evalFn = this.evaluate;
    if (!evalFn) return;
    const { trainer: t, request, program, feeds, emit, warn } = this.run;
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
    await appendMetrics(request.runDir, { type: 'metrics', step: t.step, metrics: finite, time: new Date().toISOString() }).catch((e) =>
      warn(`metrics.jsonl could not be written: ${errorMessage(e)}`),
    );
  }

  /** the 'step' event and its metrics.jsonl line */
  async logStep(step: number, losses: TermValues, rates: { stepsPerSec: number; etaSec: number }): Promise<void> {
    const { request, emit, warn } = this.run;
    emit({ type: 'step', step, totalSteps: request.steps, ...rates, losses });
    await appendMetrics(request.runDir, { type: 'step', step, losses, stepsPerSec: rates.stepsPerSec, time: new Date().toISOString() }).catch((e) =>
      warn(`metrics.jsonl could not be written: ${errorMessage(e)}`),
    );
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
