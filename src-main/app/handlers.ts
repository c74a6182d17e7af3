/**
 * The studio's host half: one handler per API method, the same for Electron and web mode.
 * Everything a handler touches lives under `dataDir`:
 *   recent.json        the recent files list (most recent first)
 *   autosave.json      the autosave slot { savedAt, doc }; cleared on an explicit save
 *   graphs/            default home of saved graphs (web mode has no native dialog)
 *   runs/<timestamp>-<template>/   one folder per training run
 * Training runs on a pluggable host (worker thread in plain Node, utilityProcess under
 * Electron); each run's events are forwarded as API events `{ event: 'train', runId, payload }`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { registry } from '../../nodes/index';
import type { ApiEvent, MethodName, Result } from '../api/contract';
import { programToString, type Program } from '../compile/compile';
import { loadProgram } from '../compile/loadProgram';
import { formatDocumentErrors, loadDocumentFile, parseDocument, saveDocumentFile, type DocumentError, type GraphDocument } from '../document/index';
import { REPO_ROOT } from '../document/templates';
import type { TrainEvent, TrainRequestInput } from '../runtime/protocol';
import { readJsonIfPresent, writeJsonAtomic } from './atomicFile';
import { HandlerError, type Handlers, type MethodParams } from './dispatch';

export type { Handlers } from './dispatch';

/** native file dialogs (Electron); absent in web mode */
export interface Dialogs {
  /** a path chosen by the user, or null when cancelled */
  openFile(): Promise<string | null>;
  /** a path chosen by the user (starting at `defaultPath`), or null when cancelled */
  saveFile(defaultPath: string): Promise<string | null>;
}

/** what the studio needs from a running training session (runtime/TrainingSession satisfies it) */
export interface TrainingSessionLike {
  on(listener: (e: TrainEvent) => void): unknown;
  pause(): void;
  resume(): void;
  stop(): void;
  /** settles when the run has ended (after its 'stopped' event) */
  done: Promise<unknown>;
}

/** starts a session on some host: worker thread, utilityProcess, or in-process for tests */
export type TrainingHost = (request: TrainRequestInput) => TrainingSessionLike | Promise<TrainingSessionLike>;

export interface ExportTarget {
  id: string;
  kind: string;
  nodeId: string;
  description: string;
}

/** what the studio needs from the export module (src-main/export) */
export interface ExportBackend {
  listTargets(program: Program): ExportTarget[] | Promise<ExportTarget[]>;
  exportOnnx(args: { program: Program; doc: GraphDocument; runDir: string; target: string; noise: 'internal' | 'inputs'; path: string }): Promise<{
    path: string;
    bytes: number;
    parity: unknown;
  }>;
}

export interface StudioContext {
  dataDir: string;
  /** the folder holding nodes/<family>/templates/ (default: the repository) */
  templateRoot?: string;
  dialogs?: Dialogs;
  /** default: runtime/TrainingSession's startTraining (a worker thread) */
  training?: TrainingHost;
  /** default: the export module, loaded on first use */
  exporter?: ExportBackend | (() => Promise<ExportBackend>);
  /** receives every API event (also available through Studio.onEvent) */
  emit?: (e: ApiEvent) => void;
  /** how many entries the recent list keeps (default 10) */
  recentLimit?: number;
}

export interface Studio {
  handlers: Handlers;
  onEvent(listener: (e: ApiEvent) => void): () => void;
  /** stops every run still going and waits (a few seconds at most) for them to end */
  dispose(): Promise<void>;
}

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

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const GRAPH_FILE_NAMES = ['graph.genloom.json', 'graph.json'];

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

function plainDocumentErrors(errors: readonly DocumentError[]) {
  return errors.map((e) => ({
    code: e.code,
    path: e.path,
    message: e.message,
    ...(e.nodeId !== undefined && { nodeId: e.nodeId }),
    ...(e.line !== undefined && { line: e.line }),
    ...(e.column !== undefined && { column: e.column }),
  }));
}

