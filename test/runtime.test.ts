/**
 * The training runtime end to end: determinism, resume, the non-finite guard, memory,
 * the worker thread (pause / resume / stop, malformed commands, crashes), and the errors
 * a user sees. Small networks (hidden [32]) and short runs keep it fast on 2 cores.
 * Checkpoint atomicity under a killed writer is in src-main/runtime/runFolder.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainEvent, TrainRequestInput } from '../src-main/runtime/protocol';
import { readTemplate } from '../src-main/document/templates';
import { readCheckpoint, readLatestCheckpoint, readMetrics } from '../src-main/runtime/runFolder';
import { runTraining, type TrainControl } from '../src-main/runtime/trainLoop';
import { startTraining, type StoppedEvent } from '../src-main/runtime/TrainingSession';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let tmp = '';
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'genloom-runtime-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** a template with every network shrunk to one hidden layer of 32 */
function template(name: string): any {
  const doc = readTemplate(name) as any;
  for (const n of doc.nodes) if (Array.isArray(n.params.hidden)) n.params.hidden = [32];
  return doc;
}

const free: TrainControl = { paused: () => false, stopped: () => false, waitWhilePaused: async () => {} };

type Stopped = Extract<TrainEvent, { type: 'stopped' }>;
async function train(req: TrainRequestInput, evaluate: Parameters<typeof runTraining>[3] = null) {
  const events: TrainEvent[] = [];
  await runTraining({ sampleEvery: 100_000, ...req }, (e) => events.push(e), free, evaluate);
  const losses = new Map<number, unknown>();
  for (const e of events) if (e.type === 'step') losses.set(e.step, e.losses);
  const stopped = events.filter((e): e is Stopped => e.type === 'stopped');
  expect(stopped).toHaveLength(1);
  expect(events.at(-1)).toBe(stopped[0]);
  return { events, losses, stopped: stopped[0]!, warnings: events.flatMap((e) => (e.type === 'warning' ? [e.message] : [])) };
}

const lossesFrom = (m: Map<number, unknown>, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => m.get(from + i));

