/**
 * The score-matching family (nodes/score/):
 * - denoising score matching: with the optimal score of N(0, I) data plugged in, the loss
 *   node gives the closed-form minimum 1/2 (1/sigma^2 - 1/(1 + sigma^2)) per dimension, and
 *   any other score gives more;
 * - sliced score matching: its value at the optimum is the closed form, and a linear score
 *   model trained by it on a correlated Gaussian recovers -Sigma^-1 (x - mu) to 5 %;
 * - the Langevin samplers on the closed-form score of a Gaussian end at the variance of the
 *   discretised chain at the last level (and the denoising step shrinks it as Tweedie says);
 * - a short run of ncsn-swissroll samples (annealed Langevin) within an energy distance a
 *   moment-matched Gaussian fails;
 * - both Langevin samplers export as one ONNX model (the annealed one a Loop over levels
 *   with a Loop over steps inside), equal to tfjs to 1e-4 with the noise as inputs (and drawn inside);
 * - the compare view's facts: no latent variable, no likelihood, stochastic samplers with
 *   levels x steps network evaluations.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyNodeSpec, NodeCtx } from '../nodes/core/defineNode';
import type { FnValue, LossValue, ScheduleValue } from '../nodes/core/values';
import { registry } from '../nodes/index';
import { dsmLoss } from '../nodes/score/dsmLoss';
import { annealedScoreLangevin, scoreLangevin } from '../nodes/score/langevinSamplers';
import { geometricSigmas, sigmaSchedule, sigmasOf } from '../nodes/score/sigmas';
import { ssmLoss } from '../nodes/score/ssmLoss';
import { compile } from '../src-main/compile/compile';
import { Rng } from '../src-main/data/rng';
import { evaluateRun } from '../src-main/eval/evaluate';
import { energyDistance } from '../src-main/eval/metrics';
import { exportOnnx, formatParityReport, listTargets, parityCheck } from '../src-main/export/exportModel';
import { decodeModel } from '../src-main/export/onnxGraph';
import { validateGraph } from '../src-main/graph/validate';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { Trainer, type DataFeed } from '../src-main/runtime/Trainer';
import { analyze } from '../src-renderer/model/compare';
import { fitGaussian } from './baselines';
import { loadTemplate, trainTemplate } from './trainTemplate';

let ops: TfjsOps;

beforeAll(async () => {
  await initBackend('wasm');
  ops = new TfjsOps({ seed: 1 });
});

/** runs a loss node's build and apply on given input values (rows = the batch) */
function lossOf(spec: AnyNodeSpec, params: Record<string, unknown>, inputs: { score: FnValue<tf.Tensor>; data: tf.Tensor; sigmas?: ScheduleValue }): LossValue<tf.Tensor> {
  const p = spec.params.parse(params);
  const d = inputs.data.shape.slice(1) as number[];
  const shapes = {
    score: { kind: 'Fn', in: d, out: d, timeConditioned: inputs.score.timeConditioned, ...(inputs.score.timeConditioned && { time: 'continuous' }) },
    data: { kind: 'Tensor', shape: d },
    ...(inputs.sigmas && { sigmas: { kind: 'Schedule', T: inputs.sigmas.T } }),
  };
  spec.infer(shapes as never, p);
  const ctx: NodeCtx<tf.Tensor> = {
    ops,
    nodeId: 'loss',
    param: () => {
      throw new Error('no params');
    },
    batchSize: inputs.data.shape[0]!,
    mode: 'train',
    feed: () => {
      throw new Error('no feed');
    },
  };
  const built = spec.build?.(ctx, p, shapes as never, { sigmas: inputs.sigmas } as never);
  return (spec.apply(ctx, { inputs: inputs as never, params: p, shapes: shapes as never, built }) as { loss: LossValue<tf.Tensor> }).loss;
}

/** s(x~, sigma) = -c x~ / (1 + sigma^2), written on Ops (so ops.vjp sees it): c = 1 is the score of N(0, I) data perturbed at sigma */
function gaussianScore(c = 1, conditioned = true, fixedSigma = 0): FnValue<tf.Tensor> {
  return {
    kind: 'Fn',
    owner: 'closed-form',
    in: [2],
    out: [2],
    timeConditioned: conditioned,
    ...(conditioned && { time: 'continuous' as const }),
    call: (x, sigma) => {
      const v = conditioned ? ops.reshape(ops.add(ops.square(sigma!), ops.scalar(1)), [-1, 1]) : ops.scalar(1 + fixedSigma * fixedSigma);
      return ops.mul(ops.div(x, v), ops.scalar(-c));
    },
  };
}

