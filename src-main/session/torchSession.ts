/**
 * A training session on the PyTorch backend (request.backend 'torch'): the graph is written
 * as a PyTorch program into RUN/torch/ (src-main/torch/) and run as a child process
 * (torchrun for nproc > 1), whose JSON lines become the session's TrainEvents. The caller
 * sees what a tfjs session gives: 'started', 'step', live 'samples', 'checkpoint',
 * pause/resume (the process is stopped and continued), stop (SIGINT: the program writes a
 * checkpoint and ends), and at the end the held-out evaluation, run by a tfjs session on
 * the checkpoint PyTorch wrote (evaluateOnly), then 'stopped'.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TrainEvent, TrainRequest, TrainRequestInput } from '../api/trainingProtocol';
import { programToString } from '../compile/compile';
import { serializeDocument } from '../document/serializeDocument';
import { initBackend } from '../runtime/backend';
import { genloomVersion, readLatestCheckpoint } from '../runtime/runFolder';
import { DEFAULT_BATCH_SIZE, loadRequest } from '../runtime/trainSetup';
import { exportTorch } from '../torch/exportTorch';
import { findTorchPython } from '../torch/python';

/** what the session gives this host: events in, commands out */
export interface TorchHost {
  /** an event for the session's listeners (validated there) */
  receive(e: unknown): void;
  /** ends the session with reason 'error' */
  fail(message: string): void;
  /** a tfjs session (the evaluation of the finished run) */
  startTraining(request: TrainRequestInput): { on(l: (e: TrainEvent) => void): () => void; readonly done: Promise<Extract<TrainEvent, { type: 'stopped' }>> };
}

/** the line events of train.py (pythonRuntime.ts) */
interface PyEvent {
  type: string;
  step?: number;
  totalSteps?: number;
  losses?: Record<string, Record<string, number>>;
  stepsPerSec?: number;
  etaSec?: number;
  message?: string;
  code?: string;
  objective?: string;
  device?: string;
  torch?: string;
  stopped?: boolean;
  sampler?: string;
  shape?: number[];
  data?: number[];
}

export class TorchRun {
  private child?: ChildProcess;
  private paused = false;
  private stopping = false;
  private step = 0;

  constructor(
    private readonly request: TrainRequest,
    private readonly host: TorchHost,
  ) {}

  /** pause, resume, stop: signals to the process (group, under torchrun) */
  command(c: { type: string }): void {
    const signal = (s: NodeJS.Signals) => {
      const pid = this.child?.pid;
      if (pid === undefined || this.child?.exitCode !== null) return;
      try {
        process.kill(-pid, s);
      } catch {
        this.child.kill(s);
      }
    };
    if (c.type === 'pause' && !this.paused) {
      signal('SIGSTOP');
      this.paused = true;
      this.host.receive({ type: 'paused', step: this.step });
    } else if (c.type === 'resume' && this.paused) {
      signal('SIGCONT');
      this.paused = false;
      this.host.receive({ type: 'resumed', step: this.step });
    } else if (c.type === 'stop') {
      this.stopping = true;
      if (this.paused) signal('SIGCONT');
      signal('SIGINT');
    }
  }