describe('training runtime', () => {
  it('same seed and backend give identical losses over 50 steps; another seed differs', async () => {
    const doc = template('vae-moons');
    const base = { doc, steps: 50, batchSize: 32, logEvery: 1, checkpointEvery: 1000 };
    const a = await train({ ...base, runDir: join(tmp, 'det-a'), seed: 11 });
    const b = await train({ ...base, runDir: join(tmp, 'det-b'), seed: 11 });
    const c = await train({ ...base, runDir: join(tmp, 'det-c'), seed: 12 });
    expect(a.stopped.reason).toBe('done');
    expect(a.losses.size).toBe(50);
    expect(lossesFrom(b.losses, 1, 50)).toEqual(lossesFrom(a.losses, 1, 50));
    expect(lossesFrom(c.losses, 1, 50)).not.toEqual(lossesFrom(a.losses, 1, 50));
    const started = a.events[0]!;
    expect(started).toMatchObject({ type: 'started', step: 0, totalSteps: 50, objectives: [{ nodeId: 'elbo', terms: ['loss', 'recon', 'kl'] }] });
  });

  it('a run resumed from its step-30 checkpoint continues exactly like the uninterrupted run', async () => {
    for (const tpl of ['vae-moons', 'gan-8gaussians']) {
      const doc = template(tpl);
      const base = { doc, batchSize: 32, logEvery: 1, checkpointEvery: 30, seed: 5 };
      const whole = await train({ ...base, runDir: join(tmp, `whole-${tpl}`), steps: 60 });
      const dir = join(tmp, `resumed-${tpl}`);
      const first = await train({ ...base, runDir: dir, steps: 30 });
      expect(first.stopped).toMatchObject({ reason: 'done', step: 30 });
      const second = await train({ ...base, runDir: dir, steps: 60, resume: true });
      expect(second.events[0]).toMatchObject({ type: 'started', step: 30 });
      expect(second.stopped).toMatchObject({ reason: 'done', step: 60 });
      expect(lossesFrom(second.losses, 31, 60)).toEqual(lossesFrom(whole.losses, 31, 60));
      // metrics.jsonl: one line per step 1..60, no duplicates from the two sessions
      expect((await readMetrics(dir)).filter((l) => l.type === 'step').map((l) => l.step)).toEqual(lossesFrom(new Map(), 1, 60).map((_, i) => i + 1));
      if (tpl !== 'vae-moons') continue;
      // the uninterrupted run's folder with its newest checkpoint lost: resume falls back to step 30
      const copy = join(tmp, 'fallback');
      cpSync(join(tmp, `whole-${tpl}`), copy, { recursive: true });
      rmSync(join(copy, 'checkpoints', 'step-0000060'), { recursive: true });
      const again = await train({ doc: undefined, runDir: copy, steps: 45, resume: true, logEvery: 1, checkpointEvery: 30 });
      expect(again.warnings.join('\n')).toMatch(/using checkpoint step-0000030 instead: .*step-0000060: the checkpoint folder is missing/);
      expect(lossesFrom(again.losses, 31, 45)).toEqual(lossesFrom(whole.losses, 31, 45));
    }
  });

  it('a diverging run stops with reason non-finite, names the objective, and keeps the last good checkpoint', async () => {
    // a CSV whose row 57 is huge: the first batch that draws it overflows the Gaussian log-likelihood
    const csv = join(tmp, 'huge.csv');
    const rows = ['x,y'];
    for (let i = 0; i < 200; i++) rows.push(i === 57 ? '3e30,-3e30' : `${Math.sin(i).toFixed(4)},${Math.cos(i).toFixed(4)}`);
    writeFileSync(csv, `${rows.join('\n')}\n`);
    const doc = template('vae-moons');
    doc.nodes.find((n: any) => n.id === 'data').params = { dataset: 'csv', csvPath: csv, csvColumns: 2 };
    const runDir = join(tmp, 'diverge');
    const r = await train({ doc, runDir, steps: 300, batchSize: 8, logEvery: 1, checkpointEvery: 5, seed: 0 });
    expect(r.stopped.reason).toBe('non-finite');
    expect(r.stopped.nodeId).toBe('elbo');
    expect(r.stopped.step).toBeGreaterThan(5);
    expect(r.stopped.checkpoint).toBeDefined();
    expect(r.stopped.message).toMatch(/objective "elbo" produced a non-finite \w+ at step \d+; the last good checkpoint is .*step-\d{7}/);
    const good = await readCheckpoint(r.stopped.checkpoint!);
    expect(good.step).toBeLessThan(r.stopped.step);
    expect([...good.weights.values()].every((t) => t.data.every(Number.isFinite))).toBe(true);
    const latest = await readLatestCheckpoint(runDir);
    expect(latest.dir).toBe(r.stopped.checkpoint);
    expect(latest.warnings).toEqual([]);
  });

  it('tf.memory() stays flat over 500 steps with sampling, checkpoints and metrics', async () => {
    const counts = new Map<number, number>();
    const events: TrainEvent[] = [];
    await runTraining(
      { doc: template('vae-moons'), runDir: join(tmp, 'memory'), steps: 500, batchSize: 32, logEvery: 10, sampleEvery: 100, sampleCount: 100, checkpointEvery: 100, evalEvery: 250 },
      (e) => {
        events.push(e);
        if (e.type === 'step') counts.set(e.step, tf.memory().numTensors);
      },
      free,
      undefined, // the real src-main/eval/evaluate.ts
    );
    expect(events.at(-1)).toMatchObject({ type: 'stopped', reason: 'done', step: 500 });
    expect(events.filter((e) => e.type === 'metrics').map((e) => e.step)).toEqual([250, 500]);
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.step)).toEqual([100, 200, 300, 400, 500]);
    expect(counts.get(500)).toBe(counts.get(10));
    expect(counts.get(250)).toBe(counts.get(10));
  });

  it('sends at most 64 samples of 784-dim image data', async () => {
    const r = await train({ doc: template('vae-mnist'), runDir: join(tmp, 'mnist'), steps: 4, batchSize: 16, sampleEvery: 2, sampleCount: 500 });
    const samples = r.events.filter((e) => e.type === 'samples');
    expect(samples.map((e) => e.step)).toEqual([2, 4]);
    for (const s of samples) {
      expect(s.shape).toEqual([64, 784]);
      expect(s.data).toHaveLength(64 * 784);
    }
  });

  it('explains what is wrong: an invalid graph, an invalid document, a bad CSV cell, a missing checkpoint', async () => {
    const noEdge = template('vae-moons');
    noEdge.edges = noEdge.edges.filter((e: any) => !(e.to[0] === 'elbo' && e.to[1] === 'px'));
    let r = await train({ doc: noEdge, runDir: join(tmp, 'bad-graph'), steps: 5 });
    expect(r.stopped).toMatchObject({ reason: 'error', step: 0 });
    expect(r.stopped.message).toMatch(/^the graph has \d+ error\(s\):\n.*elbo\.px/s);

    const unknown = template('vae-moons');
    unknown.nodes[1].type = 'encoder.gausian';
    r = await train({ doc: unknown, runDir: join(tmp, 'bad-doc'), steps: 5 });
    expect(r.stopped.message).toMatch(/^the graph document is invalid:\n.*nodes\[1\]/s);
    expect(r.stopped.message).toMatch(/encoder\.gaussian/); // the suggestion

    const csv = join(tmp, 'bad.csv');
    writeFileSync(csv, 'x,y\n1,2\n3,abc\n');
    const withCsv = template('vae-moons');
    withCsv.nodes[0].params = { dataset: 'csv', csvPath: csv, csvColumns: 2 };
    r = await train({ doc: withCsv, runDir: join(tmp, 'bad-csv'), steps: 5 });
    expect(r.stopped.reason).toBe('error');
    expect(r.stopped.message).toContain(`dataset node "data": ${csv}: line 3, column 2: "abc" is not a number`);

    r = await train({ doc: template('vae-moons'), runDir: join(tmp, 'nothing-here'), steps: 5, resume: true });
    expect(r.stopped.message).toMatch(/has no checkpoint to resume from/);
  });

  describe('in a worker thread', () => {
    const waitFor = (s: ReturnType<typeof startTraining>, pred: (e: TrainEvent) => boolean) =>
      new Promise<TrainEvent>((resolve, reject) => {
        const off = s.on((e) => {
          if (pred(e)) {
            off();
            resolve(e);
          } else if (e.type === 'stopped') reject(new Error(`stopped before the awaited event: ${JSON.stringify(e)}`));
        });
      });

    it('pauses, resumes and stops; a malformed command gets an error event and the worker keeps running', async () => {
      const runDir = join(tmp, 'worker');
      const s = startTraining({ doc: template('vae-moons'), runDir, steps: 1_000_000, batchSize: 32, logEvery: 5, sampleEvery: 100_000, checkpointEvery: 100_000 });
      expect(s.mode).toBe('worker');
      const events: TrainEvent[] = [];
      s.on((e) => events.push(e));
      await waitFor(s, (e) => e.type === 'step');

      for (const bad of [{ type: 'explode' }, 'hello', { type: 'start' }, { type: 42 }, null]) {
        const seen = events.length;
        s.post(bad);
        const w = await waitFor(s, (e) => e.type === 'warning');
        expect(w.type === 'warning' && w.message).toMatch(/^invalid command/);
        expect(events.length).toBeGreaterThan(seen);
      }
      await waitFor(s, (e) => e.type === 'step'); // still training

      s.pause();
      const paused = await waitFor(s, (e) => e.type === 'paused');
      const atPause = events.length;
      await new Promise((r) => setTimeout(r, 400));
      expect(events.slice(atPause).filter((e) => e.type === 'step')).toEqual([]);
      s.resume();
      const resumed = await waitFor(s, (e) => e.type === 'resumed');
      expect(resumed.type === 'resumed' && paused.type === 'paused' && resumed.step).toBe(paused.type === 'paused' && paused.step);
      await waitFor(s, (e) => e.type === 'step');

      s.stop();
      const end = await s.done;
      expect(end.reason).toBe('user');
      expect(end.step).toBeGreaterThan(0);
      expect(end.checkpoint).toBe(join(runDir, 'checkpoints', `step-${String(end.step).padStart(7, '0')}`));
      expect((await readLatestCheckpoint(runDir)).step).toBe(end.step);
      expect(events.at(-1)).toEqual(end);
    });

    it('a worker crash ends the session with reason error, not an exception in the parent', async () => {
      const s = startTraining(
        { doc: template('vae-moons'), runDir: join(tmp, 'crash'), steps: 10 },
        { resourceLimits: { maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 1 } },
      );
      const end: StoppedEvent = await s.done;
      expect(end.reason).toBe('error');
      expect(end.message).toMatch(/the training worker (crashed|exited)/);
    });

    it('an invalid request ends at once with a readable error', async () => {
      const s = startTraining({ doc: {}, runDir: '', steps: 0 });
      const end = await s.done;
      expect(end).toMatchObject({ type: 'stopped', reason: 'error' });
      expect(end.message).toMatch(/^invalid training request: runDir: .*; steps: /);
    });

    it('works from plain Node with tsx registered (as bin/genloom.mjs runs it)', async () => {
      const tsxApi = pathToFileURL(join(createRequire(import.meta.url).resolve('tsx/package.json'), '..', 'dist', 'esm', 'api', 'index.mjs')).href;
      const session = pathToFileURL(join(ROOT, 'src-main', 'runtime', 'TrainingSession.ts')).href;
      const req = { doc: template('vae-moons'), runDir: join(tmp, 'plain-node'), steps: 20, logEvery: 10, sampleEvery: 10, sampleCount: 4 };
      const code = `
        import { register } from ${JSON.stringify(tsxApi)};
        register();
        const { startTraining } = await import(${JSON.stringify(session)});
        const s = startTraining(JSON.parse(process.env.REQ), { });
        const types = [];
        s.on((e) => types.push(e.type));
        const end = await s.done;
        console.log(JSON.stringify({ end, types }));`;
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, REQ: JSON.stringify(req) }, cwd: tmpdir() });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('exit', (c) => (c === 0 ? resolve(stdout) : reject(new Error(`exit ${c}: ${stderr}`))));
      });
      const { end, types } = JSON.parse(out.trim().split('\n').at(-1)!);
      expect(end).toMatchObject({ reason: 'done', step: 20 });
      expect(types).toEqual(expect.arrayContaining(['started', 'step', 'samples', 'checkpoint', 'metrics', 'stopped']));
    });
  });

  it('runs in-process through the same session API', async () => {
    const s = startTraining({ doc: template('vae-moons'), runDir: join(tmp, 'inproc'), steps: 20, logEvery: 10 }, { inProcess: true, evaluate: null });
    const types: string[] = [];
    s.on((e) => types.push(e.type));
    s.post({ type: 'nope' });
    const end = await s.done;
    expect(end).toMatchObject({ reason: 'done', step: 20 });
    expect(types[0]).toBe('warning');
    expect(types).toContain('started');
  });
});