const num = (t: tf.Tensor) => t.dataSync()[0]!;
const ROWS = 200_000;
const dsmMin = (s: number) => 0.5 * (1 / (s * s) - 1 / (1 + s * s));

describe('geometric noise levels', () => {
  it('go from sigmaMax to sigmaMin with a constant ratio, and come back from the Schedule exactly', () => {
    const s = geometricSigmas(5, 0.01, 10);
    expect(s[0]).toBeCloseTo(5, 12);
    expect(s[9]).toBeCloseTo(0.01, 12);
    for (let i = 1; i < 10; i++) expect(s[i]! / s[i - 1]!).toBeCloseTo(Math.pow(0.002, 1 / 9), 12);
    const back = sigmasOf(sigmaSchedule(s));
    for (let i = 0; i < 10; i++) expect(Math.abs(back[i]! - s[i]!) / s[i]!).toBeLessThan(1e-9);
  });
});

describe('denoising score matching (N(0, I) data, the optimal score plugged in)', () => {
  for (const sigma of [0.5, 2]) {
    it(`at sigma = ${sigma}: the unweighted loss per dimension is 1/2 (1/sigma^2 - 1/(1 + sigma^2)) = ${dsmMin(sigma).toPrecision(3)}, the weighted one sigma^2 times that`, () => {
      tf.tidy(() => {
        ops.reseed(21);
        const data = tf.randomNormal([ROWS, 2], 0, 1, 'float32', 5);
        const sigmas = sigmaSchedule(geometricSigmas(sigma, sigma, 1));
        const l = lossOf(dsmLoss, {}, { score: gaussianScore(), data, sigmas });
        const want = dsmMin(sigma);
        console.log(`DSM at sigma = ${sigma}: unweighted ${num(l.terms.unweighted!).toFixed(4)} (closed form ${want.toFixed(4)}), weighted ${num(l.value).toFixed(4)}`);
        expect(Math.abs(num(l.terms.unweighted!) / want - 1)).toBeLessThan(0.01);
        expect(Math.abs(num(l.value) / (sigma * sigma * want) - 1)).toBeLessThan(0.01);
        // the optimum is a minimum: a score 20 % too short or too long adds 1/2 (c - 1)^2 E[s*^2] = 0.02 / (1 + sigma^2)
        for (const c of [0.8, 1.2]) {
          const excess = num(lossOf(dsmLoss, {}, { score: gaussianScore(c), data, sigmas }).terms.unweighted!) - want;
          expect(Math.abs(excess / (0.02 / (1 + sigma * sigma)) - 1)).toBeLessThan(0.25);
        }
      });
    });
  }

  it('over 6 levels from 4 to 0.1, one drawn per row: the sigma^2-weighted loss is the mean over levels of 1/2 / (1 + sigma^2)', () => {
    tf.tidy(() => {
      ops.reseed(22);
      const data = tf.randomNormal([ROWS, 2], 0, 1, 'float32', 6);
      const levels = geometricSigmas(4, 0.1, 6);
      const l = lossOf(dsmLoss, {}, { score: gaussianScore(), data, sigmas: sigmaSchedule(levels) });
      const want = levels.reduce((a, s) => a + 0.5 / (1 + s * s), 0) / levels.length;
      expect(Math.abs(num(l.value) / want - 1)).toBeLessThan(0.015);
      // a score network that is not told the level cannot reach it (the level is part of the input)
      const blind = lossOf(dsmLoss, {}, { score: gaussianScore(1, false, 1), data, sigmas: sigmaSchedule(levels) });
      expect(num(blind.value)).toBeGreaterThan(want * 1.1);
    });
  });
});

const SSM_STEPS = 1500;

