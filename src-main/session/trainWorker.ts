/**
 * The training host in a worker thread. It receives TrainCommand messages (each validated
 * with zod: a malformed one is answered with a 'warning' event and otherwise ignored, the
 * worker keeps running), runs one training run with runtime/trainLoop's runTraining (with
 * the REFERENCE metrics of src-main/eval), and posts every TrainEvent to the parent. TrainingSession.ts starts it (through tsx's loader, since this
 * file is TypeScript).
 *
 * One run per worker: the parent terminates the worker after the final 'stopped' event.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { TrainCommand, type TrainEvent, type TrainRequest } from '../api/trainingProtocol';
import type { Evaluate, RunHooks, TrainControl } from '../runtime/trainLoop';
import { loadReferenceMetrics } from './referenceMetrics';

/** workerData that marks a worker as a training host (importing this file elsewhere does nothing) */
export const TRAIN_WORKER_DATA = { genloomTrainingWorker: 1 } as const;

/** a pause / resume / stop switch for one run */
export function createControl(): TrainControl & { pause(): void; resume(): void; stop(): void } {
  let paused = false;
  let stopped = false;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  return {
    paused: () => paused,
    stopped: () => stopped,
    waitWhilePaused: () =>
      new Promise<void>((resolve) => {
        if (!paused || stopped) return resolve();
        const prev = wake;
        wake = () => {
          prev?.();
          resolve();
        };
      }),
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      wakeUp();
    },
    stop() {
      stopped = true;
      wakeUp();
    },
  };
}

/** short, readable zod issues: `request.steps: Too small: expected number to be >=1` */
export function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(message)'}: ${i.message}`).join('; ');
}

/**
 * One run of runTraining; `evaluate`: the metrics hook (undefined = the REFERENCE metrics
 * of src-main/eval/evaluate.ts, null = none). Both modules load on demand.
 */
export async function runSession(request: TrainRequest, emit: (e: TrainEvent) => void, control: TrainControl, evaluate?: Evaluate | null, hooks?: RunHooks): Promise<void> {
  const warn = (message: string) => emit({ type: 'warning', message });
  const [{ runTraining }, metrics] = await Promise.all([
    import('../runtime/trainLoop'),
    evaluate === undefined ? loadReferenceMetrics(warn) : Promise.resolve(evaluate),
  ]);
  await runTraining(request, emit, control, metrics ?? null, hooks);
}

/** serves the training protocol on a port (the worker's parentPort) */
export function serveTraining(port: Pick<MessagePort, 'on' | 'postMessage'>): void {
  const control = createControl();
  let started = false;
  const post = (e: TrainEvent) => port.postMessage(e);
  port.on('message', (raw: unknown) => {
    const parsed = TrainCommand.safeParse(raw);
    if (!parsed.success) {
      const type = typeof raw === 'object' && raw !== null && 'type' in raw ? JSON.stringify((raw as { type: unknown }).type) : undefined;
      post({ type: 'warning', message: `invalid command${type ? ` ${type}` : ''} ignored: ${describeIssues(parsed.error)}` });
      return;
    }
    const cmd = parsed.data;
    switch (cmd.type) {
      case 'start':
        if (started) {
          post({ type: 'warning', message: 'a training run is already running in this worker; start ignored' });
          return;
        }
        started = true;
        // loaded on demand: importing this file (for createControl) stays light
        void runSession(cmd.request, post, control).catch((e: unknown) => {
          // runTraining never throws; this is a last resort so the parent always hears the end
          post({ type: 'stopped', step: 0, reason: 'error', message: e instanceof Error ? e.message : String(e) });
        });
        return;
      case 'pause':
        control.pause();
        return;
      case 'resume':
        control.resume();
        return;
      case 'stop':
        control.stop();
        return;
    }
  });
}

if (parentPort && (workerData as Partial<typeof TRAIN_WORKER_DATA> | undefined)?.genloomTrainingWorker === 1) serveTraining(parentPort);
