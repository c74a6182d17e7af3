/**
 * The studio's training runs: startTraining (one folder per run under dataDir/runs),
 * pause, resume and stop, the lookup of a run (this session's or one on disk) for export,
 * and the stop of every live run at shutdown. Each run's events are forwarded as API
 * events `{ event: 'train', runId, payload }`.
 *
 * At most `maxRuns` runs train at once (default 4; GENLOOM_MAX_TRAINING_RUNS or the
 * studio's option): a start past that is refused with a clear error (each run is a
 * worker with its own heap). A run is held in memory only while it runs: once it has
 * ended it is released, and what export needs of it (its graph) is read back from its
 * folder; pause, resume and stop of an ended run do nothing.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { ensureWritableDir } from '../../runtime/runFolder';
import { join } from 'node:path';
import { registry } from '../../../nodes/index';
import type { ApiEvent, Result } from '../../api/contract';
import type { TrainRequestInput } from '../../api/trainingProtocol';
import { formatDocumentErrors, loadDocumentFile, type GraphDocument } from '../../document/index';
import { HandlerError, type Handlers, type MethodParams } from '../dispatch';
import type { TrainingHost, TrainingSessionLike } from '../hostTypes';
import type { Program } from '../../compile/compile';
import { programToWire } from '../../compile/programWire';
import { compileOrThrow, errText, metaOf, parseOrThrow, slug, str } from './common';

type RunState = 'running' | 'paused' | 'stopped';

interface RunEntry {
  runId: string;
  runDir: string;
  doc: GraphDocument;
  session: TrainingSessionLike;
  state: RunState;
  step: number;
  done: Promise<void>;
}

export type TrainingHandlers = Pick<Handlers, 'startTraining' | 'pauseTraining' | 'resumeTraining' | 'stopTraining' | 'backends'>;

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** training runs at once, unless the studio is told otherwise */
export const DEFAULT_MAX_TRAINING_RUNS = 4;

/** the limit from GENLOOM_MAX_TRAINING_RUNS (a positive integer), else the default */
export function maxTrainingRunsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.GENLOOM_MAX_TRAINING_RUNS);
  return Number.isInteger(n) && n >= 1 ? n : DEFAULT_MAX_TRAINING_RUNS;
}
const GRAPH_FILE_NAMES = ['graph.genloom.json', 'graph.json'];

/** a timestamp usable in a folder name, local time: 2025-01-31T14-05-09 */
function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