describe('sliced score matching', () => {
  it('at the optimum on N(0, I) data its value per dimension is -1/2 (clean) and -1/2 / (1 + sigma^2) (perturbed at sigma)', () => {
    tf.tidy(() => {
      ops.reseed(23);
      const data = tf.randomNormal([ROWS, 2], 0, 1, 'float32', 7);
      for (const variance of ['sliced', 'reduced'] as const) {
        const clean = lossOf(ssmLoss, { variance }, { score: gaussianScore(1, false, 0), data });
        expect(Math.abs(num(clean.value) + 0.5), variance).toBeLessThan(0.01);
        const sigmas = sigmaSchedule(geometricSigmas(0.5, 0.5, 1));
        const noisy = lossOf(ssmLoss, { variance, weighting: 'none' }, { score: gaussianScore(), data, sigmas });
        expect(Math.abs(num(noisy.value) + 0.5 / 1.25), variance).toBeLessThan(0.01);
      }
      // the trace term is the Hutchinson estimate of tr(grad s) / d = -1 for s = -x
      const gauss = lossOf(ssmLoss, { probe: 'gaussian', projections: 2 }, { score: gaussianScore(1, false, 0), data });
      expect(Math.abs(num(gauss.terms.trace!) + 1)).toBeLessThan(0.01);
    });
  });

  it('trains a linear score model on a correlated Gaussian to its closed-form score -Sigma^-1 (x - mu), within 5 %', () => {
    const mu = [1, -0.5];
    const L = [
      [1, 0],
      [0.6, 0.5],
    ]; // Sigma = L L^T = [[1, 0.6], [0.6, 0.61]]
    const S = [
      [1, 0.6],
      [0.6, 0.61],
    ];
    const det = S[0]![0]! * S[1]![1]! - S[0]![1]! * S[1]![0]!;
    const P = [
      [S[1]![1]! / det, -S[0]![1]! / det],
      [-S[1]![0]! / det, S[0]![0]! / det],
    ];
    const draw = (n: number, rng: Rng) => {
      const out = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) {
        const a = rng.normal();
        const b = rng.normal();
        out[2 * i] = mu[0]! + L[0]![0]! * a;
        out[2 * i + 1] = mu[1]! + L[1]![0]! * a + L[1]![1]! * b;
      }
      return out;
    };
    const feed: DataFeed = { dim: 2, batch: draw, heldOut: (n) => draw(n, new Rng(99)) };
    const doc = {
      format: 'genloom',
      version: 1,
      meta: { title: 'SSM on a Gaussian', training: { steps: SSM_STEPS, batchSize: 1024 } },
      nodes: [
        { id: 'data', type: 'data.dataset', version: 1, params: { dataset: 'moons' } },
        { id: 'score', type: 'score.mlp', version: 1, params: { hidden: [], noiseConditioned: false } },
        { id: 'loss', type: 'loss.slicedScoreMatching', version: 1, params: { optimizer: { lr: 0.01 } } },
      ],
      edges: [
        { from: ['data', 'x'], to: ['score', 'x'] },
        { from: ['score', 'fn'], to: ['loss', 'score'] },
        { from: ['data', 'x'], to: ['loss', 'data'] },
      ],
    };
    const program = compile(validateGraph(doc as never, registry));
    const trainer = new Trainer(program, new Map([['data', feed]]), { seed: 0, batchSize: 1024 });
    for (let i = 0; i < SSM_STEPS; i++) trainer.round(false);
    const [v] = trainer.runner.evaluate([{ node: 'score', port: 'fn' }], { batchSize: 1, mode: 'sample' });
    tf.tidy(() => {
      const xs = draw(2000, new Rng(5));
      const got = (v as FnValue<tf.Tensor>).call(tf.tensor2d(xs, [2000, 2])).dataSync();
      let err = 0;
      let norm = 0;
      for (let i = 0; i < 2000; i++) {
        const u = [xs[2 * i]! - mu[0]!, xs[2 * i + 1]! - mu[1]!];
        for (let j = 0; j < 2; j++) {
          const want = -(P[j]![0]! * u[0]! + P[j]![1]! * u[1]!);
          err += (got[2 * i + j]! - want) ** 2;
          norm += want ** 2;
        }
      }
      const rel = Math.sqrt(err / norm);
      console.log(`sliced score matching, linear model, ${SSM_STEPS} steps: relative score error ${(100 * rel).toFixed(2)} %`);
      expect(rel).toBeLessThan(0.05);
    });
    trainer.dispose();
  });
});

