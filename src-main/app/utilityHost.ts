/**
 * Training under Electron: each run in its own utilityProcess (own heap; a crash is an exit
 * event, never a crash of the main process). The child (trainingProcess.ts) speaks the
 * training protocol of api/trainingProtocol.ts: TrainCommand in, TrainEvent out, both
 * validated on arrival. Written against a minimal view of Electron's UtilityProcess so it
 * can be tested without Electron.
 */
import { TrainEvent, type TrainCommand, type TrainRequest, type TrainRequestInput } from '../api/trainingProtocol';
import type { ChildProcessLike, TrainingHost, TrainingSessionLike } from './hostTypes';

export type { ChildProcessLike } from './hostTypes';

export interface UtilityHostOptions {
  /** after stop(), how long the child gets to write its checkpoint and exit (default 15 s) */
  stopGraceMs?: number;
}

export interface SessionEnd {
  step: number;
  reason: 'done' | 'user' | 'non-finite' | 'error';
  exitCode: number;
}

class UtilitySession implements TrainingSessionLike {
  private readonly listeners = new Set<(e: TrainEvent) => void>();
  private spawned = false;
  private exited = false;
  private readonly queue: TrainCommand[] = [];
  private stopped: Extract<TrainEvent, { type: 'stopped' }> | undefined;
  private step = 0;
  private killTimer: ReturnType<typeof setTimeout> | undefined;
  readonly done: Promise<SessionEnd>;

  constructor(
    private readonly child: ChildProcessLike,
    request: TrainRequestInput,
    private readonly opts: UtilityHostOptions,
  ) {
    let resolveDone!: (end: SessionEnd) => void;
    this.done = new Promise((res) => (resolveDone = res));
    child.on('spawn', () => {
      this.spawned = true;
      for (const c of this.queue.splice(0)) this.post(c);
    });
    child.on('message', (message) => {
      const parsed = TrainEvent.safeParse(message);
      if (!parsed.success) {
        this.emit({ type: 'warning', message: `the training process sent a malformed event (ignored): ${parsed.error.issues[0]?.message ?? ''}` });
        return;
      }
      const e = parsed.data;
      if ('step' in e) this.step = e.step;
      if (e.type === 'stopped') this.stopped = e;
      this.emit(e);
    });
    child.on('exit', (code) => {
      this.exited = true;
      clearTimeout(this.killTimer);
      if (!this.stopped) {
        this.stopped = { type: 'stopped', step: this.step, reason: 'error', message: `the training process exited unexpectedly (code ${code})` };
        this.emit(this.stopped);
      }
      resolveDone({ step: this.stopped.step, reason: this.stopped.reason, exitCode: code });
    });
    // the child validates (and fills defaults of) the request on arrival
    this.send({ type: 'start', request: request as TrainRequest });
  }

  private emit(e: TrainEvent) {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        console.error('[genloom] a training listener failed:', err);
      }
    }
  }

  private send(c: TrainCommand) {
    if (this.exited) return;
    if (this.spawned) this.post(c);
    else this.queue.push(c);
  }

  /**
   * postMessage, which throws on a message the structured clone cannot copy (e.g. nested
   * too deeply): a request that cannot be sent ends the run with reason 'error' and the
   * child is killed, never left waiting; a command that cannot be sent is a warning
   */
  private post(c: TrainCommand) {
    try {
      this.child.postMessage(c);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      if (c.type !== 'start') {
        this.emit({ type: 'warning', message: `the "${c.type}" command could not be sent to the training process: ${why}` });
        return;
      }
      if (!this.stopped) {
        this.stopped = { type: 'stopped', step: this.step, reason: 'error', message: `the training request could not be sent to the training process: ${why}` };
        this.emit(this.stopped);
      }
      this.child.kill();
    }
  }

  on(listener: (e: TrainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  pause() {
    this.send({ type: 'pause' });
  }
  resume() {
    this.send({ type: 'resume' });
  }
  stop() {
    if (this.exited) return;
    this.send({ type: 'stop' });
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => {
      if (!this.exited) this.child.kill();
    }, this.opts.stopGraceMs ?? 15_000);
    this.killTimer.unref?.();
  }
}

/** a TrainingHost that runs each session in a fresh child made by `fork` */
export function utilityProcessHost(fork: () => ChildProcessLike, opts: UtilityHostOptions = {}): TrainingHost {
  return (request) => new UtilitySession(fork(), request, opts);
}
