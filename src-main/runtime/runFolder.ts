/**
 * The run folder: everything a training run leaves on disk.
 *
 *     <runDir>/graph.json                        the graph document that was trained
 *     <runDir>/config.json                       the request (minus the document), backend, genloom version
 *     <runDir>/metrics.jsonl                     one JSON object per line: log steps and metric evaluations
 *     <runDir>/samples/step-0000250.json         the samples of every sampler at that step
 *     <runDir>/checkpoints/step-0000500/         weights.safetensors, optimizer.safetensors, state.json
 *     <runDir>/checkpoints/latest.json           names the newest complete checkpoint
 *
 * weights.safetensors holds the parameters (`${nodeId}/${local}`), the node states
 * (`state/${nodeId}/${local}`, e.g. a replay buffer) and the EMA shadows
 * (`ema/${nodeId}/${param}`); optimizer.safetensors the slots of every gradient
 * objective's optimiser (`${objective}::${variable}/m`, `/v` for Adam, `/momentum` for SGD
 * with momentum, `/rms` and `/momentum` for RMSprop) and its step count (`::iter`).
 *
 * Checkpoints are written atomically: the folder is written under a temporary name (each
 * file fsynced, state.json last, with the size and SHA-256 of the two tensor files), the
 * folder is fsynced and renamed to step-XXXXXXX, then latest.json is replaced atomically
 * (temporary file, fsync, rename). A crash at any point leaves latest.json naming a
 * complete checkpoint (or no latest.json at all before the first one). The last
 * KEEP_CHECKPOINTS checkpoints are kept, older ones deleted.
 *
 * A write that fails (a full disk, a file system turned read-only) throws, with the
 * errno code of the failure, and removes what it had written: latest.json keeps naming the
 * previous checkpoint, which stays intact, and a later write of the same step succeeds.
 * Removing old checkpoints is best effort: its failure does not fail the write.
 * `beforeOp` is the fault-injection seam of the tests: it is called before each
 * file-system operation, and a throw there is that operation failing.
 *
 * initRunFolder says why a run folder cannot be created or written, naming the folder:
 * Node's recursive mkdir reports ENOENT on a read-only file system, so the first missing
 * folder is created on its own to learn the real cause (EROFS, EACCES, a file in the way).
 *
 * Reading falls back: when the checkpoint latest.json names is missing or corrupt (bad
 * state.json, wrong size or hash, undecodable safetensors), the next older complete one
 * is used and a warning says so.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describeIoError } from '../document/documentFile';
import { DOCUMENT_LIMITS } from '../document/limits';
import { readRegularFile } from '../fs/readRegularFile';
import { fsyncDir, writeFileAtomic } from '../fs/writeFileAtomic';
import { decodeSafetensors, encodeSafetensors, type TensorData, type TensorInput } from './safetensors';

export const KEEP_CHECKPOINTS = 3;
/** state.json and latest.json are small; anything bigger is not one */
const SMALL_FILE_BYTES = 16 * 1024 * 1024;
/** the largest tensor file a checkpoint may have (a Buffer's limit) */
const MAX_TENSOR_FILE_BYTES = 4 * 1024 * 1024 * 1024 - 1;
export const CHECKPOINT_FORMAT = 'genloom-checkpoint';
export const CHECKPOINT_FORMAT_VERSION = 1;

export type TensorMap = Map<string, TensorData>;

/** `step-0000030`: zero-padded so that names sort by step */
export function stepName(step: number): string {
  return `step-${String(step).padStart(7, '0')}`;
}

const STEP_DIR = /^step-(\d{7,})$/;

/** the genloom version from package.json ('unknown' when it cannot be read) */
export function genloomVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const runPaths = (runDir: string) => ({
  graph: join(runDir, 'graph.json'),
  config: join(runDir, 'config.json'),
  metrics: join(runDir, 'metrics.jsonl'),
  samples: join(runDir, 'samples'),
  checkpoints: join(runDir, 'checkpoints'),
  latest: join(runDir, 'checkpoints', 'latest.json'),
});

