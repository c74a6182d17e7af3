/**
 * A run whose checkpoints cannot be written must not report success: a failed checkpoint
 * or final save is tried once more, then stops the run with reason 'error', naming the
 * folder and the cause; the last good checkpoint stays the one latest.json names, and
 * `resume` works once there is room. The same at the CLI (non-zero exit, no "done") and
 * in the studio (the train panel's event says error). Faults come from the checkpoint
 * writer's injection seam in-process, and from a real limit in a child process: a file
 * size limit (`ulimit -f`: every write past it fails with EFBIG, as on a full disk; it
 * works for every user, root included), and a full or read-only tmpfs where mounting one
 * is allowed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../src-main/api/contract';
import type { TrainEvent, TrainRequestInput } from '../src-main/api/trainingProtocol';
import { createStudio } from '../src-main/app/handlers';
import { readTemplate } from '../src-main/document/templates';
import { readLatestCheckpoint, runPaths, type BeforeOp } from '../src-main/runtime/runFolder';
import { runTraining, type TrainControl } from '../src-main/runtime/trainLoop';
import { startTraining } from '../src-main/session/TrainingSession';
import { TrainingStore } from '../src-renderer/model/training';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'genloom-savefail-'));
/** a tmpfs mounted below tmp (see tryTmpfs): unmounted before tmp is removed */
let mounted: string | undefined;
afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', mounted], { stdio: 'ignore' });
  rmSync(tmp, { recursive: true, force: true });
});

/** the VAE template with small networks (hidden widths given) */
function vae(hidden: number[]): any {
  const doc = readTemplate('vae-moons') as any;
  for (const n of doc.nodes) if (Array.isArray(n.params.hidden)) n.params.hidden = hidden;
  return doc;
}

const free: TrainControl = { paused: () => false, stopped: () => false, waitWhilePaused: async () => {} };
type Stopped = Extract<TrainEvent, { type: 'stopped' }>;

async function train(req: TrainRequestInput, beforeOp?: BeforeOp) {
  const events: TrainEvent[] = [];
  await runTraining({ sampleEvery: 100_000, logEvery: 10, batchSize: 32, ...req }, (e) => events.push(e), free, null, beforeOp && { beforeOp });
  const stopped = events.filter((e): e is Stopped => e.type === 'stopped');
  expect(stopped).toHaveLength(1);
  return { events, stopped: stopped[0]!, warnings: events.flatMap((e) => (e.type === 'warning' ? [e.message] : [])) };
}

const enospc = (op: string, p: string) => Object.assign(new Error(`ENOSPC: no space left on device, ${op} '${p}'`), { code: 'ENOSPC' });

/** a fault on every write under checkpoints/ once `armed()` says so; counts the checkpoint attempts that failed */
function diskFullAfter(armed: () => boolean) {
  const state = { failures: 0 };
  const beforeOp: BeforeOp = (op, p) => {
    if (!armed() || op !== 'write' || !p.includes('weights.safetensors')) return;
    state.failures++;
    throw enospc('open', p);
  };
  return { state, beforeOp };
}