/** a fresh folder runs/<timestamp>-<template>[-N] */
export async function createRunDir(runsDir: string, doc: GraphDocument): Promise<{ runId: string; runDir: string }> {
  const meta = metaOf(doc);
  const template = slug(str(meta.template) ?? str(meta.title) ?? '', 'graph');
  try {
    // says why when the data folder cannot be written (read-only, permissions, a file in the way)
    await ensureWritableDir(runsDir);
  } catch (e) {
    throw new HandlerError(`cannot train: ${errText(e)}`);
  }
  const base = `${stamp()}-${template}`;
  for (let i = 1; i < 1000; i++) {
    const runId = i === 1 ? base : `${base}-${i}`;
    const runDir = join(runsDir, runId);
    try {
      await mkdir(runDir); // not recursive: fails if taken
      return { runId, runDir };
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
  }
  throw new HandlerError('cannot create a run folder: too many runs started this second');
}

/** the training request of a startTraining call (the document's batch size unless one is given) */
export function trainRequestOf(params: MethodParams<'startTraining'>, doc: GraphDocument, runDir: string): TrainRequestInput {
  const training = (metaOf(doc).training ?? {}) as { batchSize?: unknown };
  const batchSize = params.batchSize ?? (typeof training.batchSize === 'number' && Number.isInteger(training.batchSize) ? training.batchSize : undefined);
  return {
    doc,
    runDir,
    steps: params.steps,
    seed: params.seed,
    ...(params.backend !== undefined && { backend: params.backend }),
    ...(params.backend === 'torch' && params.device !== undefined && { device: params.device }),
    ...(batchSize !== undefined && { batchSize }),
    ...(params.logEvery !== undefined && { logEvery: params.logEvery }),
    ...(params.sampleEvery !== undefined && { sampleEvery: params.sampleEvery }),
    ...(params.checkpointEvery !== undefined && { checkpointEvery: params.checkpointEvery }),
  };
}

/** a run entry that follows its session's events (state, step) and forwards them */
function trackRun(runId: string, runDir: string, doc: GraphDocument, session: TrainingSessionLike, emit: (e: ApiEvent) => void): RunEntry {
  let sawStopped = false;
  const entry: RunEntry = { runId, runDir, doc, session, state: 'running', step: 0, done: Promise.resolve() };
  session.on((payload) => {
    if ('step' in payload && typeof payload.step === 'number') entry.step = payload.step;
    if (payload.type === 'paused') entry.state = 'paused';
    else if (payload.type === 'resumed') entry.state = 'running';
    else if (payload.type === 'stopped') {
      entry.state = 'stopped';
      sawStopped = true;
    }
    emit({ event: 'train', runId, payload });
  });
  entry.done = Promise.resolve(session.done).then(
    () => {
      entry.state = 'stopped';
    },
    (e) => {
      entry.state = 'stopped';
      if (!sawStopped) emit({ event: 'train', runId, payload: { type: 'stopped', step: entry.step, reason: 'error', message: errText(e) } });
    },
  );
  return entry;
}

export class StudioRuns {
  /** the runs still running (or paused); an ended run is released */
  private readonly runs = new Map<string, RunEntry>();
  /** the runs that hold a slot: those running and those being started */
  private slots = 0;
  private disposed = false;
  readonly handlers: TrainingHandlers;

  constructor(
    private readonly runsDir: string,
    private readonly startSession: TrainingHost,
    private readonly emit: (e: ApiEvent) => void,
    private readonly maxRuns: number = DEFAULT_MAX_TRAINING_RUNS,
    private readonly hooks: {
      /** the document the run trains (e.g. with its CSV paths checked and resolved); throws HandlerError to refuse */
      prepareDocument?: (doc: GraphDocument, program: Program, params: MethodParams<'startTraining'>) => Promise<GraphDocument>;
    } = {},
  ) {
    this.handlers = {
      startTraining: (params) => this.start(params),
      backends: async () => ({ torch: await torchBackend() }),
      pauseTraining: async ({ runId }) => {
        const run = this.runOrThrow(runId);
        if (run?.state === 'running') run.session.pause();
        return {};
      },
      resumeTraining: async ({ runId }) => {
        const run = this.runOrThrow(runId);
        if (run?.state === 'paused') run.session.resume();
        return {};
      },
      stopTraining: async ({ runId }) => {
        const run = this.runOrThrow(runId);
        if (run && run.state !== 'stopped') run.session.stop();
        return {};
      },
    };
  }

  /** how many runs are held in memory (running or paused) */
  get live(): number {
    return this.runs.size;
  }

  private async start(params: MethodParams<'startTraining'>) {
    if (this.disposed) throw new HandlerError('the studio is shutting down');
    const parsed = parseOrThrow(params.doc, 'cannot train');
    let doc = parsed;
    let program = compileOrThrow(parsed, 'cannot train');
    // taken before the first await, so that a burst of starts cannot pass the limit together
    if (this.slots >= this.maxRuns) {
      const n = this.maxRuns;
      throw new HandlerError(`cannot train: ${n} training run${n === 1 ? ' is' : 's are'} running already (the most at once); stop one or wait for one to end`, {
        limit: n,
      });
    }
    this.slots++;
    let entry: RunEntry;
    try {
      if (this.hooks.prepareDocument) {
        doc = await this.hooks.prepareDocument(parsed, program, params);
        if (doc !== parsed) program = compileOrThrow(doc, 'cannot train');
      }
      const { runId, runDir } = await createRunDir(this.runsDir, doc);
      let session: TrainingSessionLike;
      try {
        session = await this.startSession({ ...trainRequestOf(params, doc, runDir), program: programToWire(program) });
      } catch (e) {
        throw new HandlerError(`cannot start training: ${errText(e)}`);
      }
      entry = trackRun(runId, runDir, doc, session, this.emit);
    } catch (e) {
      this.slots--;
      throw e;
    }
    this.runs.set(entry.runId, entry);
    // released once it has ended: its slot, and its entry (export reads an ended run from its folder)
    void entry.done.then(() => {
      this.runs.delete(entry.runId);
      this.slots--;
    });
    return { runId: entry.runId, runDir: entry.runDir };
  }

  /** a live run; undefined for one of this studio's folder that has ended (nothing to do); HandlerError for an unknown id */
  private runOrThrow(runId: string): RunEntry | undefined {
    const run = this.runs.get(runId);
    if (run) return run;
    if (RUN_ID.test(runId) && !runId.includes('..') && existsSync(join(this.runsDir, runId))) return undefined;
    throw new HandlerError(`no training run "${runId}" in this session`);
  }

  /** a run of this session, or one on disk (a previous session's), with its document */
  async find(runId: string): Promise<{ runDir: string; doc: GraphDocument }> {
    const live = this.runs.get(runId);
    if (live) return live;
    if (!RUN_ID.test(runId) || runId.includes('..')) throw new HandlerError(`"${runId}" is not a run id`);
    const runDir = join(this.runsDir, runId);
    for (const name of GRAPH_FILE_NAMES) {
      const file = join(runDir, name);
      if (!existsSync(file)) continue;
      const loaded = await loadDocumentFile(file, registry);
      if (!loaded.ok) throw new HandlerError(`the graph of run "${runId}" cannot be read:\n${formatDocumentErrors(loaded.errors)}`);
      return { runDir, doc: loaded.doc };
    }
    throw new HandlerError(`no training run "${runId}" (looked in ${this.runsDir})`);
  }

  /** refuses new runs, stops every live one and waits (5 s at most) for them to end */
  async dispose(): Promise<void> {
    this.disposed = true;
    const live = [...this.runs.values()].filter((r) => r.state !== 'stopped');
    for (const r of live) {
      try {
        r.session.stop();
      } catch {
        /* already gone */
      }
    }
    await Promise.race([Promise.all(live.map((r) => r.done)), new Promise((res) => setTimeout(res, 5000).unref())]);
  }
}

let torchProbe: Promise<Result<'backends'>['torch']> | undefined;
/** PyTorch as a training backend: found once per process (a python3 with torch; its CUDA device) */
function torchBackend(): Promise<Result<'backends'>['torch']> {
  torchProbe ??= (async () => {
    const { findTorchPython, runPython } = await import('../../torch/python');
    const found = await findTorchPython();
    if ('error' in found) return { available: false as const, reason: found.error };
    const r = await runPython(found.python, ['-c', 'import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'], { timeoutMs: 60_000 });
    return { available: true as const, version: found.torch, python: found.python, cuda: r.code === 0 && r.stdout.trim() ? r.stdout.trim() : null };
  })();
  return torchProbe;
}
