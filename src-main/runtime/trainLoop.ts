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
 * last good checkpoint (left untouched). A checkpoint (or the final save) that cannot be
 * written, tried twice, stops the run with reason 'error': a run never reports success
 * without its weights on disk. Pause, resume and stop are looked at between
 * rounds; the loop yields to the event loop every few milliseconds so that they arrive.
 *
 * The steps before the first round are in trainSetup.ts, the outputs (checkpoints,
 * samples, metrics) in trainOutputs.ts. runTraining never throws: every failure ends in
 * exactly one 'stopped' event.
 */
import type { TrainEvent, TrainRequestInput } from '../api/trainingProtocol';
import { createFeeds } from './feeds';
import { NonFiniteError, Trainer, type TermValues } from './Trainer';
import { errorMessage, RunOutputs, yieldToEventLoop, type Evaluate, type RunHooks, type RunParts, type StopDetails } from './trainOutputs';
import { loadRequest, prepareRunFolder, resolveSettings, startedEvent } from './trainSetup';

export { MAX_IMAGE_SAMPLES, type Evaluate, type RunHooks } from './trainOutputs';

export interface TrainControl {
  paused(): boolean;
  stopped(): boolean;
  /** resolves when the run is resumed or stopped */
  waitWhilePaused(): Promise<void>;
}

/** the loop gives the event loop a turn at least this often (ms) */
const YIELD_EVERY_MS = 20;

/**
 * Runs a training request to the end, a stop, a non-finite loss or an error, emitting
 * TrainEvents; the last event is always 'stopped'.
 *
 * `evaluate`: the metrics hook, used every `evalEvery` steps and at the end of a completed
 * run; undefined or null = no metrics. `hooks`: test seams (fault injection in the run
 * folder's writes).
 */
export async function runTraining(
  requestInput: TrainRequestInput,
  emit: (e: TrainEvent) => void,
  control: TrainControl,
  evaluate?: Evaluate | null,
  hooks?: RunHooks,
): Promise<void> {
  const progress = { step: 0 };
  let stopped = false;
  const finish = (e: StopDetails) => {
    if (stopped) return;
    stopped = true;
    emit({ type: 'stopped', ...e });
  };
  const warn = (message: string) => emit({ type: 'warning', message });
  let trainer: Trainer | undefined;
  try {
    const loaded = await loadRequest(requestInput, warn);
    if (typeof loaded === 'string') return finish({ step: progress.step, reason: 'error', message: loaded });
    const settings = await resolveSettings(loaded, warn);
    const feeds = createFeeds(loaded.program, { seed: settings.seed });
    trainer = new Trainer(loaded.program, feeds, { seed: settings.seed, batchSize: settings.batchSize });
    await prepareRunFolder(trainer, loaded, settings, warn, hooks);
    progress.step = trainer.step;
    emit(startedEvent(trainer, loaded, settings.backend));
    const run: RunParts = { request: loaded.request, program: loaded.program, feeds, trainer, settings, emit, warn, ...(hooks && { hooks }) };
    return finish(await runRounds(run, new RunOutputs(run, evaluate ?? undefined), control, progress));
  } catch (e) {
    return finish({ step: progress.step, reason: 'error', message: errorMessage(e) });
  } finally {
    if (!stopped) finish({ step: progress.step, reason: 'error', message: 'training ended unexpectedly' });
    trainer?.dispose();
  }
}

/** steps per second since the last log and the time left, over wall time with pauses excluded */
function rateClock(startStep: number, total: number) {
  let activeMs = 0;
  let segmentStart = performance.now();
  let lastLogStep = startStep;
  let lastLogActive = 0;
  return {
    pause() {
      activeMs += performance.now() - segmentStart;
    },
    resume() {
      segmentStart = performance.now();
    },
    rates(s: number) {
      const now = activeMs + (performance.now() - segmentStart);
      const dt = (now - lastLogActive) / 1000;
      const stepsPerSec = dt > 0 ? (s - lastLogStep) / dt : 0;
      const avg = (s - startStep) / (now / 1000);
      const etaSec = avg > 0 && Number.isFinite(avg) ? (total - s) / avg : 0;
      lastLogStep = s;
      lastLogActive = now;
      return { stepsPerSec, etaSec };
    },
  };
}

/** the rounds until `steps`, a stop or a non-finite value; the details of the final event */
async function runRounds(run: RunParts, out: RunOutputs, control: TrainControl, progress: { step: number }): Promise<StopDetails> {
  const { trainer: t, request, emit } = run;
  const total = request.steps;
  const startStep = t.step;
  const clock = rateClock(startStep, total);
  let lastYield = performance.now();
  while (t.step < total && !request.evaluateOnly) {
    if (control.stopped()) break;
    if (control.paused()) {
      clock.pause();
      emit({ type: 'paused', step: t.step });
      await control.waitWhilePaused();
      clock.resume();
      lastYield = performance.now();
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
      if (e instanceof NonFiniteError) return out.nonFiniteLoss(e);
      throw e;
    }
    progress.step = t.step;
    if (logNow && losses) await out.logStep(s, losses, clock.rates(s));
    if (s % request.sampleEvery === 0 || s === total) await out.sampleAll();
    if (request.evalEvery > 0 && s % request.evalEvery === 0 && s !== total) await out.runEval();
    if (ckptNow) {
      const saved = await out.checkpoint(losses);
      if (saved === 'non-finite') return out.nonFiniteWeights(s);
      if (saved === 'failed') return out.failedStop();
    }
    if (performance.now() - lastYield >= YIELD_EVERY_MS || logNow) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
  return endOfRounds(run, out, startStep);
}

/** after the loop: a user's stop keeps what was trained; a completed run is evaluated, then checkpointed */
async function endOfRounds({ trainer: t, request }: RunParts, out: RunOutputs, startStep: number): Promise<StopDetails> {
  const finalSave = async (): Promise<StopDetails | undefined> => {
    const saved = await out.checkpoint(undefined);
    if (saved === 'non-finite') return out.nonFiniteWeights(t.step);
    if (saved === 'failed') return out.failedStop();
    return undefined;
  };
  if (request.evaluateOnly) {
    // a run another backend trained: its checkpoint stays as that backend wrote it
    await out.sampleAll();
    await out.runEval();
    return { step: t.step, reason: 'done' };
  }
  if (t.step < request.steps) return (await finalSave()) ?? { step: t.step, reason: 'user', ...(out.lastGood && { checkpoint: out.lastGood }) };
  if (startStep < request.steps) await out.runEval();
  return (await finalSave()) ?? { step: t.step, reason: 'done', ...(out.lastGood && { checkpoint: out.lastGood }) };
}
