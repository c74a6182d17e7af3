/**
 * The studio's training runs are bounded: at most `maxTrainingRuns` (default 4) at once,
 * a run past that refused with a clear error, and a finished run released from the
 * server's memory (what export needs of it is read back from its folder).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TrainEvent } from '../src-main/api/trainingProtocol';
import { createStudio, type TrainingSessionLike } from '../src-main/app/handlers';
import { DEFAULT_MAX_TRAINING_RUNS } from '../src-main/app/studio/training';
import { readTemplate } from '../src-main/document/templates';
import { serializeDocument } from '../src-main/document/serializeDocument';

function fakeSession() {
  const listeners: ((e: TrainEvent) => void)[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((res) => (resolve = res));
  const calls: string[] = [];
  const finish = async () => {
    listeners.forEach((l) => l({ type: 'stopped', step: 3, reason: 'done' }));
    resolve();
    await new Promise((r) => setTimeout(r, 0));
  };
  const session: TrainingSessionLike = {
    on: (l) => listeners.push(l),
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    // like a real session: a stop ends it (so that dispose() does not wait)
    stop: () => {
      calls.push('stop');
      void finish();
    },
    done,
  };
  return { session, calls, finish };
}

let dataDir = '';
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'genloom-runs-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const doc = () => readTemplate('ddpm-swissroll') as any;

describe('studio training runs', () => {
  it(`runs at most ${DEFAULT_MAX_TRAINING_RUNS} at once by default; the next is refused with a clear error until one ends`, async () => {
    const fakes: ReturnType<typeof fakeSession>[] = [];
    const studio = createStudio({
      dataDir,
      training: () => {
        const f = fakeSession();
        fakes.push(f);
        return f.session;
      },
    });
    const h = studio.handlers;
    const ids: string[] = [];
    for (let i = 0; i < DEFAULT_MAX_TRAINING_RUNS; i++) ids.push((await h.startTraining({ doc: doc(), steps: 10, seed: 0 })).runId);
    await expect(h.startTraining({ doc: doc(), steps: 10, seed: 0 })).rejects.toThrow(
      new RegExp(`${DEFAULT_MAX_TRAINING_RUNS} training runs are running already \\(the most at once\\); stop one or wait for one to end`),
    );
    expect(fakes).toHaveLength(DEFAULT_MAX_TRAINING_RUNS); // the refused one never reached the host
    // starts in parallel count as well (the check is not fooled by a burst)
    await fakes[0]!.finish();
    const burst = await Promise.allSettled([0, 1, 2].map(() => h.startTraining({ doc: doc(), steps: 10, seed: 0 })));
    expect(burst.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(fakes).toHaveLength(DEFAULT_MAX_TRAINING_RUNS + 1);
    for (const f of fakes.slice(1)) await f.finish();
    await expect(h.startTraining({ doc: doc(), steps: 10, seed: 0 })).resolves.toMatchObject({ runId: expect.any(String) });
    await studio.dispose();
  });

  it('the limit is configurable (the option, else GENLOOM_MAX_TRAINING_RUNS)', async () => {
    const studio = createStudio({ dataDir, maxTrainingRuns: 1, training: () => fakeSession().session });
    await studio.handlers.startTraining({ doc: doc(), steps: 10, seed: 0 });
    await expect(studio.handlers.startTraining({ doc: doc(), steps: 10, seed: 0 })).rejects.toThrow(/1 training run is running already/);
    await studio.dispose();
    const before = process.env.GENLOOM_MAX_TRAINING_RUNS;
    process.env.GENLOOM_MAX_TRAINING_RUNS = '2';
    try {
      const s2 = createStudio({ dataDir, training: () => fakeSession().session });
      await s2.handlers.startTraining({ doc: doc(), steps: 10, seed: 0 });
      await s2.handlers.startTraining({ doc: doc(), steps: 10, seed: 0 });
      await expect(s2.handlers.startTraining({ doc: doc(), steps: 10, seed: 0 })).rejects.toThrow(/2 training runs are running already/);
      await s2.dispose();
    } finally {
      if (before === undefined) delete process.env.GENLOOM_MAX_TRAINING_RUNS;
      else process.env.GENLOOM_MAX_TRAINING_RUNS = before;
    }
  });

  it('a finished run is released from memory; its folder still serves export, and stop/pause on it are no-ops', async () => {
    const fakes: ReturnType<typeof fakeSession>[] = [];
    const studio = createStudio({
      dataDir,
      training: (req) => {
        const f = fakeSession();
        fakes.push(f);
        // what a real run writes first: the graph it trains
        void writeFile(join(req.runDir, 'graph.json'), serializeDocument(req.doc as never));
        return f.session;
      },
      exporter: { listTargets: () => [{ id: 'sampler:sampler', kind: 'sampler', nodeId: 'sampler', description: '' }], exportOnnx: async () => ({ path: '', bytes: 0, parity: null }) },
    });
    const h = studio.handlers;
    const { runId } = await h.startTraining({ doc: doc(), steps: 10, seed: 0 });
    expect(studio.liveRuns()).toBe(1);
    await fakes[0]!.finish();
    expect(studio.liveRuns()).toBe(0);
    await expect(h.stopTraining({ runId })).resolves.toEqual({});
    await expect(h.pauseTraining({ runId })).resolves.toEqual({});
    expect(fakes[0]!.calls).toEqual([]);
    await expect(h.exportTargets({ runId })).resolves.toEqual([expect.objectContaining({ id: 'sampler:sampler' })]);
    await expect(h.pauseTraining({ runId: 'no-such-run' })).rejects.toThrow(/no training run "no-such-run"/);
    await studio.dispose();
  });

  it('a run whose session fails without a final event is released too', async () => {
    let reject!: (e: unknown) => void;
    let first = true;
    const studio = createStudio({
      dataDir,
      maxTrainingRuns: 1,
      training: () => {
        if (!first) return fakeSession().session;
        first = false;
        return { on: () => {}, pause() {}, resume() {}, stop() {}, done: new Promise((_, rej) => (reject = rej)) };
      },
    });
    await studio.handlers.startTraining({ doc: doc(), steps: 10, seed: 0 });
    reject(new Error('worker crashed'));
    await new Promise((r) => setTimeout(r, 10));
    expect(studio.liveRuns()).toBe(0);
    await expect(studio.handlers.startTraining({ doc: doc(), steps: 10, seed: 0 })).resolves.toMatchObject({ runId: expect.any(String) });
    await studio.dispose();
  });
});