/** the file-system operations of a checkpoint write, as the fault-injection seam names them */
export type CheckpointOp = 'mkdir' | 'write' | 'fsync' | 'rename' | 'pointer' | 'prune';

/** called before each file-system operation; a throw there is that operation failing */
export type BeforeOp = (op: CheckpointOp, path: string) => void | Promise<void>;

const noOp: BeforeOp = () => {};

/** writes and fsyncs a new file (fails if it exists) */
async function writeFileSynced(path: string, data: string | Uint8Array, before: BeforeOp = noOp): Promise<void> {
  await before('write', path);
  const h = await open(path, 'wx');
  try {
    await h.writeFile(data);
    await before('fsync', path);
    await h.sync();
  } finally {
    await h.close();
  }
}

/** replaces a small file atomically (temporary file, fsync, rename); on failure the old file stays and no temporary file is left */
async function replaceFileSynced(path: string, data: string, before: BeforeOp = noOp): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${path.slice(dir.length + 1)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFileSynced(tmp, data, before);
    await before('rename', path);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fsyncDir(dir);
}

/** a run folder that cannot be created or written; `code` is the errno code of the cause */
export class RunDirError extends Error {
  constructor(
    readonly dir: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RunDirError';
  }
}

const codeOf = (e: unknown): string | undefined => {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
};

/** the nearest folder above `dir` that exists (or a file in the way), and the first missing component below it */
async function nearestExisting(dir: string): Promise<{ at: string; isDir: boolean; next?: string }> {
  let cur = dir;
  let next: string | undefined;
  for (;;) {
    const s = await stat(cur).catch(() => undefined);
    if (s) return { at: cur, isDir: s.isDirectory(), ...(next !== undefined && { next }) };
    const up = dirname(cur);
    if (up === cur) return { at: cur, isDir: false };
    next = cur;
    cur = up;
  }
}

/** why a folder could not be made: the cause, naming the folder where it lies */
async function explainMkdir(dir: string, e: unknown, before: BeforeOp): Promise<RunDirError> {
  const head = `cannot create the run folder ${dir}`;
  const near = await nearestExisting(dir);
  if (!near.isDir && near.at !== dir) return new RunDirError(dir, `${head}: ${near.at} is a file, not a folder`, 'ENOTDIR');
  let cause = e;
  if (codeOf(e) === 'ENOENT' && near.next !== undefined) {
    // creating the first missing folder alone gives the real errno (EROFS, EACCES, ENOSPC...)
    try {
      await before('mkdir', near.next);
      await mkdir(near.next);
      await rm(near.next, { recursive: true, force: true }).catch(() => {});
    } catch (probe) {
      cause = probe;
    }
  }
  const code = codeOf(cause);
  const reason =
    code === 'EROFS'
      ? `${near.at} is on a read-only file system (EROFS)`
      : code === 'EACCES' || code === 'EPERM'
        ? `permission denied (${code}) in ${near.at}`
        : describeIoError(cause);
  return new RunDirError(dir, `${head}: ${reason}`, code);
}

/**
 * Makes sure `dir` exists and can be written (a file is created in it and removed);
 * throws RunDirError naming the folder and the cause (read-only, permission, full disk).
 */
export async function ensureWritableDir(dir: string, opts: { beforeOp?: BeforeOp } = {}): Promise<void> {
  const before = opts.beforeOp ?? noOp;
  try {
    await before('mkdir', dir);
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw await explainMkdir(dir, e, before);
  }
  const s = await stat(dir).catch(() => undefined);
  if (!s?.isDirectory()) throw new RunDirError(dir, `cannot create the run folder ${dir}: it is a file, not a folder`, 'ENOTDIR');
  const probe = join(dir, `.genloom-write-check-${randomBytes(4).toString('hex')}`);
  try {
    await writeFileSynced(probe, '', before);
  } catch (e) {
    await unlink(probe).catch(() => {});
    throw new RunDirError(dir, `cannot write to the run folder ${dir}: ${describeIoError(e)}`, codeOf(e));
  }
  await unlink(probe).catch(() => {});
}

