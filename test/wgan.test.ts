/**
 * The Wasserstein GAN family (nodes/wgan/): the gradient penalty equals its closed form on a
 * linear critic (value and gradient in the weights, through ops.grad), its interpolates lie
 * on the segments between data and generated points with one eps per row; the critic losses
 * train only the critic and the generator loss only the generator; weight clipping keeps
 * every critic weight in [-c, c]; the critic reports w1 each round; a short WGAN-GP run on
 * ring8 puts most samples within 3 sigma of a mode, which a moment-matched Gaussian does
 * not; the generator and the sampler export to ONNX equal to tfjs to 1e-4.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeCtx } from '../nodes/core/defineNode';
import type { PortShape } from '../nodes/core/ports';
import type { FnValue, LossValue } from '../nodes/core/values';
import { registry } from '../nodes/index';
import { wganGpCritic } from '../nodes/wgan/wganLosses';
import { compile } from '../src-main/compile/compile';
import { toyModes } from '../src-main/data/toy';
import { evaluateRun } from '../src-main/eval/evaluate';
import { modeCoverage } from '../src-main/eval/metrics';
import { exportOnnx, formatParityReport, listTargets, parityCheck } from '../src-main/export/exportModel';
import { validateGraph } from '../src-main/graph/validate';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import type { Trainer } from '../src-main/runtime/Trainer';
import type { ApiEvent } from '../src-main/api/contract';
import type { TrainEvent } from '../src-main/api/trainingProtocol';
import { runTraining, type TrainControl } from '../src-main/runtime/trainLoop';
import type { StudioClient } from '../src-renderer/api';
import { TrainingStore } from '../src-renderer/model/training';
import { fitGaussian } from './baselines';
import { loadTemplate, trainTemplate } from './trainTemplate';

beforeAll(async () => {
  await initBackend('wasm');
});

/** a loss node's ctx outside any graph */
function lossCtx(ops: TfjsOps, batchSize: number): NodeCtx<tf.Tensor> {
  return {
    ops,
    nodeId: 'criticLoss',
    param: () => {
      throw new Error('a loss has no parameters');
    },
    batchSize,
    mode: 'train',
    feed: () => {
      throw new Error('no data');
    },
  };
}

function runGp(ops: TfjsOps, critic: FnValue<tf.Tensor>, real: tf.Tensor, fake: tf.Tensor, lambda: number): LossValue<tf.Tensor> {
  const params = wganGpCritic.params.parse({ lambda });
  const shapes: Record<'critic' | 'real' | 'fake', PortShape> = { critic: { kind: 'Fn', in: critic.in, out: [1], timeConditioned: false }, real: { kind: 'Tensor', shape: critic.in }, fake: { kind: 'Tensor', shape: critic.in } };
  return wganGpCritic.apply(lossCtx(ops, real.shape[0]!), { inputs: { critic, real, fake }, params, shapes, built: undefined }).loss as LossValue<tf.Tensor>;
}

const num = (t: tf.Tensor) => t.dataSync()[0]!;

