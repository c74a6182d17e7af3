/**
 * The studio's training runs: startTraining (one folder per run under dataDir/runs),
 * pause, resume and stop, the lookup of a run (this session's or one on disk) for export,
 * and the stop of every live run at shutdown. Each run's events are forwarded as API
 * events `{ event: 'train', runId, payload }`.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { registry } from '../../../nodes/index';
import type { ApiEvent } from '../../api/contract';
import type { TrainRequestInput } from '../../api/trainingProtocol';
import { formatDocumentErrors, loadDocumentFile, type GraphDocument } from '../../document/index';
import { HandlerError, type Handlers, type MethodParams } from '../dispatch';
import type { TrainingHost, TrainingSessionLike } from '../hostTypes';
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

export type TrainingHandlers = Pick<Handlers, 'startTraining' | 'pauseTraining' | 'resumeTraining' | 'stopTraining'>;

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
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
  await mkdir(runsDir, { recursive: true });
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
  private readonly runs = new Map<string, RunEntry>();
  private disposed = false;
  readonly handlers: TrainingHandlers;

  constructor(
    private readonly runsDir: string,
    private readonly startSession: TrainingHost,
    private readonly emit: (e: ApiEvent) => void,
  ) {
    this.handlers = {
      startTraining: (params) => this.start(params),
      pauseTraining: async ({ runId }) => {
        const run = this.runOrThrow(runId);
        if (run.state === 'running') run.session.pause();
        return {};
      },
      resumeTraining: async ({ runId }) => {
        const run = this.runOrThrow(runId);
        if (run.state === 'paused') run.session.resume();
        return {};
      },
      stopTraining: async ({ runId }) => {
        const run = this.runOrThrow(runId);
        if (run.state !== 'stopped') run.session.stop();
        return {};
      },
    };
  }

  private async start(params: MethodParams<'startTraining'>) {
    if (this.disposed) throw new HandlerError('the studio is shutting down');
    const doc = parseOrThrow(params.doc, 'cannot train');
    const program = compileOrThrow(doc, 'cannot train');
    const { runId, runDir } = await createRunDir(this.runsDir, doc);
    let session: TrainingSessionLike;
    try {
      session = await this.startSession({ ...trainRequestOf(params, doc, runDir), program: programToWire(program) });
    } catch (e) {
      throw new HandlerError(`cannot start training: ${errText(e)}`);
    }
    this.runs.set(runId, trackRun(runId, runDir, doc, session, this.emit));
    return { runId, runDir };
  }

  private runOrThrow(runId: string): RunEntry {
    const run = this.runs.get(runId);
    if (!run) throw new HandlerError(`no training run "${runId}" in this session`);
    return run;
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