export { writeFileAtomic };

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/* ------------------------------------------------------------------ graph, config */

/**
 * Prepares the folder of a fresh run: writes graph.json (the document's text, or a value
 * written as JSON) and config.json, and removes the
 * checkpoints, samples and metrics of an earlier run in the same folder (returned as
 * warnings, so the caller can say so).
 */
export async function initRunFolder(runDir: string, graph: string | unknown, config: Record<string, unknown>, opts: { beforeOp?: BeforeOp } = {}): Promise<string[]> {
  const p = runPaths(runDir);
  await ensureWritableDir(runDir, opts);
  const warnings: string[] = [];
  const old: string[] = [];
  for (const [what, path] of [
    ['checkpoints', p.checkpoints],
    ['samples', p.samples],
    ['metrics.jsonl', p.metrics],
  ] as const) {
    if (await stat(path).then(() => true, () => false)) {
      old.push(what);
      await rm(path, { recursive: true, force: true });
    }
  }
  if (old.length) warnings.push(`${runDir} held an earlier run; its ${old.join(', ')} were replaced (use resume to continue a run)`);
  for (const [path, text] of [
    [p.graph, typeof graph === 'string' ? graph : `${JSON.stringify(graph, null, 2)}\n`],
    [p.config, `${JSON.stringify(config, null, 2)}\n`],
  ] as const) {
    try {
      await writeFileAtomic(path, text);
    } catch (e) {
      throw new RunDirError(runDir, `cannot write ${path}: ${describeIoError(e)}`, codeOf(e));
    }
  }
  return warnings;
}

