/**
 * The generative stochastic network family (nodes/gsn/): the reconstruction log-density is
 * the closed-form diagonal Gaussian; every walkback step scores the ORIGINAL x; the chain's
 * states carry no gradient; the corruption has standard deviation sigma; a short training
 * run of gsn-moons beats a moment-matched Gaussian; the chain sampler exports to ONNX as
 * one Loop equal to tfjs to 1e-4 with the noise as inputs, and runs with its own draws.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeCtx } from '../nodes/core/defineNode';
import type { FnValue, LossValue } from '../nodes/core/values';
import { gsnChainSampler } from '../nodes/gsn/chainSampler';
import { gsnTransition } from '../nodes/gsn/transition';
import { reconLogProb, type TransitionFn } from '../nodes/gsn/transitionOps';
import { walkbackLoss } from '../nodes/gsn/walkbackLoss';
import type { Program } from '../src-main/compile/compile';
import { Rng } from '../src-main/data/rng';
import { evaluateRun } from '../src-main/eval/evaluate';
import { energyDistance, mmd2MultiScale } from '../src-main/eval/metrics';
import { exportOnnx, formatParityReport, listTargets, parityCheck } from '../src-main/export/exportModel';
import { decodeModel } from '../src-main/export/onnxGraph';
import { runOnnx } from '../src-main/export/ort';
import { initBackend } from '../src-main/runtime/backend';
import type { DataFeed, Trainer } from '../src-main/runtime/Trainer';
import { fitGaussian } from './baselines';
import { trainTemplate } from './trainTemplate';

/**
 * the short run: training rounds, network, the chain's weight average and the bar (the
 * template trains 3000 rounds of a 128-128 network; its bars are in nodes/gsn/index.ts)
 */
const STEPS = 800;
const HIDDEN = [64, 64];
const EMA = 0.99;
const BAR = 0.02;

let trainer: Trainer;
let program: Program;
let feeds: Map<string, DataFeed>;
let metrics: Record<string, number>;
let trainSec = 0;

beforeAll(async () => {
  await initBackend('wasm');
  const t0 = Date.now();
  ({ trainer, program, feeds } = trainTemplate('gsn-moons', { steps: STEPS, overrides: { transition: { hidden: HIDDEN }, chain: { ema: EMA } } }));
  trainSec = (Date.now() - t0) / 1000;
  metrics = evaluateRun(trainer, program, feeds, { n: 2000 });
}, 240_000);

afterAll(() => {
  trainer?.dispose();
});

/** a ctx for calling a node's apply directly on the trainer's ops */
function ctxOf(nodeId: string, batchSize: number): NodeCtx<tf.Tensor> {
  return {
    ops: trainer.ops,
    nodeId,
    param: () => {
      throw new Error('no parameters here');
    },
    batchSize,
    feed: () => {
      throw new Error('no data node here');
    },
    mode: 'train',
  };
}

/** the trained transition operator's Fn */
function transition(): TransitionFn<tf.Tensor> {
  const [v] = trainer.runner.evaluate([{ node: 'transition', port: 'fn' }], { batchSize: 1, mode: 'sample' });
  return v as TransitionFn<tf.Tensor>;
}

/** the walkback loss node applied to a given Fn and data */
function walkback(f: FnValue<tf.Tensor>, x: tf.Tensor, params: Record<string, unknown>): LossValue<tf.Tensor> {
  const p = walkbackLoss.params.parse(params);
  const shapes = { transition: { kind: 'Fn' as const, in: f.in, out: f.out, timeConditioned: false }, data: { kind: 'Tensor' as const, shape: f.in } };
  return walkbackLoss.apply(ctxOf('loss', x.shape[0]!), { inputs: { transition: f, data: x }, params: p, shapes, built: undefined }).loss as LossValue<tf.Tensor>;
}