/** runs a sampler node on a closed-form score, `rows` chains */
function samplesOf(spec: AnyNodeSpec, params: Record<string, unknown>, inputs: { score: FnValue<tf.Tensor>; sigmas?: ScheduleValue }, rows: number): Float32Array {
  const p = spec.params.parse(params);
  const shapes = {
    score: { kind: 'Fn', in: [2], out: [2], timeConditioned: inputs.score.timeConditioned, ...(inputs.score.timeConditioned && { time: 'continuous' }) },
    ...(inputs.sigmas && { sigmas: { kind: 'Schedule', T: inputs.sigmas.T } }),
  };
  spec.infer(shapes as never, p);
  const ctx: NodeCtx<tf.Tensor> = { ops, nodeId: 'sampler', param: () => tf.zeros([1]), batchSize: rows, mode: 'sample', feed: () => tf.zeros([1]) };
  return tf.tidy(() => {
    const built = spec.build?.(ctx, p, shapes as never, { score: inputs.score, sigmas: inputs.sigmas } as never);
    const out = spec.apply(ctx, { inputs: inputs as never, params: p, shapes: shapes as never, built }) as { samples: tf.Tensor };
    return out.samples.dataSync() as Float32Array;
  });
}

function moments(x: Float32Array): { mean: number[]; variance: number[] } {
  const n = x.length / 2;
  const mean = [0, 1].map((j) => x.filter((_, i) => i % 2 === j).reduce((a, b) => a + b, 0) / n);
  const variance = [0, 1].map((j) => x.filter((_, i) => i % 2 === j).reduce((a, b) => a + (b - mean[j]!) ** 2, 0) / n);
  return { mean, variance };
}

describe('the Langevin samplers on a closed-form score (data N(m, I))', () => {
  const m = [2, -1];
  /** the score of N(m, I) perturbed at sigma: -(x - m) / (1 + sigma^2) */
  const score = (conditioned: boolean): FnValue<tf.Tensor> => ({
    kind: 'Fn',
    owner: 'closed-form',
    in: [2],
    out: [2],
    timeConditioned: conditioned,
    ...(conditioned && { time: 'continuous' as const }),
    call: (x, sigma) => {
      const v = conditioned ? ops.reshape(ops.add(ops.square(sigma!), ops.scalar(1)), [-1, 1]) : ops.scalar(1);
      return ops.div(ops.sub(ops.constant(m, [2]), x), v);
    },
  });

  it('Langevin dynamics at one level: mean m and the variance of the discretised chain, 1 / (1 - alpha / 4)', () => {
    ops.reseed(31);
    const alpha = 0.05;
    const x = samplesOf(scoreLangevin, { steps: 200, stepSize: alpha, start: 'uniform', startScale: 1 }, { score: score(false) }, 6000);
    const { mean, variance } = moments(x);
    for (let j = 0; j < 2; j++) {
      expect(Math.abs(mean[j]! - m[j]!)).toBeLessThan(0.05);
      expect(Math.abs(variance[j]! * (1 - alpha / 4) - 1)).toBeLessThan(0.05);
    }
  });

  it('annealed Langevin ends at the last level: variance (1 + sigma_L^2) / (1 - alpha_L / 4 (1 + sigma_L^2)), and 1.5625 times less after the denoising step', () => {
    const sigmas = sigmaSchedule(geometricSigmas(3, 0.5, 4));
    const eps = 0.05; // alpha_L; alpha_1 = eps (3 / 0.5)^2 = 1.8
    const vL = 1.25;
    const want = vL / (1 - eps / (4 * vL));
    for (const denoise of [false, true]) {
      ops.reseed(32);
      const x = samplesOf(annealedScoreLangevin, { steps: 150, stepSize: eps, denoise, start: 'uniform', startScale: 1 }, { score: score(true), sigmas }, 6000);
      const { mean, variance } = moments(x);
      for (let j = 0; j < 2; j++) {
        expect(Math.abs(mean[j]! - m[j]!), `denoise ${denoise}`).toBeLessThan(0.05);
        expect(Math.abs(variance[j]! / (denoise ? want / (vL * vL) : want) - 1), `denoise ${denoise}`).toBeLessThan(0.05);
      }
    }
  });
});

/**
 * a short run: a smaller network ([64, 64]; the template [128, 128, 128]), 1000 steps at a
 * larger learning rate (the template: 8000 at 5e-4), a shorter EMA and 50 steps per level
 * at twice the step size (the template: 100)
 */
const STEPS = 1000;
const BAR = 0.015;