describe('the gradient penalty (WGAN-GP)', () => {
  it('is lambda (||w|| - 1)^2 on a linear critic D(x) = w.x + b, and its gradient in w is 2 lambda (||w|| - 1) w / ||w|| - (E[x] - E[G(z)])', () => {
    const ops = new TfjsOps({ seed: 5 });
    const wv = [1.5, -2, 0.5];
    const lambda = 7;
    const norm = Math.hypot(...wv);
    const real = tf.tensor2d([0.3, -1, 2, 1.5, 0.2, -0.7, -2, 0.4, 1, 0.9, 0.9, 0.1], [4, 3]);
    const fake = tf.tensor2d([2, 1, -1, -0.5, 0.5, 0.5, 0.1, -3, 0.2, 1.2, 0, -1], [4, 3]);
    const w = tf.variable(tf.tensor2d(wv, [3, 1]));
    const b = tf.scalar(0.25);
    const critic: FnValue<tf.Tensor> = { kind: 'Fn', owner: 'critic', in: [3], out: [1], timeConditioned: false, call: (x) => ops.add(ops.matmul(x, w), b) };
    const meanRow = (x: tf.Tensor) => Array.from(tf.mean(x, 0).dataSync());
    const mr = meanRow(real);
    const mf = meanRow(fake);
    const w1 = wv.reduce((a, wi, i) => a + wi * (mr[i]! - mf[i]!), 0);
    const gp = (norm - 1) ** 2;
    tf.tidy(() => {
      const l = runGp(ops, critic, real, fake, lambda);
      expect(num(l.terms.gp!)).toBeCloseTo(gp, 5);
      expect(num(l.terms.gradNorm!)).toBeCloseTo(norm, 5);
      expect(num(l.terms.w1!)).toBeCloseTo(w1, 5);
      expect(num(l.value)).toBeCloseTo(-w1 + lambda * gp, 4);
    });
    // tfjs differentiates through ops.grad: d/dw of the loss in closed form
    const { value, grads } = tf.variableGrads(() => runGp(ops, critic, real, fake, lambda).value as tf.Scalar, [w]);
    const g = Array.from(grads[w.name]!.dataSync());
    const want = wv.map((wi, i) => 2 * lambda * (norm - 1) * (wi / norm) - (mr[i]! - mf[i]!));
    g.forEach((gi, i) => expect(gi, `d/dw_${i}`).toBeCloseTo(want[i]!, 4));
    tf.dispose([value, ...Object.values(grads), real, fake, w, b]);
  });

  it('takes grad D at x^ = eps x + (1 - eps) G(z), one eps ~ U[0, 1] per row', () => {
    const ops = new TfjsOps({ seed: 11 });
    const n = 256;
    // rows x = (1, 2), G(z) = (-1, 0): x^ = (2 eps - 1, 2 eps)
    const real = tf.tidy(() => tf.tile(tf.tensor2d([[1, 2]]), [n, 1]));
    const fake = tf.tidy(() => tf.tile(tf.tensor2d([[-1, 0]]), [n, 1]));
    // D(u) = 0.5 ||u||^2 records its inputs: the third call is the one inside ops.grad
    const seen: number[][][] = [];
    const critic: FnValue<tf.Tensor> = {
      kind: 'Fn',
      owner: 'critic',
      in: [2],
      out: [1],
      timeConditioned: false,
      call: (u) => {
        seen.push(u.arraySync() as number[][]);
        return ops.mul(ops.sum(ops.square(u), [1], true), ops.scalar(0.5));
      },
    };
    tf.tidy(() => {
      const l = runGp(ops, critic, real, fake, 10);
      expect(seen).toHaveLength(3);
      const xHat = seen[2]!;
      const eps = xHat.map(([a, c]) => {
        expect(c! - a!).toBeCloseTo(1, 5); // on the segment: both coordinates share one eps
        return c! / 2;
      });
      expect(Math.min(...eps)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...eps)).toBeLessThanOrEqual(1);
      const mean = eps.reduce((a, e) => a + e, 0) / n;
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.06);
      expect(Math.min(...eps)).toBeLessThan(0.05);
      expect(Math.max(...eps)).toBeGreaterThan(0.95);
      // grad D(x^) = x^, so the penalty is the mean of (||x^|| - 1)^2 over the draws
      const gp = xHat.reduce((a, [u, v]) => a + (Math.hypot(u!, v!) - 1) ** 2, 0) / n;
      expect(num(l.terms.gp!)).toBeCloseTo(gp, 4);
    });
    tf.dispose([real, fake]);
  });
});

describe('the WGAN objectives', () => {
  const trainsOf = (name: string) => {
    const doc = loadTemplate(name, { criticLoss: { trains: [] }, generatorLoss: { trains: [] } });
    const program = compile(validateGraph(doc, registry));
    return Object.fromEntries(program.objectives.map((o) => [o.nodeId, o.trains]));
  };
  it.each(['wgangp-ring8', 'wgan-8gaussians'])('%s, trains empty: the critic loss trains only the critic, the generator loss only the generator', (name) => {
    expect(trainsOf(name)).toEqual({ criticLoss: ['critic'], generatorLoss: ['generator'] });
  });

  it('weight clipping (wgan-8gaussians, RMSprop) keeps every critic weight in [-c, c] after each step; the generator is not clipped', () => {
    const doc = loadTemplate('wgan-8gaussians');
    const c = doc.nodes.find((n: { id: string }) => n.id === 'criticLoss').params.optimizer.clipWeights as number;
    expect(c).toBeGreaterThan(0);
    const { trainer } = trainTemplate('wgan-8gaussians', { steps: 0, batchSize: 64, overrides: { generator: { hidden: [32, 32] }, critic: { hidden: [32, 32] } } });
    const absMax = (prefix: string) => Math.max(...[...trainer.store.vars].filter(([k]) => k.startsWith(prefix)).map(([, v]) => tf.tidy(() => tf.max(tf.abs(v)).dataSync()[0]!)));
    expect(absMax('critic/')).toBeGreaterThan(3 * c); // glorot weights start far outside the box
    for (let r = 0; r < 3; r++) {
      trainer.round(false);
      const critic = [...trainer.store.vars].filter(([k]) => k.startsWith('critic/'));
      expect(critic.length).toBe(6);
      for (const [k, v] of critic) {
        const d = v.dataSync();
        expect(Math.max(...Array.from(d, Math.abs)), k).toBeLessThanOrEqual(c + 1e-9);
      }
      expect(absMax('critic/')).toBeCloseTo(c, 6); // weights sit on the box
    }
    expect(absMax('generator/')).toBeGreaterThan(3 * c);
    trainer.dispose();
  });

  it('the critic reports w1 = E[D(x)] - E[D(G(z))] every round, and the generator loss is -E[D(G(z))]', () => {
    const { trainer, doc } = trainTemplate('wgangp-ring8', { steps: 2, batchSize: 64, overrides: { generator: { hidden: [16] }, critic: { hidden: [16] }, criticLoss: { lambda: 3 } } });
    expect(doc.nodes.find((n: { id: string }) => n.id === 'criticLoss').params.lambda).toBe(3);
    const t = trainer.round(true)!;
    const k = t.criticLoss!;
    expect(k.w1).toBeCloseTo(k.real! - k.fake!, 5);
    expect(k.loss).toBeCloseTo(-k.w1! + 3 * k.gp!, 4);
    expect(k.gradNorm).toBeGreaterThan(0);
    expect(t.generatorLoss!.loss).toBeCloseTo(-t.generatorLoss!.fake!, 6);
    trainer.dispose();
  });
});