describe('the reconstruction distribution P(x | x~)', () => {
  // x, mu, s = log std: two rows of a 2-D event
  const X = [
    [0.3, -1.2],
    [2.0, 0.5],
  ];
  const MU = [
    [0.1, -1.0],
    [1.5, 0.9],
  ];
  const S = [
    [-0.5, 0.2],
    [-2.0, -1.1],
  ];
  /** -1/2 sum_j ((x_j - mu_j)^2 exp(-2 s_j) + 2 s_j + log 2 pi), in doubles */
  const closed = X.map((x, i) => x.reduce((a, xj, j) => a - 0.5 * ((xj - MU[i]![j]!) ** 2 * Math.exp(-2 * S[i]![j]!) + 2 * S[i]![j]! + Math.log(2 * Math.PI)), 0));
  const params = () => tf.tensor3d(MU.map((m, i) => [m, S[i]!]));

  it('has the closed-form diagonal Gaussian log-density', () => {
    expect(closed[0]).toBeCloseTo(-1.605649, 5); // the first row worked by hand
    const lp = tf.tidy(() => Array.from(reconLogProb(trainer.ops, tf.tensor2d(X), params(), [2]).dataSync()));
    lp.forEach((v, i) => expect(Math.abs(v - closed[i]!), `row ${i}`).toBeLessThan(1e-5));
  });

  it('is what every walkback step scores, and every step scores the ORIGINAL x', () => {
    // a transition that ignores its input and always returns the fixed parameters: each of
    // the K steps then adds -log P(x | .) of the same data rows, whatever the chain did
    const fixed: FnValue<tf.Tensor> = { kind: 'Fn', owner: 'fixed', in: [2], out: [2, 2], timeConditioned: false, call: (x) => tf.add(params(), tf.mul(tf.sum(x), 0)) };
    const mean = -(closed[0]! + closed[1]!) / 2;
    tf.tidy(() => {
      const one = walkback(fixed, tf.tensor2d(X), { walkback: 1 });
      expect(one.value.dataSync()[0]).toBeCloseTo(mean, 4);
      expect(one.terms.recon!.dataSync()[0]).toBeCloseTo(mean, 4);
      const three = walkback(fixed, tf.tensor2d(X), { walkback: 3, continueProb: 1 });
      expect(three.value.dataSync()[0]).toBeCloseTo(3 * mean, 4);
      expect(three.terms.walkback!.dataSync()[0]).toBeCloseTo(3 * mean, 4);
      expect(three.terms.recon!.dataSync()[0]).toBeCloseTo(mean, 4);
      const geometric = walkback(fixed, tf.tensor2d(X), { walkback: 3, continueProb: 0.5 });
      expect(geometric.value.dataSync()[0]).toBeCloseTo(1.75 * mean, 4);
    });
  });
});

describe('the corruption C(x~ | x): x~ = x + sigma eps', () => {
  it('has mean x and standard deviation sigma in every dimension (moments of 40000 draws)', () => {
    const f = transition();
    const sigma = (program.graph.nodes.get('transition')!.params as { sigma: number }).sigma;
    expect(f.sigma).toBe(sigma);
    const n = 40000;
    const base = [1.5, -0.7];
    const d = tf.tidy(() => f.corrupt(tf.tile(tf.tensor2d([base]), [n, 1])).dataSync());
    for (let j = 0; j < 2; j++) {
      let m = 0;
      let v = 0;
      for (let i = 0; i < n; i++) m += d[2 * i + j]!;
      m /= n;
      for (let i = 0; i < n; i++) v += (d[2 * i + j]! - m) ** 2;
      const std = Math.sqrt(v / (n - 1));
      // standard errors: sigma / sqrt(n) for the mean, sigma / sqrt(2n) for the std
      expect(Math.abs(m - base[j]!), `mean ${j}`).toBeLessThan((4 * sigma) / Math.sqrt(n));
      expect(Math.abs(std - sigma), `std ${j}`).toBeLessThan((4 * sigma) / Math.sqrt(2 * n));
    }
  });

  it('is what a transition draws inside: call(x) = reconstruct(corrupt(x)) on the same draws', () => {
    const f = transition();
    const ops = trainer.ops;
    tf.tidy(() => {
      const x = tf.tensor2d([
        [0, 0],
        [1, 0.5],
        [-1, 0.2],
      ]);
      ops.reseed(11);
      const a = f.call(x).arraySync() as number[][][];
      ops.reseed(11);
      const b = f.reconstruct(f.corrupt(x)).arraySync() as number[][][];
      expect(a).toEqual(b);
      ops.reseed(12);
      const c = f.call(x).arraySync() as number[][][];
      expect(c).not.toEqual(a); // the corruption is drawn afresh
    });
  });
});

