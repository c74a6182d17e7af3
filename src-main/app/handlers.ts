/**
 * The studio's host half: one handler per API method, the same for Electron and web mode.
 * Everything a handler touches lives under `dataDir`, or is a file the user picked through
 * a dialog (a file handle; studio/confine.ts):
 *   recent.json        the recent files list (most recent first)
 *   grants.json        the files picked through dialogs (written by the host only)
 *   datasets/          CSV files sent from the browser (importDataset)
 *   autosave.json      the autosave slot { savedAt, doc }; cleared on an explicit save
 *   graphs/            default home of saved graphs (web mode has no native dialog)
 *   runs/<timestamp>-<template>/   one folder per training run
 * Training runs on a pluggable host (worker thread in plain Node, utilityProcess under
 * Electron); each run's events are forwarded as API events `{ event: 'train', runId, payload }`.
 * The handlers are grouped by area in studio/ (templates, files, autosave, training, export).
 */
import { resolve } from 'node:path';
import type { ApiEvent, MethodName, Result } from '../api/contract';
import type { TrainRequestInput } from '../api/trainingProtocol';
import { REPO_ROOT } from '../document/templates';
import type { Handlers, MethodParams } from './dispatch';
import type { Dialogs, TrainingHost, TrainingSessionLike } from './hostTypes';
import { autosaveHandlers } from './studio/autosave';
import { FileGrants } from './studio/confine';
import { confineDatasets, datasetHandlers, graphFolder } from './studio/datasets';
import { studioPaths } from './studio/common';
import { exportHandlers, lazyExporter, type ExporterOption } from './studio/export';
import { fileHandlers } from './studio/files';
import { templateHandlers } from './studio/templates';
import { maxTrainingRunsFromEnv, StudioRuns } from './studio/training';

export type { Handlers } from './dispatch';
export type { ChildProcessLike, Dialogs, ExportBackend, ExportTarget, TrainingHost, TrainingSessionLike } from './hostTypes';
export { slug } from './studio/common';

export interface StudioContext {
  dataDir: string;
  /** the folder holding nodes/<family>/templates/ (default: the repository) */
  templateRoot?: string;
  dialogs?: Dialogs;
  /** default: session/TrainingSession's startTraining (a worker thread) */
  training?: TrainingHost;
  /** default: the export module, loaded on first use */
  exporter?: ExporterOption;
  /** receives every API event (also available through Studio.onEvent) */
  emit?: (e: ApiEvent) => void;
  /** how many entries the recent list keeps (default 10) */
  recentLimit?: number;
  /** how many training runs may run at once (default: GENLOOM_MAX_TRAINING_RUNS, else 4); more are refused */
  maxTrainingRuns?: number;
}

export interface Studio {
  handlers: Handlers;
  onEvent(listener: (e: ApiEvent) => void): () => void;
  /** stops every run still going and waits (a few seconds at most) for them to end */
  dispose(): Promise<void>;
  /** how many training runs are held (running or paused); ended runs are released */
  liveRuns(): number;
}

async function defaultTrainingHost(request: TrainRequestInput): Promise<TrainingSessionLike> {
  const mod = await import('../session/TrainingSession');
  return mod.startTraining(request);
}

/** delivers an event to ctx.emit and every listener; a failing listener is logged, never thrown */
function eventFanOut(first: ((e: ApiEvent) => void) | undefined, listeners: Set<(e: ApiEvent) => void>) {
  return (e: ApiEvent) => {
    for (const l of [first, ...listeners]) {
      if (!l) continue;
      try {
        l(e);
      } catch (err) {
        console.error('[genloom] an event listener failed:', err);
      }
    }
  };
}

export function createStudio(ctx: StudioContext): Studio {
  const paths = studioPaths(ctx.dataDir);
  const listeners = new Set<(e: ApiEvent) => void>();
  const grants = new FileGrants(paths.grants);
  const runs = new StudioRuns(paths.runs, ctx.training ?? defaultTrainingHost, eventFanOut(ctx.emit, listeners), ctx.maxTrainingRuns ?? maxTrainingRunsFromEnv(), {
    // CSV datasets: only files of the data folder or granted ones, resolved against the graph's folder
    prepareDocument: async (doc, program, params) => confineDatasets(doc, program, { paths, grants, base: await graphFolder(params.path, paths, grants) }),
  });
  const handlers: Handlers = {
    ...templateHandlers(resolve(ctx.templateRoot ?? REPO_ROOT)),
    ...fileHandlers(paths, ctx.dialogs, ctx.recentLimit ?? 10, grants),
    ...autosaveHandlers(paths.autosave),
    ...runs.handlers,
    ...exportHandlers((runId) => runs.find(runId), lazyExporter(ctx.exporter), { dataDir: paths.dataDir, grants }),
    ...datasetHandlers(paths, ctx.dialogs, grants),
  };
  return {
    handlers,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async dispose() {
      await runs.dispose();
      listeners.clear();
    },
    liveRuns: () => runs.live,
  };
}

/** the handler table (events go to ctx.emit) */
export function createHandlers(ctx: StudioContext): { [M in MethodName]: (params: MethodParams<M>) => Promise<Result<M>> } {
  return createStudio(ctx).handlers;
}