/** file-name-safe slug of a title: letters, digits, '-', '_' and '.' */
export function slug(text: string, fallback: string): string {
  const s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._ -]+/g, '')
    .trim()
    .replace(/\s+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 80);
  return s || fallback;
}

function metaOf(doc: unknown): Record<string, unknown> {
  const meta = typeof doc === 'object' && doc !== null ? (doc as { meta?: unknown }).meta : undefined;
  return typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? (meta as Record<string, unknown>) : {};
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** a timestamp usable in a folder name, local time: 2025-01-31T14-05-09 */
function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

/** JSON text of any value (undefined -> "null"); the document layer parses text */
function toText(doc: unknown): string {
  return JSON.stringify(doc) ?? 'null';
}

/** parse + migrate a document sent by the renderer; throws HandlerError with documentErrors */
function parseOrThrow(doc: unknown, what: string): GraphDocument {
  const parsed = parseDocument(toText(doc), registry);
  if (!parsed.ok) {
    throw new HandlerError(`${what}: the document has errors:\n${formatDocumentErrors(parsed.errors)}`, {
      documentErrors: plainDocumentErrors(parsed.errors),
    });
  }
  return parsed.doc;
}

function compileOrThrow(doc: GraphDocument, what: string): Program {
  const r = loadProgram(doc);
  if (!r.ok) {
    if (r.stage === 'document') throw new HandlerError(`${what}: the document has errors:\n${r.message}`, { documentErrors: plainDocumentErrors(r.errors) });
    throw new HandlerError(`${what}: ${r.message}`, { diagnostics: r.diagnostics });
  }
  return r.program;
}

async function defaultTrainingHost(request: TrainRequestInput): Promise<TrainingSessionLike> {
  const mod = await import('../runtime/TrainingSession');
  return mod.startTraining(request);
}

async function defaultExporter(): Promise<ExportBackend> {
  const { createExportBackend } = await import('./exportBackend');
  return createExportBackend();
}

export function createStudio(ctx: StudioContext): Studio {
  const dataDir = resolve(ctx.dataDir);
  const templateRoot = resolve(ctx.templateRoot ?? REPO_ROOT);
  const recentPath = join(dataDir, 'recent.json');
  const autosavePath = join(dataDir, 'autosave.json');
  const graphsDir = join(dataDir, 'graphs');
  const runsDir = join(dataDir, 'runs');
  const recentLimit = ctx.recentLimit ?? 10;
  const startSession = ctx.training ?? defaultTrainingHost;
  const listeners = new Set<(e: ApiEvent) => void>();
  const runs = new Map<string, RunEntry>();
  let exporter: Promise<ExportBackend> | undefined;
  let disposed = false;

  const getExporter = () =>
    (exporter ??= (async () => {
      const e = ctx.exporter ?? defaultExporter;
      return typeof e === 'function' ? e() : e;
    })().catch((e) => {
      exporter = undefined;
      throw new HandlerError(`ONNX export is not available: ${errText(e)}`);
    }));

  function emit(e: ApiEvent) {
    for (const l of [ctx.emit, ...listeners]) {
      if (!l) continue;
      try {
        l(e);
      } catch (err) {
        console.error('[genloom] an event listener failed:', err);
      }
    }
  }

  // ---------- recent files (serialised: two saves at once must not lose an entry) ----------
  let recentQueue: Promise<unknown> = Promise.resolve();
  async function readRecent(): Promise<string[]> {
    const v = await readJsonIfPresent(recentPath);
    return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string' && isAbsolute(p)) : [];
  }
  function addRecent(path: string): Promise<void> {
    const next = recentQueue.then(async () => {
      const list = (await readRecent()).filter((p) => p !== path);
      list.unshift(path);
      await writeJsonAtomic(recentPath, list.slice(0, recentLimit));
    });
    recentQueue = next.catch(() => {});
    return next;
  }

  // ---------- paths ----------
  /** a user-given graph path: relative paths are read from dataDir/graphs */
  const graphPath = (p: string) => (isAbsolute(p) ? resolve(p) : resolve(graphsDir, p));

  function defaultSavePath(doc: GraphDocument): string {
    return join(graphsDir, `${slug(str(doc.meta.title) ?? '', 'untitled')}.genloom.json`);
  }

  async function runDirFor(doc: GraphDocument): Promise<{ runId: string; runDir: string }> {
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

  function runOrThrow(runId: string): RunEntry {
    const run = runs.get(runId);
    if (!run) throw new HandlerError(`no training run "${runId}" in this session`);
    return run;
  }

  /** a run of this session, or one on disk (a previous session's), with its document */
  async function findRun(runId: string): Promise<{ runDir: string; doc: GraphDocument }> {
    const live = runs.get(runId);
    if (live) return live;
    if (!RUN_ID.test(runId) || runId.includes('..')) throw new HandlerError(`"${runId}" is not a run id`);
    const runDir = join(runsDir, runId);
    for (const name of GRAPH_FILE_NAMES) {
      const file = join(runDir, name);
      if (!existsSync(file)) continue;
      const loaded = await loadDocumentFile(file, registry);
      if (!loaded.ok) throw new HandlerError(`the graph of run "${runId}" cannot be read:\n${formatDocumentErrors(loaded.errors)}`);
      return { runDir, doc: loaded.doc };
    }
    throw new HandlerError(`no training run "${runId}" (looked in ${runsDir})`);
  }

  // ---------- handlers ----------
  const handlers: Handlers = {
    async listTemplates() {
      const out: Result<'listTemplates'> = [];
      for (const { template, family, path } of registry.templates()) {
        let doc: unknown;
        try {
          doc = JSON.parse(await readFile(join(templateRoot, path), 'utf8'));
        } catch (e) {
          console.warn(`[genloom] skipping template ${template.name}: ${errText(e)}`);
          continue;
        }
        const meta = metaOf(doc);
        const id = template.name;
        out.push({ id, title: str(meta.title) ?? id, description: str(meta.description) ?? family.description, dataset: str(meta.dataset) ?? '', doc });
      }
      return out;
    },

    async validate({ doc }) {
      const r = loadProgram(doc ?? null);
      if (r.ok) return { ok: true, diagnostics: r.graph.diagnostics, program: programToString(r.program) };
      return r.stage === 'document' ? { ok: false, diagnostics: [], documentErrors: plainDocumentErrors(r.errors) } : { ok: false, diagnostics: r.diagnostics };
    },

    async openFile({ path }) {
      let target = path;
      if (target === undefined) {
        if (!ctx.dialogs) throw new HandlerError('openFile needs a path: there is no file dialog in web mode');
        const chosen = await ctx.dialogs.openFile();
        if (chosen === null) return null;
        target = chosen;
      }
      const file = graphPath(target);
      const loaded = await loadDocumentFile(file, registry);
      if (!loaded.ok) {
        throw new HandlerError(`cannot open ${file}:\n${formatDocumentErrors(loaded.errors)}`, { documentErrors: plainDocumentErrors(loaded.errors) });
      }
      await addRecent(file);
      return { path: file, doc: loaded.doc };
    },

    async saveFile({ path, doc, saveAs }) {
      const parsed = parseOrThrow(doc, 'cannot save');
      let target: string;
      if (path !== undefined && !saveAs) target = graphPath(path);
      else if (ctx.dialogs) {
        const chosen = await ctx.dialogs.saveFile(path !== undefined ? graphPath(path) : defaultSavePath(parsed));
        if (chosen === null) return null;
        target = resolve(chosen);
      } else target = path !== undefined ? graphPath(path) : defaultSavePath(parsed);
      if (!target.toLowerCase().endsWith('.json')) {
        throw new HandlerError(`cannot save ${target}: a graph file name must end in .json (e.g. .genloom.json)`);
      }
      if (target.startsWith(graphsDir)) await mkdir(graphsDir, { recursive: true });
      try {
        await saveDocumentFile(target, parsed);
      } catch (e) {
        throw new HandlerError(errText(e));
      }
      await unlink(autosavePath).catch(() => {});
      await addRecent(target);
      return { path: target };
    },

    async recentFiles() {
      await recentQueue;
      const list = await readRecent();
      const present = await Promise.all(list.map((p) => stat(p).then((s) => s.isFile(), () => false)));
      return list.filter((_, i) => present[i]);
    },

    async autosave({ doc }) {
      const savedAt = Date.now();
      await writeJsonAtomic(autosavePath, { savedAt, doc: doc ?? null });
      return { savedAt };
    },

    async restoreAutosave() {
      const v = await readJsonIfPresent(autosavePath);
      if (typeof v !== 'object' || v === null) return null;
      const { savedAt, doc } = v as { savedAt?: unknown; doc?: unknown };
      if (typeof savedAt !== 'number' || doc === undefined || doc === null) return null;
      return { doc, savedAt };
    },

    async startTraining(params) {
      if (disposed) throw new HandlerError('the studio is shutting down');
      const doc = parseOrThrow(params.doc, 'cannot train');
      compileOrThrow(doc, 'cannot train');
      const training = (metaOf(doc).training ?? {}) as { batchSize?: unknown };
      const batchSize = params.batchSize ?? (typeof training.batchSize === 'number' && Number.isInteger(training.batchSize) ? training.batchSize : undefined);
      const { runId, runDir } = await runDirFor(doc);
      const request: TrainRequestInput = {
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
      let session: TrainingSessionLike;
      try {
        session = await startSession(request);
      } catch (e) {
        throw new HandlerError(`cannot start training: ${errText(e)}`);
      }
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
      runs.set(runId, entry);
      return { runId, runDir };
    },

    async pauseTraining({ runId }) {
      const run = runOrThrow(runId);
      if (run.state === 'running') run.session.pause();
      return {};
    },

    async resumeTraining({ runId }) {
      const run = runOrThrow(runId);
      if (run.state === 'paused') run.session.resume();
      return {};
    },

    async stopTraining({ runId }) {
      const run = runOrThrow(runId);
      if (run.state !== 'stopped') run.session.stop();
      return {};
    },

    async exportTargets({ runId }) {
      const { doc } = await findRun(runId);
      const program = compileOrThrow(doc, 'cannot export');
      const backend = await getExporter();
      return (await backend.listTargets(program)).map(({ id, kind, nodeId, description }) => ({ id, kind, nodeId, description }));
    },

    async exportOnnx({ runId, target, noise, path }) {
      const { doc, runDir } = await findRun(runId);
      const program = compileOrThrow(doc, 'cannot export');
      const backend = await getExporter();
      const targets = await backend.listTargets(program);
      if (!targets.some((t) => t.id === target)) {
        throw new HandlerError(`run "${runId}" has no export target "${target}" (targets: ${targets.map((t) => t.id).join(', ') || 'none'})`);
      }
      const out = path !== undefined ? resolve(runDir, path) : join(runDir, 'export', `${slug(target, 'model')}.onnx`);
      if (!out.toLowerCase().endsWith('.onnx')) throw new HandlerError(`cannot export to ${out}: the file name must end in .onnx`);
      try {
        return await backend.exportOnnx({ program, doc, runDir, target, noise, path: out });
      } catch (e) {
        if (e instanceof HandlerError) throw e;
        throw new HandlerError(`export of "${target}" failed: ${errText(e)}`);
      }
    },
  };

  return {
    handlers,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async dispose() {
      disposed = true;
      const live = [...runs.values()].filter((r) => r.state !== 'stopped');
      for (const r of live) {
        try {
          r.session.stop();
        } catch {
          /* already gone */
        }
      }
      await Promise.race([Promise.all(live.map((r) => r.done)), new Promise((res) => setTimeout(res, 5000).unref())]);
      listeners.clear();
    },
  };
}

/** the handler table (events go to ctx.emit) */
export function createHandlers(ctx: StudioContext): { [M in MethodName]: (params: MethodParams<M>) => Promise<Result<M>> } {
  return createStudio(ctx).handlers;
}
