import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile, appendFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appendMetrics,
  CheckpointError,
  initRunFolder,
  listCheckpoints,
  readCheckpoint,
  readLatestCheckpoint,
  readMetrics,
  runPaths,
  SimulatedCrash,
  stepName,
  truncateMetrics,
  writeCheckpoint,
  writeSamples,
  type CheckpointOp,
  type CheckpointStage,
} from './runFolder';
import { decodeSafetensors } from './safetensors';

const dirs: string[] = [];
async function tempRun(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'genloom-run-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const tensors = (step: number) =>
  new Map([
    ['enc/w0', { shape: [2, 3], data: new Float32Array(6).fill(step) }],
    ['enc/b0', { shape: [3], data: new Float32Array([step, -step, 0.5]) }],
  ]);
const optState = (step: number) =>
  new Map([
    ['elbo::iter', { shape: [], data: new Float32Array([step]) }],
    ['elbo::enc/w0/m', { shape: [2, 3], data: new Float32Array(6).fill(step / 10) }],
  ]);
const write = (runDir: string, step: number, afterStage?: (s: CheckpointStage) => void, beforeOp?: (op: CheckpointOp, path: string) => void) =>
  writeCheckpoint(runDir, { step, weights: tensors(step), optimizer: optState(step), state: { seed: 7, batchSize: 32, backend: 'cpu' } }, { afterStage, beforeOp });

/** an error as the file system gives it (code, syscall, path) */
const fsError = (code: string, syscall: string, path: string) =>
  Object.assign(new Error(`${code}: injected, ${syscall} '${path}'`), { code, syscall, path });

describe('run folder', () => {
  it('names checkpoint folders so that they sort by step', () => {
    expect(stepName(30)).toBe('step-0000030');
    expect(stepName(12345678)).toBe('step-12345678');
  });

  it('writes a checkpoint that reads back, with latest.json naming it', async () => {
    const run = await tempRun();
    const dir = await write(run, 30);
    expect(dir).toBe(join(run, 'checkpoints', 'step-0000030'));
    expect((await readdir(dir)).sort()).toEqual(['optimizer.safetensors', 'state.json', 'weights.safetensors']);
    expect(JSON.parse(await readFile(runPaths(run).latest, 'utf8'))).toMatchObject({ step: 30, path: 'step-0000030' });
    const c = await readLatestCheckpoint(run);
    expect(c.warnings).toEqual([]);
    expect(c.step).toBe(30);
    expect(c.state).toMatchObject({ format: 'genloom-checkpoint', step: 30, seed: 7, batchSize: 32, backend: 'cpu' });
    expect(c.weights).toEqual(tensors(30));
    expect(c.optimizer).toEqual(optState(30));
    // the weights file is plain safetensors with metadata, loadable by any reader
    const st = decodeSafetensors(new Uint8Array(await readFile(join(dir, 'weights.safetensors'))));
    expect(st.metadata).toMatchObject({ format: 'pt', step: '30' });
  });

  it('keeps the last 3 checkpoints', async () => {
    const run = await tempRun();
    for (const s of [10, 20, 30, 40, 50]) await write(run, s);
    expect((await listCheckpoints(run)).map((c) => c.step)).toEqual([50, 40, 30]);
    expect((await readdir(runPaths(run).checkpoints)).sort()).toEqual(['latest.json', 'step-0000030', 'step-0000040', 'step-0000050']);
  });

  it('replaces a checkpoint folder of the same step', async () => {
    const run = await tempRun();
    await write(run, 10);
    await writeCheckpoint(run, { step: 10, weights: tensors(99), optimizer: optState(99), state: { seed: 7, batchSize: 32 } });
    expect((await readLatestCheckpoint(run)).weights).toEqual(tensors(99));
    expect((await readdir(runPaths(run).checkpoints)).sort()).toEqual(['latest.json', 'step-0000010']);
  });

  for (const stage of ['weights', 'optimizer', 'state', 'renamed'] as const) {
    it(`a crash after the "${stage}" stage leaves latest.json on the previous complete checkpoint`, async () => {
      const run = await tempRun();
      await write(run, 10);
      await expect(
        write(run, 20, (s) => {
          if (s === stage) throw new SimulatedCrash(`crash after ${s}`);
        }),
      ).rejects.toThrow(SimulatedCrash);
      expect(JSON.parse(await readFile(runPaths(run).latest, 'utf8'))).toMatchObject({ step: 10 });
      const c = await readLatestCheckpoint(run);
      expect(c.step).toBe(10);
      expect(c.weights).toEqual(tensors(10));
      expect(c.warnings).toEqual([]);
      // the next write succeeds and clears the leftovers
      await write(run, 20);
      expect((await readdir(runPaths(run).checkpoints)).filter((n) => n.startsWith('.'))).toEqual([]);
      expect((await readLatestCheckpoint(run)).step).toBe(20);
    });
  }

  it('falls back to the previous checkpoint, with a warning, when the newest is corrupt', async () => {
    const run = await tempRun();
    await write(run, 10);
    await write(run, 20);
    const wpath = join(run, 'checkpoints', 'step-0000020', 'weights.safetensors');
    const bytes = await readFile(wpath);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(wpath, bytes);
    const c = await readLatestCheckpoint(run);
    expect(c.step).toBe(10);
    expect(c.weights).toEqual(tensors(10));
    expect(c.warnings.join('\n')).toMatch(/using checkpoint step-0000010 instead: .*step-0000020: weights\.safetensors does not match its SHA-256/);
    await expect(readCheckpoint(join(run, 'checkpoints', 'step-0000020'))).rejects.toThrow(CheckpointError);
  });

  it('falls back on a truncated file, a missing state.json and a missing folder', async () => {
    const run = await tempRun();
    for (const s of [10, 20, 30]) await write(run, s);
    await truncate(join(run, 'checkpoints', 'step-0000030', 'optimizer.safetensors'), 10);
    let c = await readLatestCheckpoint(run);
    expect(c.step).toBe(20);
    expect(c.warnings.join()).toMatch(/optimizer\.safetensors has 10 bytes, state\.json says \d+ \(truncated or replaced\)/);
    await unlink(join(run, 'checkpoints', 'step-0000020', 'state.json'));
    c = await readLatestCheckpoint(run);
    expect(c.step).toBe(10);
    expect(c.warnings.join()).toMatch(/state\.json is missing \(incomplete checkpoint\)/);
    await rm(join(run, 'checkpoints', 'step-0000030'), { recursive: true });
    c = await readLatestCheckpoint(run);
    expect(c.step).toBe(10);
    expect(c.warnings.join()).toMatch(/step-0000030: the checkpoint folder is missing/);
  });

  it('uses the newest complete folder when latest.json is missing', async () => {
    const run = await tempRun();
    await write(run, 10);
    await write(run, 20);
    await unlink(runPaths(run).latest);
    const c = await readLatestCheckpoint(run);
    expect(c.step).toBe(20);
    expect(c.warnings.join()).toMatch(/latest\.json is missing/);
  });

  it('says clearly when there is nothing to resume from', async () => {
    const run = await tempRun();
    await expect(readLatestCheckpoint(run)).rejects.toThrow(/has no checkpoint to resume from/);
    await write(run, 10);
    await writeFile(join(run, 'checkpoints', 'step-0000010', 'state.json'), '{"format": "genloom-checkpoint", "step"');
    await expect(readLatestCheckpoint(run)).rejects.toThrow(/has no complete checkpoint: .*state\.json is not valid JSON/);
  });

  it('a process killed while writing checkpoints leaves latest.json pointing to a complete checkpoint', async () => {
    const run = await tempRun();
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
    const rf = pathToFileURL(join(import.meta.dirname, 'runFolder.ts')).href;
    // ~8 MB per checkpoint so that kills land in the middle of writes
    const code = `
      const { writeCheckpoint } = await import(${JSON.stringify(rf)});
      const t = (v, n) => new Map([['w', { shape: [n], data: new Float32Array(n).fill(v) }]]);
      for (let i = Number(process.env.START); ; i++) {
        await writeCheckpoint(process.env.RUN_DIR, { step: i, weights: t(i, 1 << 20), optimizer: t(-i, 1 << 20), state: { seed: 0, batchSize: 1 } });
        process.stdout.write(i + '\\n');
      }`;
    let lastSeen = 0;
    for (const delayMs of [0, 9, 17, 31, 43]) {
      const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', code], {
        env: { ...process.env, RUN_DIR: run, START: String(lastSeen + 1) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_c, sig) => res(sig)));
      await new Promise<void>((res, rej) => {
        child.stdout.on('data', (d) => {
          out += d;
          // after two more completed checkpoints, kill at an arbitrary point of the next write
          if (out.split('\n').filter(Boolean).length >= 2) setTimeout(res, delayMs);
        });
        child.on('exit', () => rej(new Error(`the writer exited early: ${err}`)));
      });
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const latest = JSON.parse(await readFile(runPaths(run).latest, 'utf8')) as { step: number; path: string };
      const c = await readCheckpoint(join(run, 'checkpoints', latest.path));
      expect(c.step).toBe(latest.step);
      expect(c.step).toBeGreaterThanOrEqual(lastSeen + 2);
      expect(c.weights.get('w')!.data.every((v) => v === c.step)).toBe(true);
      expect(c.optimizer.get('w')!.data.every((v) => v === -c.step)).toBe(true);
      const r = await readLatestCheckpoint(run);
      expect(r.step).toBe(latest.step);
      expect(r.warnings).toEqual([]);
      lastSeen = latest.step;
    }
  }, 60_000);

  it('appends metrics and, on resume, drops lines past the checkpoint and torn lines', async () => {
    const run = await tempRun();
    const time = new Date().toISOString();
    for (const step of [10, 20, 30, 40]) await appendMetrics(run, { type: 'step', step, losses: { elbo: { loss: step } }, stepsPerSec: 100, time });
    await appendMetrics(run, { type: 'metrics', step: 40, metrics: { mmd: 0.1 }, time });
    await appendFile(runPaths(run).metrics, '{"type":"step","step":50,"los');
    expect((await readMetrics(run)).map((l) => l.step)).toEqual([10, 20, 30, 40, 40]);
    await truncateMetrics(run, 30);
    expect((await readMetrics(run)).map((l) => l.step)).toEqual([10, 20, 30]);
    expect((await readFile(runPaths(run).metrics, 'utf8')).endsWith('\n')).toBe(true);
  });

  it('writes samples per step with float32-exact compact numbers', async () => {
    const run = await tempRun();
    const data = new Float32Array([0.1, -1 / 3, 1e-8, NaN]);
    const path = await writeSamples(run, 250, { sampler: { shape: [2, 2], data } });
    expect(path).toBe(join(run, 'samples', 'step-0000250.json'));
    const f = JSON.parse(await readFile(path, 'utf8'));
    expect(f.step).toBe(250);
    expect(f.samplers.sampler.shape).toEqual([2, 2]);
    expect(f.samplers.sampler.data.slice(0, 3).map(Math.fround)).toEqual([...data.slice(0, 3)]);
    expect(f.samplers.sampler.data[3]).toBeNull();
  });

  it('a fresh run in a used folder replaces the old run and says so', async () => {
    const run = await tempRun();
    await write(run, 10);
    await appendMetrics(run, { type: 'metrics', step: 1, metrics: {}, time: '' });
    const warnings = await initRunFolder(run, { format: 'genloom' }, { steps: 5 });
    expect(warnings.join()).toMatch(/held an earlier run; its checkpoints, metrics\.jsonl were replaced/);
    expect(existsSync(runPaths(run).checkpoints)).toBe(false);
    expect(JSON.parse(await readFile(runPaths(run).graph, 'utf8'))).toEqual({ format: 'genloom' });
    expect(JSON.parse(await readFile(runPaths(run).config, 'utf8'))).toEqual({ steps: 5 });
  });
  it('a write that fails at any file-system step (write, fsync, rename, pointer update) loses nothing', async () => {
    // every operation of one checkpoint write, in order
    const ops: [CheckpointOp, string][] = [];
    const dry = await tempRun();
    await write(dry, 10);
    await write(dry, 20, undefined, (op, p) => void ops.push([op, p]));
    const kinds = new Set(ops.map(([op]) => op));
    for (const k of ['write', 'fsync', 'rename', 'pointer'] as const) expect(kinds).toContain(k);
    for (let i = 0; i < ops.length; i++) {
      const run = await tempRun();
      await write(run, 10);
      let n = 0;
      const e = await write(run, 20, undefined, (op, p) => {
        if (n++ === i) throw fsError('ENOSPC', op, p);
      }).catch((x: unknown) => x);
      // the failure is reported, not swallowed
      expect(e, `failure at ${ops[i]!.join(' ')}`).toMatchObject({ code: 'ENOSPC' });
      // latest.json still names the previous checkpoint, which reads back intact and without warnings
      expect(JSON.parse(await readFile(runPaths(run).latest, 'utf8'))).toMatchObject({ step: 10, path: 'step-0000010' });
      const c = await readLatestCheckpoint(run);
      expect(c.step).toBe(10);
      expect(c.weights).toEqual(tensors(10));
      expect(c.optimizer).toEqual(optState(10));
      expect(c.warnings).toEqual([]);
      // no temporary file or folder is left behind by a failure (only by a crash)
      expect((await readdir(runPaths(run).checkpoints)).filter((x) => x.startsWith('.'))).toEqual([]);
      // once there is room, the same write succeeds (a retry of the same step)
      await write(run, 20);
      expect((await readLatestCheckpoint(run)).weights).toEqual(tensors(20));
      expect((await readdir(runPaths(run).checkpoints)).filter((x) => x.startsWith('.'))).toEqual([]);
    }
  });

  it('a failure while pruning old checkpoints does not fail a checkpoint that was written', async () => {
    const run = await tempRun();
    for (const s of [10, 20, 30]) await write(run, s);
    const dir = await writeCheckpoint(
      run,
      { step: 40, weights: tensors(40), optimizer: optState(40), state: { seed: 7, batchSize: 32 } },
      {
        beforeOp: (op, p) => {
          if (op === 'prune') throw fsError('EROFS', 'rm', p);
        },
      },
    );
    expect(dir).toBe(join(run, 'checkpoints', 'step-0000040'));
    expect((await readLatestCheckpoint(run)).step).toBe(40);
  });

  it('a run folder that cannot be created or written says why, naming it (not a misleading ENOENT)', async () => {
    const base = await tempRun();
    // a path under a file: works for every user, root included
    const file = join(base, 'a-file');
    await writeFile(file, 'x');
    await expect(initRunFolder(join(file, 'run'), { format: 'genloom' }, {})).rejects.toThrow(
      new RegExp(`cannot create the run folder ${file}/run: ${file} is a file, not a folder`),
    );
    // a read-only file system: Node's recursive mkdir reports ENOENT there; the folder is probed to find the cause
    const ro = join(base, 'ro', 'deeper', 'run');
    const readOnly = (op: CheckpointOp, p: string) => {
      if (op !== 'mkdir') return;
      throw p === ro ? fsError('ENOENT', 'mkdir', join(base, 'ro')) : fsError('EROFS', 'mkdir', p);
    };
    await expect(initRunFolder(ro, { format: 'genloom' }, {}, { beforeOp: readOnly })).rejects.toThrow(
      new RegExp(`cannot create the run folder ${ro}: ${base} is on a read-only file system \\(EROFS\\)`),
    );
    // an existing folder that refuses writes
    const existing = join(base, 'existing');
    await mkdir(existing);
    const refuse = (op: CheckpointOp, p: string) => {
      if (op === 'write') throw fsError('EROFS', 'open', p);
    };
    await expect(initRunFolder(existing, { format: 'genloom' }, {}, { beforeOp: refuse })).rejects.toThrow(
      new RegExp(`cannot write to the run folder ${existing}: the file system is read-only \\(EROFS\\)`),
    );
  });

  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)('a read-only run folder (chmod) says so at start', async () => {
    // (as root chmod is not enforced; the test above covers that case with a path under a file and an injected error)
    const base = await tempRun();
    const locked = join(base, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o500);
    try {
      await expect(initRunFolder(join(locked, 'run'), { format: 'genloom' }, {})).rejects.toThrow(/cannot create the run folder .*locked\/run: permission denied \(EACCES\)/);
      await expect(initRunFolder(locked, { format: 'genloom' }, {})).rejects.toThrow(/cannot write to the run folder .*locked: permission denied \(EACCES\)/);
    } finally {
      await chmod(locked, 0o700);
    }
  });
});