export async function readRunGraph(runDir: string): Promise<unknown> {
  const path = runPaths(runDir).graph;
  let text: string;
  try {
    // a regular file only (a FIFO put in its place is refused, not waited on)
    text = (await readRegularFile(path, { maxBytes: DOCUMENT_LIMITS.maxBytes, what: 'a graph document' })).toString('utf8');
  } catch (e) {
    throw new CheckpointError(`cannot read ${path}: ${(e as Error).message.replace(`${path}: `, '')}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/* ------------------------------------------------------------------ metrics, samples */

export type MetricsLine =
  | { type: 'step'; step: number; losses: Record<string, Record<string, number>>; stepsPerSec: number; time: string }
  | { type: 'metrics'; step: number; metrics: Record<string, number>; time: string };

export async function appendMetrics(runDir: string, line: MetricsLine): Promise<void> {
  await appendFile(runPaths(runDir).metrics, `${JSON.stringify(line)}\n`);
}

/** the lines of metrics.jsonl (a torn last line, from a crash, is skipped) */
export async function readMetrics(runDir: string): Promise<MetricsLine[]> {
  let text: string;
  try {
    text = await readFile(runPaths(runDir).metrics, 'utf8');
  } catch {
    return [];
  }
  const out: MetricsLine[] = [];
  for (const l of text.split('\n')) {
    if (!l.trim()) continue;
    try {
      out.push(JSON.parse(l) as MetricsLine);
    } catch {
      /* torn line */
    }
  }
  return out;
}

/** on resume: drops the lines written after `step` by the interrupted run */
export async function truncateMetrics(runDir: string, step: number): Promise<void> {
  const path = runPaths(runDir).metrics;
  if (!(await stat(path).then(() => true, () => false))) return;
  const keep = (await readMetrics(runDir)).filter((l) => typeof l.step === 'number' && l.step <= step);
  await writeFileAtomic(path, keep.map((l) => `${JSON.stringify(l)}\n`).join(''));
}

/** float32 values printed with 9 significant digits: exact for float32, half the text of a double */
function compactNumbers(data: ArrayLike<number>): (number | null)[] {
  const out = new Array<number | null>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    out[i] = Number.isFinite(v) ? Number(v.toPrecision(9)) : null;
  }
  return out;
}

export interface SamplesFile {
  step: number;
  samplers: Record<string, { shape: number[]; data: (number | null)[] }>;
}

/** samples/step-XXXXXXX.json with the samples of every sampler at `step`; returns its path */
export async function writeSamples(runDir: string, step: number, samples: Record<string, { shape: number[]; data: ArrayLike<number> }>): Promise<string> {
  const dir = runPaths(runDir).samples;
  await mkdir(dir, { recursive: true });
  const file: SamplesFile = { step, samplers: {} };
  for (const [id, s] of Object.entries(samples)) file.samplers[id] = { shape: s.shape, data: compactNumbers(s.data) };
  const path = join(dir, `${stepName(step)}.json`);
  await writeFileAtomic(path, JSON.stringify(file));
  return path;
}

/* ------------------------------------------------------------------ checkpoints */

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** state.json of a checkpoint */
export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  step: number;
  seed: number;
  batchSize: number;
  genloom: string;
  backend?: string;
  /** the losses read at this step */
  losses?: Record<string, Record<string, number>>;
  time: string;
  files: Record<'weights' | 'optimizer', { name: string; bytes: number; sha256: string }>;
}

export type CheckpointStateInput = Omit<CheckpointState, 'format' | 'version' | 'files' | 'time' | 'genloom' | 'step'>;

export interface Checkpoint {
  step: number;
  /** absolute path of the checkpoint folder */
  dir: string;
  weights: TensorMap;
  optimizer: TensorMap;
  state: CheckpointState;
}

export interface LatestPointer {
  step: number;
  /** folder name under checkpoints/ */
  path: string;
  time: string;
}

/** points in writeCheckpoint where a test can simulate a crash (by throwing) */
export type CheckpointStage = 'weights' | 'optimizer' | 'state' | 'renamed' | 'latest';

export interface WriteCheckpointOptions {
  keep?: number;
  /** test hook, called after each stage; a throw there simulates a crash at that point */
  afterStage?: (stage: CheckpointStage) => void | Promise<void>;
  /** fault-injection seam, called before each file-system operation; a throw there is that operation failing */
  beforeOp?: BeforeOp;
}

/** the checkpoint folders present (complete or not), newest first */
export async function listCheckpoints(runDir: string): Promise<{ step: number; name: string; dir: string }[]> {
  const root = runPaths(runDir).checkpoints;
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, m: STEP_DIR.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map(({ name, m }) => ({ step: Number(m[1]), name, dir: join(root, name) }))
    .sort((a, b) => b.step - a.step);
}

/**
 * Writes checkpoints/step-XXXXXXX atomically, points latest.json at it, and deletes all
 * but the newest `keep` checkpoints (and leftovers of interrupted writes). Returns the
 * checkpoint folder.
 */
export async function writeCheckpoint(
  runDir: string,
  ckpt: { step: number; weights: ReadonlyMap<string, TensorInput>; optimizer: ReadonlyMap<string, TensorInput>; state: CheckpointStateInput },
  opts: WriteCheckpointOptions = {},
): Promise<string> {
  const p = runPaths(runDir);
  const stage = opts.afterStage ?? (() => {});
  const before = opts.beforeOp ?? noOp;
  await before('mkdir', p.checkpoints);
  await mkdir(p.checkpoints, { recursive: true });
  const name = stepName(ckpt.step);
  const final = join(p.checkpoints, name);
  const tmp = join(p.checkpoints, `.tmp-${name}-${randomBytes(4).toString('hex')}`);
  const version = genloomVersion();
  const meta = { format: 'pt', genloom: version, step: String(ckpt.step) };
  const weights = encodeSafetensors(ckpt.weights, meta);
  const optimizer = encodeSafetensors(ckpt.optimizer, { ...meta, kind: 'optimizer-state' });
  await before('mkdir', tmp);
  await mkdir(tmp);
  let trash: string | undefined;
  try {
    await writeFileSynced(join(tmp, 'weights.safetensors'), weights, before);
    await stage('weights');
    await writeFileSynced(join(tmp, 'optimizer.safetensors'), optimizer, before);
    await stage('optimizer');
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_FORMAT_VERSION,
      step: ckpt.step,
      ...ckpt.state,
      genloom: version,
      time: new Date().toISOString(),
      files: {
        weights: { name: 'weights.safetensors', bytes: weights.length, sha256: sha256(weights) },
        optimizer: { name: 'optimizer.safetensors', bytes: optimizer.length, sha256: sha256(optimizer) },
      },
    };
    await writeFileSynced(join(tmp, 'state.json'), `${JSON.stringify(state, null, 2)}\n`, before);
    await fsyncDir(tmp);
    await stage('state');
    // a folder of the same step (an abandoned future of a resumed run, or an earlier try of
    // this write whose pointer update failed) is moved aside first
    if (await stat(final).then(() => true, () => false)) {
      trash = join(p.checkpoints, `.old-${name}-${randomBytes(4).toString('hex')}`);
      await before('rename', final);
      await rename(final, trash);
    }
    await before('rename', final);
    await rename(tmp, final);
    await fsyncDir(p.checkpoints);
  } catch (e) {
    // a real crash leaves the temporary folder behind; the next successful write removes it
    if (!(e instanceof SimulatedCrash)) {
      await rm(tmp, { recursive: true, force: true }).catch(() => {});
      // the folder moved aside goes back (it is not the one latest.json names, which has an older step)
      if (trash && !(await stat(final).then(() => true, () => false))) await rename(trash, final).catch(() => {});
    }
    throw e;
  }
  if (trash) await rm(trash, { recursive: true, force: true }).catch(() => {});
  await stage('renamed');
  const pointer: LatestPointer = { step: ckpt.step, path: name, time: new Date().toISOString() };
  await before('pointer', p.latest);
  await replaceFileSynced(p.latest, `${JSON.stringify(pointer, null, 2)}\n`, before);
  await stage('latest');
  // best effort: the checkpoint is complete and named by latest.json whatever happens here
  await pruneCheckpoints(runDir, opts.keep ?? KEEP_CHECKPOINTS, before).catch(() => {});
  return final;
}

/** thrown by test hooks to simulate a crash: writeCheckpoint leaves its files as a crash would */
export class SimulatedCrash extends Error {}

/** deletes all but the newest `keep` checkpoints and leftovers of interrupted writes */
export async function pruneCheckpoints(runDir: string, keep = KEEP_CHECKPOINTS, before: BeforeOp = noOp): Promise<void> {
  const root = runPaths(runDir).checkpoints;
  const latest = await readPointer(runDir).catch(() => undefined);
  const all = await listCheckpoints(runDir);
  for (const c of all.slice(Math.max(1, keep))) {
    if (latest && c.name === latest.path) continue; // never the one latest.json names
    await before('prune', c.dir);
    await rm(c.dir, { recursive: true, force: true });
  }
  let names: string[] = [];
  try {
    names = await readdir(root);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith('.tmp-') || n.startsWith('.old-') || (n.startsWith('.latest.json.') && n.endsWith('.tmp'))) {
      await before('prune', join(root, n));
      await rm(join(root, n), { recursive: true, force: true });
    }
  }
}

async function readPointer(runDir: string): Promise<LatestPointer> {
  const text = (await readRegularFile(runPaths(runDir).latest, { maxBytes: SMALL_FILE_BYTES })).toString('utf8');
  const v = JSON.parse(text) as Partial<LatestPointer>;
  if (typeof v.path !== 'string' || !STEP_DIR.test(v.path) || typeof v.step !== 'number') throw new Error('latest.json does not name a checkpoint');
  return v as LatestPointer;
}

/** reads and verifies one checkpoint folder; throws CheckpointError saying what is wrong */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const fail = (msg: string): never => {
    throw new CheckpointError(`${dir}: ${msg}`);
  };
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) fail('the checkpoint folder is missing');
  let stateText: string;
  try {
    stateText = (await readRegularFile(join(dir, 'state.json'), { maxBytes: SMALL_FILE_BYTES })).toString('utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    return fail(code === 'ENOENT' ? 'state.json is missing (incomplete checkpoint)' : `cannot read state.json: ${(e as Error).message}`);
  }
  let state: CheckpointState;
  try {
    state = JSON.parse(stateText) as CheckpointState;
  } catch (e) {
    return fail(`state.json is not valid JSON: ${(e as Error).message}`);
  }
  if (state?.format !== CHECKPOINT_FORMAT || typeof state.step !== 'number' || typeof state.files !== 'object' || state.files === null) {
    fail('state.json is not a Genloom checkpoint state');
  }
  if (state.version > CHECKPOINT_FORMAT_VERSION) fail(`checkpoint format version ${state.version} is newer than this Genloom reads (${CHECKPOINT_FORMAT_VERSION})`);
  const load = async (which: 'weights' | 'optimizer'): Promise<TensorMap> => {
    const f = state.files[which];
    if (!f || typeof f.name !== 'string') return fail(`state.json does not describe the ${which} file`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readRegularFile(join(dir, f.name), { maxBytes: MAX_TENSOR_FILE_BYTES, what: 'a checkpoint file' }));
    } catch (e) {
      return fail(`cannot read ${f.name}: ${(e as Error).message.replace(`${join(dir, f.name)}: `, '')}`);
    }
    if (bytes.length !== f.bytes) fail(`${f.name} has ${bytes.length} bytes, state.json says ${f.bytes} (truncated or replaced)`);
    if (sha256(bytes) !== f.sha256) fail(`${f.name} does not match its SHA-256 in state.json (corrupt)`);
    try {
      return decodeSafetensors(bytes, f.name).tensors;
    } catch (e) {
      return fail((e as Error).message);
    }
  };
  const weights = await load('weights');
  const optimizer = await load('optimizer');
  return { step: state.step, dir, weights, optimizer, state };
}

/**
 * The newest complete checkpoint of a run: the one latest.json names, else (missing or
 * corrupt) the next older complete one, with a warning for each one skipped. Throws
 * CheckpointError when there is none.
 */
export async function readLatestCheckpoint(runDir: string): Promise<Checkpoint & { warnings: string[] }> {
  const warnings: string[] = [];
  const all = await listCheckpoints(runDir);
  let pointer: LatestPointer | undefined;
  try {
    pointer = await readPointer(runDir);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (all.length > 0) {
      warnings.push(
        code === 'ENOENT'
          ? `${runPaths(runDir).latest} is missing; using the newest complete checkpoint folder`
          : `${runPaths(runDir).latest} is unreadable (${(e as Error).message}); using the newest complete checkpoint folder`,
      );
    }
  }
  const candidates = pointer
    ? [
        { step: pointer.step, name: pointer.path, dir: join(runPaths(runDir).checkpoints, pointer.path) },
        ...all.filter((c) => c.step < pointer.step),
      ]
    : all;
  if (candidates.length === 0) throw new CheckpointError(`${runDir} has no checkpoint to resume from (${runPaths(runDir).checkpoints} is empty or missing)`);
  const problems: string[] = [];
  for (const c of candidates) {
    try {
      const ckpt = await readCheckpoint(c.dir);
      if (ckpt.step !== c.step) throw new CheckpointError(`${c.dir}: state.json is for step ${ckpt.step}, the folder for step ${c.step}`);
      if (problems.length) warnings.push(`using checkpoint ${c.name} instead: ${problems.join('; ')}`);
      return { ...ckpt, warnings };
    } catch (e) {
      problems.push(e instanceof CheckpointError ? e.message : `${c.dir}: ${(e as Error).message}`);
    }
  }
  throw new CheckpointError(`${runDir} has no complete checkpoint: ${problems.join('; ')}`);
}