describe('ncsn-swissroll (short run)', () => {
  let t: ReturnType<typeof trainTemplate>;
  beforeAll(() => {
    t = trainTemplate('ncsn-swissroll', {
      steps: STEPS,
      overrides: {
        score: { hidden: [64, 64] },
        loss: { optimizer: { lr: 0.001 } },
        annealed: { steps: 50, stepSize: 0.001, ema: 0.995 },
        langevin: { steps: 50, ema: 0.995 },
      },
    });
  }, 120_000);
  afterAll(() => t?.trainer.dispose());

  it(`after ${STEPS} steps annealed Langevin (10 levels x 50 steps) samples within energy distance ${BAR}; a moment-matched Gaussian fails`, () => {
    const m = evaluateRun(t.trainer, t.program, t.feeds, { n: 2000 });
    const feed = t.feeds.get('data')!;
    const base = energyDistance(fitGaussian(feed).sample(2000, 4242), feed.heldOut(2000), 2);
    console.log(`ncsn-swissroll ${STEPS} steps: annealed energy ${m['annealed.energy']!.toFixed(4)}; Gaussian fit ${base.toFixed(4)}`);
    expect(base).toBeGreaterThan(BAR);
    expect(m['annealed.energy']).toBeLessThanOrEqual(BAR);
  });

  it('offers both samplers as export targets', () => {
    expect(listTargets(t.program).map((x) => x.id)).toEqual(['sampler:langevin', 'sampler:annealed']);
  });

  for (const [id, loops] of [
    ['sampler:langevin', 1],
    ['sampler:annealed', 2],
  ] as const) {
    it(`exports ${id} as one ONNX model (${loops === 2 ? 'a Loop over levels with a Loop over steps inside' : 'one Loop'}), equal to tfjs to 1e-4 (both noise modes)`, async () => {
      const weights = t.trainer.store.snapshot();
      for (const noise of ['inputs', 'internal'] as const) {
        const model = exportOnnx(t.program, weights, id, { noise });
        const graph = decodeModel(model.bytes).graph!;
        const top = graph.node!.filter((n) => n.opType === 'Loop');
        expect(top).toHaveLength(1);
        const body = top[0]!.attribute!.find((a) => a.name === 'body')!.g!;
        expect(body.node!.filter((n) => n.opType === 'Loop')).toHaveLength(loops - 1);
        const r = await parityCheck(t.program, weights, id, { noise, model, n: 16, seed: 7 });
        expect(r.problems, formatParityReport(r)).toEqual([]);
        expect(r.pass, formatParityReport(r)).toBe(true);
        expect(r.maxError).toBeLessThanOrEqual(1e-4);
        expect(r.loopCount).toBe(loops);
        if (noise === 'internal') expect(r.internalRun?.ok).toBe(true);
        console.log(`${id}, noise ${noise}: parity ${r.maxError.toExponential(2)}, ${model.nodeCount} nodes`);
      }
    }, 60_000);
  }
});

describe('the compare view', () => {
  it('ncsn-swissroll: no latent variable, no likelihood, stochastic samplers with levels x steps score evaluations', () => {
    const a = analyze(loadTemplate('ncsn-swissroll'));
    expect(a.errors).toBe(0);
    expect(a.latent.text).toMatch(/^no latent variable/);
    expect(a.likelihood.kind).toBe('none');
    expect(a.likelihood.text).toMatch(/score/);
    const annealed = a.samplers.find((s) => s.id === 'annealed')!;
    expect(annealed.calls).toBe(10 * 100 + 1);
    expect(annealed.text).toMatch(/stochastic.*10 levels x 100 steps/);
    expect(a.samplers.find((s) => s.id === 'langevin')!.calls).toBe(1000 + 1);
  });

  it('the nodes describe themselves from params and shapes', () => {
    expect(annealedScoreLangevin.describe!(annealedScoreLangevin.params.parse({ steps: 7 }), { sigmas: { kind: 'Schedule', T: 3 }, score: undefined as never }).sampler?.calls).toBe(21);
    expect(scoreLangevin.describe!(scoreLangevin.params.parse({ steps: 9 }), {} as never).sampler?.calls).toBe(9);
    expect(dsmLoss.describe!(dsmLoss.params.parse({}), {} as never).likelihood?.kind).toBe('none');
    expect(ssmLoss.describe!(ssmLoss.params.parse({}), {} as never).likelihood?.kind).toBe('none');
  });
});