describe('a checkpoint that cannot be written stops the run', () => {
  it('mid-run: tried twice, then reason error naming the folder and the cause; the last good checkpoint is kept; resume works once there is room', async () => {
    const runDir = join(tmp, 'midrun');
    const doc = vae([16]);
    let step = 0;
    const fault = diskFullAfter(() => step >= 40);
    const r = await train({ doc, runDir, steps: 100, checkpointEvery: 20 }, (op, p) => {
      // the step the trainer is at, read from the path of the checkpoint being written
      const m = /step-(\d+)/.exec(p);
      if (m) step = Number(m[1]);
      return fault.beforeOp(op, p);
    });
    expect(r.stopped.reason).toBe('error');
    expect(r.stopped.step).toBe(40);
    expect(r.stopped.message).toContain(`${runDir}/checkpoints`);
    expect(r.stopped.message).toMatch(/disk is full \(ENOSPC\)/);
    expect(r.stopped.message).toMatch(/the last good checkpoint is .*step-0000020/);
    expect(r.stopped.checkpoint).toBe(join(runDir, 'checkpoints', 'step-0000020'));
    expect(fault.state.failures).toBe(2); // tried once more before giving up
    expect(r.warnings.join('\n')).toMatch(/trying once more/);
    expect(r.events.some((e) => e.type === 'stopped' && e.reason === 'done')).toBe(false);
    const latest = JSON.parse(readFileSync(runPaths(runDir).latest, 'utf8'));
    expect(latest).toMatchObject({ step: 20, path: 'step-0000020' });
    expect((await readLatestCheckpoint(runDir)).warnings).toEqual([]);

    // room again: resume continues from step 20 and completes
    const resumed = await train({ doc: null, runDir, steps: 60, checkpointEvery: 20, resume: true });
    expect(resumed.events[0]).toMatchObject({ type: 'started', step: 20 });
    expect(resumed.stopped).toMatchObject({ reason: 'done', step: 60 });
    expect((await readLatestCheckpoint(runDir)).step).toBe(60);
  });

  it('the final save failing is an error too, not done; a stop whose checkpoint fails likewise', async () => {
    const doc = vae([16]);
    const always = diskFullAfter(() => true);
    const r = await train({ doc, runDir: join(tmp, 'final'), steps: 15, checkpointEvery: 1000 }, always.beforeOp);
    expect(r.stopped).toMatchObject({ reason: 'error', step: 15 });
    expect(r.stopped.message).toMatch(/the checkpoint at step 15 could not be written to .*final\/checkpoints: the disk is full \(ENOSPC\)/);
    expect(r.stopped.message).toMatch(/no checkpoint was written before it/);
    expect(r.stopped.checkpoint).toBeUndefined();

    // a user's stop writes a checkpoint: its failure is reported as an error as well
    const events: TrainEvent[] = [];
    let n = 0;
    const stopAt: TrainControl = { paused: () => false, stopped: () => ++n > 5, waitWhilePaused: async () => {} };
    await runTraining({ doc, runDir: join(tmp, 'stop'), steps: 1000, batchSize: 32, checkpointEvery: 1000 }, (e) => events.push(e), stopAt, null, {
      beforeOp: always.beforeOp,
    });
    expect(events.at(-1)).toMatchObject({ type: 'stopped', reason: 'error' });
  });

  it('samples and metrics.jsonl that cannot be written are one warning each, not one per step', async () => {
    const runDir = join(tmp, 'metrics-fail');
    const events: TrainEvent[] = [];
    await runTraining({ doc: vae([16]), runDir, steps: 60, logEvery: 5, sampleEvery: 10, sampleCount: 20, batchSize: 32 }, (e) => {
      events.push(e);
      // once the run folder is set up, metrics.jsonl and samples/ become folders and files that refuse appends and writes
      if (e.type === 'started') {
        mkdirSync(join(runDir, 'metrics.jsonl'));
        writeFileSync(join(runDir, 'samples'), 'not a folder');
      }
    }, free, null);
    expect(events.at(-1)).toMatchObject({ type: 'stopped', reason: 'done' });
    const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
    expect(warnings.filter((w) => /metrics\.jsonl could not be written/.test(w))).toHaveLength(1);
    expect(warnings.filter((w) => /samples at step \d+ could not be saved/.test(w))).toHaveLength(1);
  });

  it('a run folder that cannot be written at start says so, naming it', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const r = await train({ doc: vae([16]), runDir: join(file, 'run'), steps: 5 });
    expect(r.stopped.reason).toBe('error');
    expect(r.stopped.message).toBe(`cannot create the run folder ${file}/run: ${file} is a file, not a folder`);
  });

  it('the studio train panel gets reason error (not done) and shows the failure', async () => {
    const dataDir = join(tmp, 'studio');
    const events: ApiEvent[] = [];
    const always = diskFullAfter(() => true);
    const studio = createStudio({
      dataDir,
      training: (req) => startTraining({ ...req, batchSize: 32, sampleEvery: 100_000 }, { inProcess: true, evaluate: null, beforeOp: always.beforeOp }),
    });
    studio.onEvent((e) => events.push(e));
    const { runId } = await studio.handlers.startTraining({ doc: vae([16]), steps: 12, seed: 0, checkpointEvery: 1000 });
    for (let i = 0; i < 600 && !events.some((e) => e.runId === runId && e.payload.type === 'stopped'); i++) await new Promise((r) => setTimeout(r, 50));
    const stopped = events.find((e) => e.runId === runId && e.payload.type === 'stopped')!.payload as Stopped;
    expect(stopped.reason).toBe('error');
    expect(stopped.message).toMatch(/could not be written to .*checkpoints: the disk is full \(ENOSPC\)/);

    // what the renderer's train panel shows for it
    let deliver: (e: ApiEvent) => void = () => {};
    const api = { onEvent: (l: (e: ApiEvent) => void) => ((deliver = l), () => {}) };
    const store = new TrainingStore(api as never, () => 0);
    store.starting(12);
    store.started(runId, join(dataDir, 'runs', runId));
    for (const e of events) deliver(e);
    store.flush();
    expect(store.getState().status).toBe('stopped');
    expect(store.getState().stop).toMatchObject({ reason: 'error', message: expect.stringMatching(/ENOSPC/) });
    await studio.dispose();
  });
});