  async kill(): Promise<void> {
    const pid = this.child?.pid;
    if (pid !== undefined && this.child?.exitCode === null) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        this.child?.kill('SIGKILL');
      }
    }
  }

  async run(): Promise<void> {
    const r = this.request;
    const found = await findTorchPython();
    if ('error' in found) return this.host.fail(`the PyTorch backend is not available: ${found.error}`);
    await initBackend(); // the initial weights are the tfjs trainer's, for the seed
    // the document and its program, as a tfjs run reads them (the run's own graph when resuming)
    const loaded = await loadRequest(r, (message) => this.host.receive({ type: 'warning', message }));
    if (typeof loaded === 'string') return this.host.fail(loaded);
    const { doc, program } = loaded;
    let weights: Map<string, { shape: number[]; data: Float32Array }> | undefined;
    let seed = r.seed;
    let batchSize = r.batchSize;
    if (r.resume) {
      const ck = await readLatestCheckpoint(r.runDir).catch((e: Error) => e);
      if (ck instanceof Error) return this.host.fail(ck.message);
      weights = ck.weights;
      seed = ck.state.seed;
      batchSize ??= ck.state.batchSize;
      this.step = ck.step;
    }
    const training = (doc.meta as { training?: { batchSize?: number } }).training;
    batchSize ??= training?.batchSize ?? DEFAULT_BATCH_SIZE;
    if (batchSize % r.nproc) return this.host.fail(`batch size ${batchSize} does not split over ${r.nproc} processes`);
    const dir = join(r.runDir, 'torch');
    const exported = await exportTorch(program, dir, {
      name: 'graph',
      genloom: genloomVersion(),
      seed,
      batchSize,
      steps: r.steps,
      documentText: serializeDocument(doc),
      ...(weights && { weights }),
      warn: (message) => this.host.receive({ type: 'warning', message }),
    });
    for (const s of exported.skippedSamplers) this.host.receive({ type: 'warning', message: `sampler ${s.nodeId} has no PyTorch form (${s.reason}); its samples come at the end of the run` });
    const script = join(dir, 'train.py');
    const args = [script, '--out', r.runDir, '--steps', String(r.steps), '--device', r.device, '--seed', String(seed), '--batch', String(batchSize), '--json',
      '--log-every', String(r.logEvery), '--checkpoint-every', String(r.checkpointEvery), '--sample-every', String(r.sampleEvery), '--sample-count', String(r.sampleCount), ...(r.resume ? ['--resume'] : [])];
    const torchrun = found.python === '/usr/bin/python3' ? '/usr/bin/torchrun' : 'torchrun';
    const [cmd, argv] = r.nproc > 1 ? [torchrun, ['--standalone', '--nnodes=1', `--nproc_per_node=${r.nproc}`, '--redirects', '1', '--tee', '1', '--log_dir', join(dir, 'logs'), ...args]] : [found.python, args];
    const objectives = program.objectives.map((o) => ({ nodeId: o.nodeId }));
    const samplers = program.samplers.map((s) => ({ nodeId: s.nodeId, shape: s.shape }));
    let error: PyEvent | undefined;
    let done: PyEvent | undefined;
    let tail = '';
    const onLine = (line: string) => {
      const text = line.replace(/^\[default\d+\]:/, '').trim();
      if (!text.startsWith('{')) return;
      let e: PyEvent;
      try {
        e = JSON.parse(text) as PyEvent;
      } catch {
        return;
      }
      if (typeof e.step === 'number') this.step = e.step;
      switch (e.type) {
        case 'started':
          this.host.receive({ type: 'started', backend: `torch ${e.torch ?? ''} ${e.device ?? r.device}`.replace(/\s+/g, ' ').trim(), runDir: r.runDir, step: e.step ?? 0, totalSteps: e.totalSteps ?? r.steps, program: programToString(program), objectives, samplers });
          break;
        case 'step':
          this.host.receive({ type: 'step', step: e.step, totalSteps: e.totalSteps, stepsPerSec: e.stepsPerSec ?? 0, etaSec: e.etaSec ?? 0, losses: e.losses ?? {} });
          break;
        case 'samples':
          this.host.receive({ type: 'samples', step: e.step, sampler: e.sampler, shape: e.shape, data: e.data });
          break;
        case 'checkpoint':
          this.host.receive({ type: 'checkpoint', step: e.step, path: join(r.runDir, 'checkpoints', `step-${String(e.step).padStart(7, '0')}`) });
          break;
        case 'error':
          error = e;
          break;
        case 'done':
          done = e;
          break;
      }
    };
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    this.child = child;
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let k = buf.indexOf('\n'); k >= 0; k = buf.indexOf('\n')) {
        onLine(buf.slice(0, k));
        buf = buf.slice(k + 1);
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
    });
    const code = await new Promise<number | string>((resolve) => {
      child.on('error', (e) => resolve(`${cmd} could not be started: ${e.message}`));
      child.on('close', (c, sig) => resolve(c ?? `the PyTorch process was killed (${sig})`));
    });
    if (buf) onLine(buf);
    const last = await readLatestCheckpoint(r.runDir).then((c) => c.dir, () => undefined);
    const kept = last ? { checkpoint: last } : {};
    if (code !== 0) {
      if (error?.code === 'non-finite-loss') return this.host.receive({ type: 'stopped', step: this.step, reason: 'non-finite', message: error.message, ...(error.objective && { nodeId: error.objective }), ...kept });
      const why = error?.message ?? (typeof code === 'string' ? code : `the PyTorch process exited with code ${code}${tail.trim() ? `: ${tail.trim().split('\n').pop()}` : ''}`);
      return this.host.receive({ type: 'stopped', step: this.step, reason: 'error', message: why, ...kept });
    }
    if (done?.stopped || this.stopping) return this.host.receive({ type: 'stopped', step: this.step, reason: 'user', ...kept });
    // the held-out evaluation and the final samples: a tfjs session on the checkpoint PyTorch wrote
    const evaluation = this.host.startTraining({ doc, runDir: r.runDir, steps: r.steps, resume: true, evaluateOnly: true, sampleCount: r.sampleCount });
    evaluation.on((e) => {
      if (e.type === 'samples' || e.type === 'evaluating' || e.type === 'metrics' || e.type === 'warning') this.host.receive(e);
    });
    const end = await evaluation.done;
    if (end.reason !== 'done') this.host.receive({ type: 'warning', message: `the held-out evaluation did not run: ${end.message ?? end.reason}` });
    this.host.receive({ type: 'stopped', step: this.step, reason: 'done', ...kept });
  }
}
