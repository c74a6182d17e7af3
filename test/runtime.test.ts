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
import { z } from 'zod';
import { defineNode, emaOf, readState, writeState, type AnyNodeSpec } from '../nodes/core/defineNode';
import { objectiveFields } from '../nodes/core/objective';
import type { FnValue } from '../nodes/core/values';
import { NODE_TYPES, NodeRegistry } from '../nodes/index';
import { loadProgramOrThrow } from '../src-main/compile/loadProgram';
import { initBackend } from '../src-main/runtime/backend';
import { Trainer, type DataFeed } from '../src-main/runtime/Trainer';
import type { TrainEvent, TrainRequestInput } from '../src-main/api/trainingProtocol';
import { readTemplate } from '../src-main/document/templates';
import { readCheckpoint, readLatestCheckpoint, readMetrics } from '../src-main/runtime/runFolder';
import { evaluateRun } from '../src-main/eval/evaluate';
import { runTraining, type TrainControl } from '../src-main/runtime/trainLoop';
import { startTraining, type StoppedEvent } from '../src-main/session/TrainingSession';

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
      evaluateRun, // the real REFERENCE metrics
    );
    expect(events.at(-1)).toMatchObject({ type: 'stopped', reason: 'done', step: 500 });
    expect(events.filter((e) => e.type === 'metrics').map((e) => e.step)).toEqual([250, 500]);
    // each evaluation is announced ('evaluating', 0 of 0) and reports its parts up to done = total, then its metrics
    const evaluating = events.filter((e): e is Extract<TrainEvent, { type: 'evaluating' }> => e.type === 'evaluating');
    expect(evaluating.filter((e) => e.done === 0).map((e) => e.step)).toEqual([250, 500]);
    for (const [i, e] of events.entries()) {
      if (e.type !== 'metrics') continue;
      const before = events.slice(0, i).reverse().find((x) => x.type !== 'warning');
      expect(before).toMatchObject({ type: 'evaluating', step: e.step });
      const last = before as Extract<TrainEvent, { type: 'evaluating' }>;
      expect(last.total).toBeGreaterThan(0);
      expect(last.done).toBe(last.total);
    }
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
      const session = pathToFileURL(join(ROOT, 'src-main', 'session', 'TrainingSession.ts')).href;
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

/* ------------------------------------------------------------------ optimisers, node state, EMA targets, update rules */

