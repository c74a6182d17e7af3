/**
 * Starts a training run off the calling thread and relays its events:
 *
 *     const s = startTraining({ doc, runDir, steps: 3000 });
 *     s.on((e) => ...);        // every TrainEvent, validated with the zod schema
 *     s.pause(); s.resume(); s.stop();
 *     const end = await s.done; // the final 'stopped' event
 *
 * By default the run is in a worker thread (trainWorker.ts, loaded through tsx's loader
 * since it is TypeScript: the worker's bootstrap registers tsx, then imports it; this works
 * under plain Node, `node bin/genloom.mjs` and vitest alike). `inProcess: true` runs it on
 * this thread (tests, debugging).
 *
 * A worker crash, an exit before the final event, or an event that fails validation never
 * throws in the caller: a crash or exit ends the session with a 'stopped' event of reason
 * 'error'; an invalid event becomes a 'warning'. A request that cannot be posted to the
 * worker (postMessage throws) ends the worker at once and the session with reason 'error':
 * starting a session never leaves a worker behind.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { TrainCommand, TrainEvent, TrainRequest, type TrainRequestInput } from '../api/trainingProtocol';
import type { BeforeOp } from '../runtime/runFolder';
import type { Evaluate } from '../runtime/trainLoop';
import { tsWorkerBootstrap } from '../runtime/tsWorker';
import { createControl, describeIssues, runSession, TRAIN_WORKER_DATA } from './trainWorker';
import { TorchRun } from './torchSession';

export type StoppedEvent = Extract<TrainEvent, { type: 'stopped' }>;
export type TrainListener = (e: TrainEvent) => void;

export interface TrainingSession {
  readonly mode: 'worker' | 'in-process' | 'child-process';
  /** adds a listener; returns a function that removes it */
  on(listener: TrainListener): () => void;
  pause(): void;
  resume(): void;
  /** asks the run to stop after the current round; it writes a final checkpoint */
  stop(): void;
  /** ends the worker at once (no final checkpoint); `done` resolves with reason 'user' */
  terminate(): Promise<void>;
  /** sends a raw message to the training host, unvalidated (tests use it for malformed commands) */
  post(message: unknown): void;
  /** the final 'stopped' event */
  readonly done: Promise<StoppedEvent>;
}

export interface StartOptions {
  inProcess?: boolean;
  /** in-process only: the metrics hook (undefined = src-main/eval/evaluate.ts, null = none) */
  evaluate?: Evaluate | null;
  /** worker only: memory limits of the worker's heap (exceeding them ends the run with reason 'error') */
  resourceLimits?: ResourceLimits;
  /** in-process only, for tests: the fault-injection seam of the run folder's writes (runtime/runFolder) */
  beforeOp?: BeforeOp;
}


class Session implements TrainingSession {
  private readonly listeners = new Set<TrainListener>();
  private finished = false;
  private lastStep = 0;
  private resolveDone!: (e: StoppedEvent) => void;
  readonly done: Promise<StoppedEvent>;

  constructor(
    readonly mode: 'worker' | 'in-process' | 'child-process',
    private readonly send: (message: unknown) => void,
    private readonly kill: () => Promise<void>,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  on(listener: TrainListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private deliver(e: TrainEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        console.error('[genloom] a training listener threw:', err);
      }
    }
  }

  /** an event from the host: validated, relayed; 'stopped' ends the session */
  receive(raw: unknown): void {
    if (this.finished) return;
    const parsed = TrainEvent.safeParse(raw);
    if (!parsed.success) {
      const type = typeof raw === 'object' && raw !== null && 'type' in raw ? ` ${JSON.stringify((raw as { type: unknown }).type)}` : '';
      this.deliver({ type: 'warning', message: `the training host sent an invalid event${type}: ${describeIssues(parsed.error)}` });
      return;
    }
    const e = parsed.data;
    if ('step' in e && typeof e.step === 'number') this.lastStep = e.step;
    if (e.type === 'stopped') this.end(e);
    else this.deliver(e);
  }

  end(e: StoppedEvent): void {
    if (this.finished) return;
    this.finished = true;
    this.deliver(e);
    this.resolveDone(e);
    void this.kill();
  }

  fail(message: string): void {
    this.end({ type: 'stopped', step: this.lastStep, reason: 'error', message });
  }

  pause(): void {
    this.command({ type: 'pause' });
  }
  resume(): void {
    this.command({ type: 'resume' });
  }
  stop(): void {
    this.command({ type: 'stop' });
  }
  post(message: unknown): void {
    if (!this.finished) this.send(message);
  }
  async terminate(): Promise<void> {
    if (!this.finished) this.end({ type: 'stopped', step: this.lastStep, reason: 'user', message: 'the training was terminated' });
    await this.kill();
  }
  private command(c: TrainCommand): void {
    this.post(c);
  }
}