describe('the live W1 curve', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'genloom-wgan-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('every step event of a WGAN-GP run carries the critic\'s w1 = real - fake, and the studio plots it as a series of the critic loss', async () => {
    const doc = loadTemplate('wgangp-ring8', { generator: { hidden: [16] }, critic: { hidden: [16] } });
    const events: TrainEvent[] = [];
    const free: TrainControl = { paused: () => false, stopped: () => false, waitWhilePaused: async () => {} };
    await runTraining({ doc, runDir: join(tmp, 'run'), steps: 12, batchSize: 64, logEvery: 1, checkpointEvery: 100, sampleEvery: 100_000, seed: 2 }, (e) => events.push(e), free, null);
    expect(events.at(-1)).toMatchObject({ type: 'stopped', reason: 'done', step: 12 });
    const steps = events.filter((e): e is Extract<TrainEvent, { type: 'step' }> => e.type === 'step');
    expect(steps.length).toBeGreaterThanOrEqual(10);
    for (const e of steps) {
      const k = e.losses.criticLoss!;
      expect(Number.isFinite(k.w1)).toBe(true);
      expect(k.w1).toBeCloseTo(k.real! - k.fake!, 4);
    }
    // the renderer's training store folds the same events into the curves the chart draws
    let listener: (e: ApiEvent) => void = () => {};
    const api = { onEvent: (l: (e: ApiEvent) => void) => ((listener = l), () => {}) } as unknown as StudioClient;
    const frames: (() => void)[] = [];
    const store = new TrainingStore(api, (cb) => (frames.push(cb), frames.length));
    store.starting(12);
    const started = events.find((e) => e.type === 'started')!;
    store.started('run1', join(tmp, 'run'));
    for (const e of [started, ...steps]) listener({ event: 'train', runId: 'run1', payload: e });
    while (frames.length) frames.shift()!();
    const series = store.getState().series.criticLoss!;
    expect(series.terms.w1).toEqual(steps.map((e) => e.losses.criticLoss!.w1));
  }, 60_000);
});

/** training rounds of the short run (the template trains 8000) and its bars */
const STEPS = 2000;
const HQ_BAR = 0.5;
const MODES_BAR = 8;

describe('wgangp-ring8, a short run', () => {
  let trainer: Trainer;
  let metrics: Record<string, number>;
  let baseline: { modes: number; hq: number };
  beforeAll(() => {
    const r = trainTemplate('wgangp-ring8', { steps: STEPS });
    trainer = r.trainer;
    metrics = evaluateRun(r.trainer, r.program, r.feeds, { n: 2000 });
    const g = fitGaussian(r.feeds.get('data')!);
    const c = modeCoverage(g.sample(2000, 4242), 2, toyModes('ring8')!);
    baseline = { modes: c.modesCaptured, hq: c.highQualityFraction };
  }, 400_000);
  afterAll(() => trainer?.dispose());

  it(`puts more than ${HQ_BAR * 100}% of its samples within 3 sigma of a mode and covers at least ${MODES_BAR} of 8 (a moment-matched Gaussian fails)`, () => {
    console.log(`wgangp-ring8, ${STEPS} rounds: modes ${metrics['sampler.modes']}/8, high quality ${metrics['sampler.highQuality']!.toFixed(3)}, energy ${metrics['sampler.energy']!.toFixed(4)}, held-out w1 ${metrics['criticLoss.w1']!.toFixed(4)}; Gaussian: modes ${baseline.modes}/8, high quality ${baseline.hq.toFixed(4)}`);
    expect(metrics['sampler.highQuality']).toBeGreaterThan(HQ_BAR);
    expect(metrics['sampler.modes']).toBeGreaterThanOrEqual(MODES_BAR);
    expect(baseline.hq).toBeLessThan(HQ_BAR);
    expect(baseline.hq).toBeLessThan(0.05);
  });

  it('offers its generator and its sampler as export targets', () => {
    expect(listTargets(trainer.program).map((t) => t.id)).toEqual(['generator:generator', 'sampler:sampler']);
  });

  for (const id of ['generator:generator', 'sampler:sampler']) {
    it(`exports ${id} to ONNX equal to tfjs to 1e-4 (both noise modes)`, async () => {
      const weights = trainer.store.snapshot();
      for (const noise of ['inputs', 'internal'] as const) {
        const model = exportOnnx(trainer.program, weights, id, { noise });
        const r = await parityCheck(trainer.program, weights, id, { noise, model, n: 16, seed: 7 });
        expect(r.problems, formatParityReport(r)).toEqual([]);
        expect(r.pass, formatParityReport(r)).toBe(true);
        expect(r.maxError).toBeLessThanOrEqual(1e-4);
      }
    }, 60_000);
  }
});