const D = 2;
/** mu: a network whose Fn is x - mu; its update rule sets mu to the batch mean */
const meanNet = defineNode({
  type: 'test.meanNet',
  version: 1,
  title: 'Mean',
  category: 'network',
  role: 'network',
  inputs: { x: { type: { kind: 'Tensor' } } },
  outputs: { r: { type: { kind: 'Tensor' } }, fn: { type: { kind: 'Fn' } } },
  params: z.object({}),
  math: { latex: 'r = x - \\mu', explain: 'a test network: the residual of x about a learned mean mu, whose update rule sets mu to the batch mean' },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [D] } } },
  infer: () => ({ r: { kind: 'Tensor', shape: [D] }, fn: { kind: 'Fn', in: [D], out: [D], timeConditioned: false } }),
  build(ctx): { fn: FnValue<any> } {
    const mu = ctx.param('mu', [D], { kind: 'constant', value: 0.5 });
    return { fn: { kind: 'Fn', owner: ctx.nodeId, in: [D], out: [D], timeConditioned: false, call: (x) => ctx.ops.sub(x, mu) } };
  },
  staticOutputs: ['fn'],
  apply: (_ctx, { inputs, built }) => ({ r: built.fn.call(inputs.x), fn: built.fn }),
  update: (ctx, { inputs }) => ({ mu: ctx.ops.mean(inputs.x, [0]) }),
});
/** L = mean_b sum_j r_bj^2 */
const sqLoss = defineNode({
  type: 'test.sq',
  version: 1,
  title: 'Squares',
  category: 'loss',
  role: 'objective',
  inputs: { r: { type: { kind: 'Tensor' } } },
  outputs: { loss: { type: { kind: 'Loss' } } },
  params: z.object({ ...objectiveFields }),
  math: { latex: 'L = \\overline{\\lVert r \\rVert^2}', explain: 'a test objective: the mean over the batch of the squared norm of its input, to check optimiser steps by hand' },
  fixture: { inputs: { r: { kind: 'Tensor', shape: [D] } } },
  infer: () => ({ loss: { kind: 'Loss' } }),
  apply(ctx, { inputs }) {
    const value = ctx.ops.mean(ctx.ops.sum(ctx.ops.square(inputs.r), [1]));
    return { loss: { kind: 'Loss', value, terms: { sq: value } } };
  },
});
/** the EMA copy of a network's Fn */
const emaNode = defineNode({
  type: 'test.ema',
  version: 1,
  title: 'EMA target',
  category: 'network',
  role: 'none',
  inputs: { fn: { type: { kind: 'Fn' } } },
  outputs: { fn: { type: { kind: 'Fn' } } },
  params: z.object({ decay: z.number().default(0.9) }),
  math: { latex: '\\theta^- \\leftarrow \\mu\\theta^- + (1-\\mu)\\theta', explain: 'a test node: the network on its input with exponentially averaged weights, updated after every step' },
  fixture: { inputs: { fn: { kind: 'Fn', in: [D], out: [D], timeConditioned: false } } },
  infer: (s) => ({ fn: s.fn! }),
  build: (ctx, p, _s, statics): { fn: FnValue<any> } => ({ fn: emaOf(ctx, 'fn', p.decay, statics.fn as FnValue<any>) }),
  staticOutputs: ['fn'],
  apply: (_ctx, { built }) => ({ fn: built.fn }),
});
/** detached, with state acc <- acc + mean(x); passes x + acc on */
const counter = defineNode({
  type: 'test.counter',
  version: 1,
  title: 'Counter',
  category: 'data',
  role: 'none',
  inputs: { x: { type: { kind: 'Tensor' } } },
  outputs: { y: { type: { kind: 'Tensor' } } },
  params: z.object({}),
  math: { latex: 'a \\leftarrow a + \\bar x', explain: 'a test node with state: it accumulates the batch mean and shifts its input by the running sum' },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [D] } } },
  infer: () => ({ y: { kind: 'Tensor', shape: [D] } }),
  detached: true,
  build(ctx) {
    readState(ctx, 'acc', [D], { kind: 'zeros' });
    return undefined;
  },
  apply(ctx, { inputs }) {
    const acc = readState(ctx, 'acc', [D], { kind: 'zeros' });
    writeState(ctx, 'acc', ctx.ops.add(acc, ctx.ops.mean(inputs.x, [0])));
    return { y: ctx.ops.stopGradient(ctx.ops.add(inputs.x, acc)) };
  },
});
/** detached: y = f(x), computed before the step off the tape (no stopGradient of its own) */
const detachedCall = defineNode({
  type: 'test.call',
  version: 1,
  title: 'Detached call',
  category: 'data',
  role: 'none',
  inputs: { fn: { type: { kind: 'Fn' } }, x: { type: { kind: 'Tensor' } } },
  outputs: { y: { type: { kind: 'Tensor' } } },
  params: z.object({}),
  math: { latex: 'y = f(x)', explain: 'a test node: calls a network outside the gradient, as Langevin negatives do, to check that no gradient reaches it' },
  fixture: { inputs: { fn: { kind: 'Fn', in: [D], out: [D], timeConditioned: false }, x: { kind: 'Tensor', shape: [D] } } },
  infer: () => ({ y: { kind: 'Tensor', shape: [D] } }),
  detached: true,
  apply: (_ctx, { inputs }) => ({ y: inputs.fn.call(inputs.x) }),
});
const testRegistry = NodeRegistry.ofNodes([...NODE_TYPES, meanNet, sqLoss, emaNode, counter, detachedCall] as AnyNodeSpec[]);

const ROWS = Float32Array.from([1, 2, 3, -1, 0.5, 0.25, -2, 4]); // 4 rows of 2
const XBAR = [0.625, 1.3125];
const fixedFeed: DataFeed = { dim: D, batch: () => ROWS.slice(), heldOut: () => ROWS.slice() };