/** starts a training run; see the file comment */
export function startTraining(request: TrainRequestInput, opts: StartOptions = {}): TrainingSession {
  const checked = TrainRequest.safeParse(request);
  if (!checked.success) {
    const s = new Session(opts.inProcess ? 'in-process' : 'worker', () => {}, async () => {});
    const message = `invalid training request: ${describeIssues(checked.error)}`;
    setImmediate(() => s.fail(message));
    return s;
  }
  if (checked.data.backend === 'torch') return startTorch(checked.data);
  return opts.inProcess ? startInProcess(checked.data, opts.evaluate, opts.beforeOp) : startWorker(checked.data, opts.resourceLimits);
}

/** the PyTorch backend: a child process (torchSession.ts) */
function startTorch(request: TrainRequest): TrainingSession {
  let run: TorchRun | undefined;
  const session = new Session('child-process', (m) => {
    const c = TrainCommand.safeParse(m);
    if (!c.success) session.receive({ type: 'warning', message: `invalid command ignored: ${describeIssues(c.error)}` });
    else run?.command(c.data);
  }, async () => run?.kill());
  run = new TorchRun(request, {
    receive: (e) => session.receive(e),
    fail: (message) => session.fail(message),
    // the evaluation runs in a worker, never on this thread (the studio's main process)
    startTraining: (r) => startTraining({ ...r, backend: undefined }),
  });
  setImmediate(() => {
    run!.run().then(
      () => session.fail('the PyTorch run ended without a final event'), // no-op after 'stopped'
      (e: unknown) => session.fail(e instanceof Error ? e.message : String(e)),
    );
  });
  return session;
}

function startInProcess(request: TrainRequest, evaluate: Evaluate | null | undefined, beforeOp: BeforeOp | undefined): TrainingSession {
  const control = createControl();
  let session!: Session;
  const apply = (raw: unknown) => {
    const parsed = TrainCommand.safeParse(raw);
    if (!parsed.success) {
      session.receive({ type: 'warning', message: `invalid command ignored: ${describeIssues(parsed.error)}` });
      return;
    }
    const c = parsed.data;
    if (c.type === 'pause') control.pause();
    else if (c.type === 'resume') control.resume();
    else if (c.type === 'stop') control.stop();
    else session.receive({ type: 'warning', message: 'a training run is already running; start ignored' });
  };
  session = new Session('in-process', apply, async () => control.stop());
  // start on a later turn so that the caller can attach listeners first
  // (trainLoop, and with it tfjs, is loaded only here: a session with a worker keeps this thread light)
  setImmediate(() => {
    runSession(request, (e) => session.receive(e), control, evaluate, beforeOp && { beforeOp })
      .then(
        () => session.fail('the training ended without a final event'), // no-op after 'stopped'
        (e: unknown) => session.fail(e instanceof Error ? e.message : String(e)),
      );
  });
  return session;
}

function startWorker(request: TrainRequest, resourceLimits?: ResourceLimits): TrainingSession {
  let worker: Worker | undefined;
  let exited = false;
  let startFailure: string | undefined;
  let session!: Session;
  const kill = async () => {
    if (worker && !exited) await worker.terminate().catch(() => {});
  };
  const send = (m: unknown) => {
    try {
      worker?.postMessage(m);
    } catch (e) {
      // e.g. a message the structured clone cannot copy; the run goes on
      session.receive({ type: 'warning', message: `a message could not be sent to the training worker: ${(e as Error).message}` });
    }
  };
  session = new Session('worker', send, kill);
  try {
    worker = new Worker(tsWorkerBootstrap(new URL('./trainWorker.ts', import.meta.url)), { eval: true, name: 'genloom-training', workerData: TRAIN_WORKER_DATA, ...(resourceLimits && { resourceLimits }) });
  } catch (e) {
    setImmediate(() => session.fail(`the training worker could not be started: ${(e as Error).message}`));
    return session;
  }
  worker.on('message', (m: unknown) => session.receive(m));
  worker.on('messageerror', (e: Error) => session.receive({ type: 'warning', message: `a message from the training worker could not be read: ${e.message}` }));
  worker.on('error', (e: Error) => session.fail(`the training worker crashed: ${e.message}`));
  worker.on('exit', (code) => {
    exited = true;
    session.fail(startFailure ?? `the training worker exited (code ${code}) before the run ended`);
  });
  try {
    worker.postMessage({ type: 'start', request } satisfies TrainCommand);
  } catch (e) {
    // the request cannot be copied to the worker (e.g. a document nested too deeply for the
    // structured clone): the worker is ended, never left running, and the session fails
    // on a later turn, once the caller has attached its listeners
    const message = `the training request could not be sent to the training worker: ${(e as Error).message}`;
    startFailure = message;
    void kill();
    setImmediate(() => session.fail(message));
  }
  return session;
}