/** `genloom` in this process, through main() */
async function cli(argv: string[]) {
  const { main } = await import('../src-main/cli/main');
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), isTTY: false });
  return { code, out, err };
}

/** runs `genloom` in a child process under `sh -c` (for ulimit), with a time limit */
function genloom(args: string[], opts: { fsizeKiB?: number; timeoutMs?: number } = {}): Promise<{ code: number | null; out: string; err: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const limit = opts.fsizeKiB ? `ulimit -f ${opts.fsizeKiB}; ` : '';
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', `${limit}exec "${process.execPath}" bin/genloom.mjs ${quoted}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe.skipIf(process.platform === 'win32')('genloom train on a disk that fills up (a real limit, in a child process)', () => {
  // networks of 2 x 256 hidden units: each checkpoint file is about 0.5 MB, the graph,
  // config and metrics a few KB, so a 192 KiB file size limit fails every checkpoint only
  const graph = join(tmp, 'wide-vae.json');
  writeFileSync(graph, JSON.stringify(vae([256, 256])));

  it('no room for any checkpoint: exit 1, no "done", the folder and the cause named', async () => {
    const out = join(tmp, 'cli-full');
    const r = await genloom(['train', graph, '--steps', '20', '--batch-size', '32', '--out', out], { fsizeKiB: 192 });
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/done:/);
    expect(r.err).toMatch(new RegExp(`training failed: the checkpoint at step 20 could not be written to ${out}/checkpoints: the file is larger than the system allows \\(EFBIG\\)`));
    expect(existsSync(runPaths(out).latest)).toBe(false);
  });

  it('room runs out later: exit 1, latest.json keeps the last good checkpoint, resume works once there is room', async () => {
    const out = join(tmp, 'cli-later');
    const first = await train({ doc: vae([256, 256]), runDir: out, steps: 20, checkpointEvery: 20 });
    expect(first.stopped.reason).toBe('done');
    const full = await genloom(['resume', out, '--steps', '40'], { fsizeKiB: 192 });
    expect(full.code).toBe(1);
    expect(full.err).not.toMatch(/done:/);
    expect(full.err).toMatch(/could not be written to .*cli-later\/checkpoints: .*EFBIG/);
    expect(full.err).toMatch(/the last good checkpoint is kept: .*step-0000020/);
    expect(full.err).toMatch(/genloom resume /);
    expect(JSON.parse(readFileSync(runPaths(out).latest, 'utf8'))).toMatchObject({ step: 20 });
    const again = await train({ doc: null, runDir: out, steps: 40, checkpointEvery: 20, resume: true });
    expect(again.events[0]).toMatchObject({ type: 'started', step: 20 });
    expect(again.stopped).toMatchObject({ reason: 'done', step: 40 });
  });
});

/** a 1 MiB tmpfs, where this user may mount one (root with CAP_SYS_ADMIN on Linux); else undefined */
function tryTmpfs(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const dir = join(tmp, 'tmpfs');
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}
const tmpfs = tryTmpfs();
mounted = tmpfs;

// mounting needs root and CAP_SYS_ADMIN; elsewhere the ulimit tests above cover a full disk
describe.skipIf(!tmpfs)('genloom train on a real 1 MiB tmpfs (needs root with CAP_SYS_ADMIN to mount one)', () => {
  it('a full disk: exit 1 with ENOSPC; a file system turned read-only: exit 2 at start, naming it', async () => {
    // in this process (no file size limit to apply): the command line through main()
    const out = join(tmpfs!, 'run');
    const r = await cli(['train', graph(), '--steps', '20', '--batch-size', '32', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/could not be written to .*tmpfs\/run\/checkpoints: the disk is full \(ENOSPC\)/);
    expect(r.err).not.toMatch(/done:/);
    execFileSync('mount', ['-o', 'remount,ro', tmpfs!]);
    try {
      const ro = await cli(['train', graph(), '--steps', '5', '--out', join(tmpfs!, 'new', 'run')]);
      expect(ro.code).toBe(2);
      expect(ro.err).toMatch(/cannot create the run folder .*tmpfs\/new\/run: .*tmpfs is on a read-only file system \(EROFS\)/);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', tmpfs!]);
    }
  });

  function graph() {
    const g = join(tmp, 'wide-vae-tmpfs.json');
    writeFileSync(g, JSON.stringify(vae([256, 256])));
    return g;
  }
});