describe('gsn-moons (short run)', () => {
  it(`after ${STEPS} rounds, the chain sampler's samples beat a moment-matched Gaussian (energy distance <= ${BAR})`, () => {
    const feed = feeds.get('data')!;
    const g = fitGaussian(feed);
    const x = g.sample(2000, 4242);
    const y = feed.heldOut(2000);
    const base = { energy: energyDistance(x, y, 2), mmd2: mmd2MultiScale(x, y, 2) };
    console.log(
      `gsn-moons ${STEPS} rounds (${trainSec.toFixed(0)} s): energy ${metrics['chain.energy']!.toFixed(4)}, mmd2 ${metrics['chain.mmd2']!.toExponential(2)}, recon NLL ${metrics['loss.recon']!.toFixed(3)}; Gaussian fit energy ${base.energy.toFixed(4)}, mmd2 ${base.mmd2.toExponential(2)}`,
    );
    expect(base.energy).toBeGreaterThan(BAR); // a bar the baseline fails
    expect(metrics['chain.energy']).toBeLessThanOrEqual(BAR);
    expect(metrics['chain.mmd2']).toBeLessThan(base.mmd2);
  });

  it('the walkback samples carry no gradient: the gradient equals the one with the chain states fed in as constants', () => {
    const f = transition();
    const ops = trainer.ops;
    const vars = trainer.store.list(program.objectives[0]!.paramNames);
    expect(vars.length).toBeGreaterThan(0);
    const K = 4;
    tf.tidy(() => {
      const x = tf.tensor2d(feeds.get('data')!.batch(64, new Rng(3)), [64, 2]);
      // the chain runs under the tape; its states (the inputs of steps 2..K) are recorded
      const states: tf.Tensor[] = [];
      const recording: FnValue<tf.Tensor> = { ...f, call: (v) => (states.push(tf.keep(v.clone())), f.call(v)) };
      ops.reseed(77);
      const through = tf.variableGrads(() => walkback(recording, x, { walkback: K }).value as tf.Scalar, vars);
      expect(states).toHaveLength(K);
      // ... and again with those states as constants: fresh tensors off every tape
      let k = 0;
      const fed: FnValue<tf.Tensor> = { ...f, call: (v) => f.call(k++ === 0 ? v : tf.tensor(states[k - 1]!.dataSync(), states[k - 1]!.shape)) };
      ops.reseed(77);
      const constant = tf.variableGrads(() => walkback(fed, x, { walkback: K }).value as tf.Scalar, vars);
      expect(through.value.dataSync()[0]).toBeCloseTo(constant.value.dataSync()[0]!, 5);
      let norm = 0;
      for (const v of vars) {
        const d = tf.max(tf.abs(tf.sub(through.grads[v.name]!, constant.grads[v.name]!))).dataSync()[0]!;
        norm = Math.max(norm, tf.max(tf.abs(constant.grads[v.name]!)).dataSync()[0]!);
        expect(d, v.name).toBeLessThan(1e-5);
      }
      expect(norm).toBeGreaterThan(1e-3); // there is a gradient to compare
      for (const s of states) s.dispose();
    });
  });

  it('offers the chain sampler as its export target', () => {
    expect(listTargets(program).map((t) => t.id)).toEqual(['sampler:chain']);
  });

  it('exports the chain sampler as one ONNX Loop, equal to tfjs to 1e-4 with the noise as inputs', async () => {
    const weights = trainer.store.snapshot();
    const model = exportOnnx(program, weights, 'sampler:chain', { noise: 'inputs', steps: 30 });
    const proto = decodeModel(model.bytes);
    const loops = proto.graph!.node!.filter((n) => n.opType === 'Loop');
    expect(loops).toHaveLength(1);
    const body = loops[0]!.attribute!.find((a) => a.name === 'body')!.g!;
    expect(body.node!.filter((n) => n.opType === 'MatMul')).toHaveLength(HIDDEN.length + 1); // one network call per step
    const r = await parityCheck(program, weights, 'sampler:chain', { noise: 'inputs', steps: 30, model, n: 16, seed: 7 });
    expect(r.problems, formatParityReport(r)).toEqual([]);
    expect(r.pass, formatParityReport(r)).toBe(true);
    expect(r.maxError).toBeLessThanOrEqual(1e-4);
  }, 60_000);

  it('runs with its own draws (noise internal): parity through the probed model, and samples near the data', async () => {
    const weights = trainer.store.snapshot();
    const model = exportOnnx(program, weights, 'sampler:chain', { noise: 'internal' });
    expect(model.inputs.map((i) => i.name)).toEqual(['n']);
    const r = await parityCheck(program, weights, 'sampler:chain', { noise: 'internal', model, n: 16, seed: 5 });
    expect(r.pass, formatParityReport(r)).toBe(true);
    expect(r.internalRun?.ok, formatParityReport(r)).toBe(true);
    const out = await runOnnx(model.bytes, { n: { dtype: 'int64', shape: [], data: BigInt64Array.of(2000n) } });
    expect(out.samples!.shape).toEqual([2000, 2]);
    const e = energyDistance(out.samples!.data, feeds.get('data')!.heldOut(2000), 2);
    expect(e).toBeLessThanOrEqual(BAR);
  }, 60_000);
});

describe('facts for the compare view', () => {
  it('no latent variable, no likelihood, a Markov chain sampler with one network call per burn-in step', () => {
    const fn = { kind: 'Fn' as const, in: [2], out: [2, 2], timeConditioned: false };
    const t = gsnTransition.describe!(gsnTransition.params.parse({}), { x: { kind: 'Tensor', shape: [2] } });
    expect(t.latent?.text).toMatch(/^no latent variable/);
    const l = walkbackLoss.describe!(walkbackLoss.params.parse({}), { transition: fn, data: { kind: 'Tensor', shape: [2] } });
    expect(l.likelihood?.kind).toBe('none');
    const s = gsnChainSampler.describe!(gsnChainSampler.params.parse({ steps: 150 }), { transition: fn });
    expect(s.sampler).toMatchObject({ calls: 150 });
    expect(s.sampler?.text).toMatch(/^Markov chain/);
  });
});