function testProgram(optimizer: Record<string, unknown>, opts: { ema?: number; counter?: boolean; call?: boolean } = {}) {
  if (opts.call) {
    const doc = {
      format: 'genloom',
      version: 1,
      meta: { title: 'test', dataset: 'moons', training: { steps: 10, batchSize: 4 } },
      nodes: [
        { id: 'data', type: 'data.dataset', version: 1, params: { dataset: 'moons' } },
        { id: 'other', type: 'test.meanNet', version: 1, params: {} },
        { id: 'call', type: 'test.call', version: 1, params: {} },
        { id: 'mean', type: 'test.meanNet', version: 1, params: {} },
        { id: 'loss', type: 'test.sq', version: 1, params: { optimizer } },
      ],
      edges: [
        { from: ['data', 'x'], to: ['call', 'x'] },
        { from: ['data', 'x'], to: ['other', 'x'] },
        { from: ['other', 'fn'], to: ['call', 'fn'] },
        { from: ['call', 'y'], to: ['mean', 'x'] },
        { from: ['mean', 'r'], to: ['loss', 'r'] },
      ],
    };
    return loadProgramOrThrow(doc, (m) => new Error(m), { registry: testRegistry }).program;
  }
  const nodes: unknown[] = [
    { id: 'data', type: 'data.dataset', version: 1, params: { dataset: 'moons' } },
    ...(opts.counter ? [{ id: 'counter', type: 'test.counter', version: 1, params: {} }] : []),
    { id: 'mean', type: 'test.meanNet', version: 1, params: {} },
    { id: 'loss', type: 'test.sq', version: 1, params: { optimizer } },
    ...(opts.ema !== undefined ? [{ id: 'ema', type: 'test.ema', version: 1, params: { decay: opts.ema } }] : []),
  ];
  const edges = [
    ...(opts.counter
      ? [
          { from: ['data', 'x'], to: ['counter', 'x'] },
          { from: ['counter', 'y'], to: ['mean', 'x'] },
        ]
      : [{ from: ['data', 'x'], to: ['mean', 'x'] }]),
    { from: ['mean', 'r'], to: ['loss', 'r'] },
    ...(opts.ema !== undefined ? [{ from: ['mean', 'fn'], to: ['ema', 'fn'] }] : []),
  ];
  const doc = { format: 'genloom', version: 1, meta: { title: 'test', dataset: 'moons', training: { steps: 10, batchSize: 4 } }, nodes, edges };
  return loadProgramOrThrow(doc, (m) => new Error(m), { registry: testRegistry }).program;
}
const newTrainer = (optimizer: Record<string, unknown>, opts: Parameters<typeof testProgram>[1] = {}) =>
  new Trainer(testProgram(optimizer, opts), new Map([['data', fixedFeed]]), { seed: 1, batchSize: 4 });
const values = (t: Trainer, name: string) => Array.from(t.store.vars.get(name)!.dataSync());

