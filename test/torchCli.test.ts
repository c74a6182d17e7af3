/**
 * The PyTorch backend through the command line: `export-torch`, `train --backend torch`
 * (a child process with the trainer's progress, its run folder read back by eval and
 * sample), `resume` keeping the backend, and the refusals. Under CI=true a missing torch
 * fails the suite.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliHarness';
import type { TrainEvent } from '../src-main/api/trainingProtocol';
import { startTraining } from '../src-main/session/TrainingSession';
import { readLatestCheckpoint } from '../src-main/runtime/runFolder';
import { findTorchPython } from '../src-main/torch/python';
import { loadTemplate } from './trainTemplate';

const dir = mkdtempSync(join(tmpdir(), 'genloom-torch-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let missing = '';
beforeAll(async () => {
  const found = await findTorchPython();
  if ('error' in found) {
    if (process.env.CI === 'true') throw new Error(`CI=true but ${found.error}`);
    missing = found.error;
  }
}, 60_000);

const run = runCli;

const tiny = join(dir, 'tiny-vae.json');
writeFileSync(tiny, JSON.stringify(loadTemplate('vae-moons', { encoder: { hidden: [16] }, decoder: { hidden: [16] } })));

describe('genloom with the PyTorch backend', () => {
  it('export-torch writes a program that names every node of the graph and its equation', async (ctx) => {
    if (missing) return ctx.skip(missing);
    const out = join(dir, 'program');
    const r = await run('export-torch', tiny, '--out', out, '--seed', '4');
    expect(r.code, r.err).toBe(0);
    for (const f of ['train.py', 'weights.safetensors', 'graph.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const py = readFileSync(join(out, 'train.py'), 'utf8');
    for (const node of ['encoder', 'decoder', 'elbo']) expect(py).toMatch(new RegExp(`# --- ${node} \\(`));
    expect(py).toMatch(/def loss_elbo\(n, feed, new_state\):/);
    expect(py).toMatch(/#     .*\\mathcal/); // an equation under its node
  });

  it('train --backend torch runs the program with progress; eval and sample read its run; resume keeps the backend', async (ctx) => {
    if (missing) return ctx.skip(missing);
    const runDir = join(dir, 'run');
    const t = await run('train', tiny, '--backend', 'torch', '--steps', '60', '--out', runDir, '--json');
    expect(t.code, t.err).toBe(0);
    const events = t.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; step?: number; metrics?: Record<string, number> });
    expect(events[0]!.type).toBe('started');
    expect(events.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([10, 20, 30, 40, 50, 60]);
    const metrics = events.find((e) => e.type === 'metrics')!.metrics!;
    expect(Number.isFinite(metrics['elbo.negElbo'])).toBe(true);
    expect((await readLatestCheckpoint(runDir)).state.backend).toBe('torch-cpu');
    expect((await run('eval', runDir, '--n', '200')).code).toBe(0);
    const s = await run('sample', runDir, '--n', '50', '--out', join(dir, 's.csv'));
    expect(s.code, s.err).toBe(0);
    expect(readFileSync(join(dir, 's.csv'), 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(50);
    const r = await run('resume', runDir, '--steps', '80', '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/"type":"started".*"step":60/);
    expect((await readLatestCheckpoint(runDir)).step).toBe(80);
  }, 180_000);

  it('a PyTorch session gives live samples, pauses, resumes and stops with a checkpoint, like a tfjs session', async (ctx) => {
    if (missing) return ctx.skip(missing);
    const s = startTraining({ doc: JSON.parse(readFileSync(tiny, 'utf8')), runDir: join(dir, 'session'), steps: 1_000_000, backend: 'torch', sampleEvery: 20, sampleCount: 64, checkpointEvery: 100_000 });
    expect(s.mode).toBe('child-process');
    const events: TrainEvent[] = [];
    const seen = (type: TrainEvent['type']) => new Promise<void>((resolve) => {
      const off = s.on((e) => {
        if (e.type === type) {
          off();
          resolve();
        }
      });
    });
    s.on((e) => events.push(e));
    await seen('samples');
    const sample = events.find((e) => e.type === 'samples') as Extract<TrainEvent, { type: 'samples' }>;
    expect(sample.shape).toEqual([64, 2]);
    expect(sample.data.every(Number.isFinite)).toBe(true);
    expect((events.find((e) => e.type === 'started') as Extract<TrainEvent, { type: 'started' }>).backend).toMatch(/^torch /);
    const paused = seen('paused');
    s.pause();
    await paused;
    const stepAtPause = events.filter((e) => e.type === 'step').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(events.filter((e) => e.type === 'step').length).toBeLessThanOrEqual(stepAtPause + 1); // at most one line already in the pipe
    const resumed = seen('resumed');
    s.resume();
    await resumed;
    s.stop();
    const end = await s.done;
    expect(end.reason).toBe('user');
    expect(end.checkpoint).toBeDefined();
    expect((await readLatestCheckpoint(join(dir, 'session'))).step).toBe(end.step);
  }, 120_000);

  it('a killed PyTorch process ends the session with an error naming it, and the last good checkpoint is kept', async (ctx) => {
    if (missing) return ctx.skip(missing);
    const runDir = join(dir, 'killed');
    const s = startTraining({ doc: JSON.parse(readFileSync(tiny, 'utf8')), runDir, steps: 1_000_000, backend: 'torch', checkpointEvery: 20 });
    await new Promise<void>((resolve) => {
      const off = s.on((e) => {
        if (e.type === 'checkpoint') {
          off();
          resolve();
        }
      });
    });
    const pids = execFileSync('pgrep', ['-f', join(runDir, 'torch', 'train.py')]).toString().trim().split('\n').map(Number);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const end = await s.done;
    expect(end.reason).toBe('error');
    expect(end.message).toMatch(/killed \(SIGKILL\)/);
    expect(end.checkpoint).toBeDefined();
    expect((await readLatestCheckpoint(runDir)).step % 20).toBe(0);
  }, 120_000);

  it('says in one line what is missing: no python3 with torch, options of the torch backend on another', async () => {
    const prev = process.env.GENLOOM_PYTHON;
    process.env.GENLOOM_PYTHON = join(dir, 'no-such-python3');
    try {
      const r = await run('train', tiny, '--backend', 'torch', '--steps', '5', '--out', join(dir, 'nopy'));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/no python3 with torch .*apt-get install python3-torch/);
      expect(existsSync(join(dir, 'nopy', 'checkpoints'))).toBe(false);
    } finally {
      if (prev === undefined) delete process.env.GENLOOM_PYTHON;
      else process.env.GENLOOM_PYTHON = prev;
    }
    const d = await run('train', tiny, '--device', 'cuda', '--steps', '5', '--out', join(dir, 'nodev'));
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/--device and --nproc are options of --backend torch/);
  });
});