describe('optimisers, node state, EMA targets and update rules', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('an sgd step is w - lr g; with momentum, v <- m v + g, w <- w - lr v', () => {
    const lr = 0.1;
    const plain = newTrainer({ kind: 'sgd', lr });
    const mo = newTrainer({ kind: 'sgd', lr, momentum: 0.9 });
    const w = [0.5, 0.5];
    const wm = [0.5, 0.5];
    const v = [0, 0];
    for (let k = 0; k < 3; k++) {
      plain.round(false);
      mo.round(false);
      for (let j = 0; j < D; j++) {
        w[j] = w[j]! - lr * -2 * (XBAR[j]! - w[j]!); // dL/dmu = -2 (xbar - mu)
        v[j] = 0.9 * v[j]! + -2 * (XBAR[j]! - wm[j]!);
        wm[j] = wm[j]! - lr * v[j]!;
      }
      values(plain, 'mean/mu').forEach((x, j) => expect(x).toBeCloseTo(w[j]!, 6));
      values(mo, 'mean/mu').forEach((x, j) => expect(x).toBeCloseTo(wm[j]!, 6));
    }
    expect(plain.optimizers.get('loss')!.getClassName()).toBe('SGD');
    plain.dispose();
    mo.dispose();
  });

  it('rmsprop takes the tfjs rmsprop step, and clipWeights clips after it', () => {
    const t = newTrainer({ kind: 'rmsprop', lr: 0.01, decay: 0.8, momentum: 0.5, epsilon: 1e-6 });
    let mu = [0.5, 0.5];
    const ms = [0, 0];
    const mom = [0, 0];
    for (let k = 0; k < 3; k++) {
      t.round(false);
      mu = mu.map((m, j) => {
        const g = -2 * (XBAR[j]! - m);
        ms[j] = 0.8 * ms[j]! + 0.2 * g * g;
        mom[j] = 0.5 * mom[j]! + (0.01 * g) / Math.sqrt(ms[j]! + 1e-6);
        return m - mom[j]!;
      });
      values(t, 'mean/mu').forEach((x, j) => expect(x).toBeCloseTo(mu[j]!, 5));
    }
    t.dispose();
    const clipped = newTrainer({ kind: 'sgd', lr: 0.4, clipWeights: 0.6 });
    for (let k = 0; k < 5; k++) clipped.round(false);
    expect(values(clipped, 'mean/mu')).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.6, 6)]); // the mean (0.625, 1.31) lies beyond 0.6
    clipped.dispose();
  });

  it('a detached node runs before the step, off the tape: no gradient reaches the network through it', () => {
    // r = f(x) - mu with f(x) = x - nu (network "other") computed off the tape: the loss trains both, but nu gets no gradient
    const lr = 0.1;
    const t = newTrainer({ kind: 'sgd', lr }, { call: true });
    expect(t.program.objectives[0]!.trains.sort()).toEqual(['mean', 'other']);
    t.round(false);
    expect(values(t, 'other/mu')).toEqual([0.5, 0.5]);
    values(t, 'mean/mu').forEach((x, j) => expect(x).toBeCloseTo(0.5 - lr * -2 * (XBAR[j]! - 0.5 - 0.5), 6));
    t.dispose();
  });

  it('an update rule replaces the gradient step: the running mean sets mu to the batch mean', () => {
    const t = newTrainer({ kind: 'update' });
    expect(t.optimizers.size).toBe(0);
    const terms = t.round(true)!;
    // the loss is read before the update: mu was 0.5
    const before = Array.from({ length: 4 }, (_, b) => (ROWS[2 * b]! - 0.5) ** 2 + (ROWS[2 * b + 1]! - 0.5) ** 2).reduce((a, x) => a + x) / 4;
    expect(terms.loss!.loss).toBeCloseTo(before, 5);
    values(t, 'mean/mu').forEach((x, j) => expect(x).toBeCloseTo(XBAR[j]!, 6));
    t.dispose();
    // a network without an update rule cannot be trained that way
    const bad = loadProgramOrThrow(template('vae-moons'), (m) => new Error(m)).program;
    bad.objectives[0]!.optimizer = { kind: 'update' };
    expect(() => new Trainer(bad, new Map([['data', fixedFeed]]), { seed: 0, batchSize: 4 })).toThrow(/declares none/);
  });

  it('an EMA target follows theta_ema <- mu theta_ema + (1 - mu) theta after each step, and its Fn computes with it', () => {
    const decay = 0.8;
    const t = newTrainer({ kind: 'sgd', lr: 0.05 }, { ema: decay });
    expect(values(t, 'ema/ema/mean/mu')).toEqual(values(t, 'mean/mu')); // theta_ema = theta at step 0
    let ema = values(t, 'mean/mu');
    for (let k = 0; k < 6; k++) {
      t.round(false);
      const theta = values(t, 'mean/mu');
      ema = ema.map((e, j) => decay * e + (1 - decay) * theta[j]!);
      values(t, 'ema/ema/mean/mu').forEach((x, j) => expect(x).toBeCloseTo(ema[j]!, 6));
    }
    expect(Math.abs(ema[1]! - values(t, 'mean/mu')[1]!)).toBeGreaterThan(0.01); // it lags
    const [fn] = t.runner.evaluate([{ node: 'ema', port: 'fn' }], { batchSize: 1, mode: 'sample' }) as FnValue<tf.Tensor>[];
    const y = tf.tidy(() => Array.from(fn!.call(tf.tensor2d([[1, 1]])).dataSync()));
    y.forEach((v, j) => expect(v).toBeCloseTo(1 - ema[j]!, 6));
    expect([...t.store.snapshot().keys()]).toContain('ema/ema/mean/mu');
    t.dispose();
  });

  it('node state persists between steps outside the gradient, is checkpointed with the weights and restored exactly', async () => {
    const opt = { kind: 'sgd', lr: 0.05, momentum: 0.9 };
    const whole = newTrainer(opt, { counter: true, ema: 0.5 });
    for (let k = 0; k < 6; k++) whole.round(false);
    // acc = 6 xbar: the state took one step per round; the counter is detached, so it ran once per step
    values(whole, 'state/counter/acc').forEach((x, j) => expect(x).toBeCloseTo(6 * XBAR[j]!, 5));
    // evaluation reads the state, never writes it
    whole.heldOutTerms('loss', 4);
    values(whole, 'state/counter/acc').forEach((x, j) => expect(x).toBeCloseTo(6 * XBAR[j]!, 5));

    const first = newTrainer(opt, { counter: true, ema: 0.5 });
    for (let k = 0; k < 3; k++) first.round(false);
    const weights = first.store.snapshot();
    const optState = await first.optimizerState();
    expect([...weights.keys()].sort()).toEqual(['ema/ema/mean/mu', 'mean/mu', 'state/counter/acc']);
    const resumed = newTrainer(opt, { counter: true, ema: 0.5 });
    resumed.store.load(weights);
    await resumed.loadOptimizerState(optState);
    resumed.step = 3;
    for (let k = 0; k < 3; k++) resumed.round(false);
    for (const name of ['mean/mu', 'state/counter/acc', 'ema/ema/mean/mu']) expect(values(resumed, name), name).toEqual(values(whole, name));
    for (const t of [whole, first, resumed]) t.dispose();
  });

  it('a run resumed from its checkpoint equals the uninterrupted run with sgd (momentum) and rmsprop (clipped weights)', async () => {
    const cases: [string, (doc: any) => void, RegExp][] = [
      ['vae-moons', (doc) => (doc.nodes.find((n: any) => n.id === 'elbo').params.optimizer = { kind: 'sgd', lr: 0.01, momentum: 0.9 }), /\/momentum$/],
      [
        'gan-8gaussians',
        (doc) => {
          for (const n of doc.nodes) if (n.params.optimizer) n.params.optimizer = { kind: 'rmsprop', lr: 5e-4, momentum: 0.3, clipWeights: 0.05 };
        },
        /\/rms$/,
      ],
    ];
    for (const [tpl, edit, slot] of cases) {
      const doc = template(tpl);
      edit(doc);
      const base = { doc, batchSize: 32, logEvery: 1, checkpointEvery: 20, seed: 9 };
      const whole = await train({ ...base, runDir: join(tmp, `opt-whole-${tpl}`), steps: 40 });
      const dir = join(tmp, `opt-resumed-${tpl}`);
      await train({ ...base, runDir: dir, steps: 20 });
      const ckpt = await readLatestCheckpoint(dir);
      expect([...ckpt.optimizer.keys()].some((k) => slot.test(k)), `${tpl}: optimiser slots are checkpointed`).toBe(true);
      if (tpl === 'gan-8gaussians') {
        const critic = [...ckpt.weights].filter(([k]) => k.startsWith('critic/'));
        expect(Math.max(...critic.flatMap(([, t]) => Array.from(t.data, Math.abs)))).toBeLessThanOrEqual(0.05 + 1e-7);
      }
      const second = await train({ ...base, runDir: dir, steps: 40, resume: true });
      expect(second.stopped).toMatchObject({ reason: 'done', step: 40 });
      expect(lossesFrom(second.losses, 21, 40), tpl).toEqual(lossesFrom(whole.losses, 21, 40));
    }
  });
});
