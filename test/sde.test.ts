/**
 * The diffusion-as-an-SDE family (nodes/sde/):
 * - the closed-form marginals of the VP (linear, cosine), sub-VP and VE SDEs: against the
 *   discrete DDPM schedules as T grows, against their own drift and diffusion (the moment
 *   ODEs m' = f m, (s^2)' = 2 f s^2 + g^2) and against a simulation of the forward SDE;
 * - the parameterisation converter: score, epsilon and x0 round trips, and a DDPM network in
 *   discrete time read at k = T t - 1;
 * - the samplers on the closed-form score of Gaussian data N(mu, c^2 I): the reverse SDE,
 *   predictor-corrector and the probability-flow ODE end at mean mu and variance c^2;
 * - the likelihood through the probability-flow ODE of that score equals the Gaussian's;
 * - the loss at the optimal noise predictor of N(0, I) data has its closed-form value;
 * - short runs of vpsde-moons and vesde-8gaussians meet bars a moment-matched Gaussian fails;
 * - every sampler exports as one ONNX model equal to tfjs to 1e-4 (noise as inputs).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyNodeSpec, NodeCtx } from '../nodes/core/defineNode';
import type { DistValue, FnValue, LossValue, ScheduleValue } from '../nodes/core/values';
import { cosineSchedule, linearSchedule } from '../nodes/diffusion/schedules';
import { convertFn } from '../nodes/sde/convert';
import { flowDensityNode } from '../nodes/sde/density';
import { pcSampler, probabilityFlowSampler, reverseSdeSampler } from '../nodes/sde/samplers';
import { sdePerturb } from '../nodes/sde/perturb';
import { sdeScoreLoss } from '../nodes/sde/scoreLoss';
import { coefAt, cosineClipTime, sdeOf, sdeSchedule, veSde, vpSde, type Sde } from '../nodes/sde/sdes';
import { coefColumns } from '../nodes/sde/shared';
import { evaluateRun } from '../src-main/eval/evaluate';
import { energyDistance } from '../src-main/eval/metrics';
import { exportOnnx, formatParityReport, listTargets, parityCheck } from '../src-main/export/exportModel';
import { decodeModel } from '../src-main/export/onnxGraph';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { analyze } from '../src-renderer/model/compare';
import { fitGaussian } from './baselines';
import { loadTemplate, trainTemplate } from './trainTemplate';

let ops: TfjsOps;

beforeAll(async () => {
  await initBackend('wasm');
  ops = new TfjsOps({ seed: 1 });
});

const VP = vpSde({ kind: 'linear', betaMin: 0.1, betaMax: 20 }, 1e-3);
const COS = vpSde({ kind: 'cosine', s: 0.008, betaClip: 100 }, 1e-3);
const SUB = vpSde({ kind: 'linear', betaMin: 0.1, betaMax: 20 }, 1e-3, true);
const VE = veSde(0.01, 30, 1e-5);
const ALL: [string, Sde][] = [
  ['VP linear', VP],
  ['VP cosine', COS],
  ['sub-VP', SUB],
  ['VE', VE],
];

/** the score of N(mu, c^2 I) data pushed through the SDE: -(x - m mu) / (m^2 c^2 + s^2) */
function gaussianScore(sde: Sde, mu: number[], c: number): FnValue<tf.Tensor> {
  return {
    kind: 'Fn',
    owner: 'closed-form',
    in: [2],
    out: [2],
    timeConditioned: true,
    time: 'continuous',
    call: (x, t) => {
      const k = coefColumns(ops, sde, t!, [2]);
      const v = ops.add(ops.mul(ops.square(k.m), ops.scalar(c * c)), ops.square(k.s));
      return ops.neg(ops.div(ops.sub(x, ops.mul(k.m, ops.constant(mu, [2]))), v));
    },
  };
}

function ctxOf(rows: number): NodeCtx<tf.Tensor> {
  return { ops, nodeId: 'n', param: () => tf.zeros([1]), batchSize: rows, mode: 'sample', feed: () => tf.zeros([1]) };
}

/** runs a node with an Fn on `score` and a Schedule on `sde` */
function runWith(spec: AnyNodeSpec, params: Record<string, unknown>, score: FnValue<tf.Tensor>, schedule: ScheduleValue, rows: number): Record<string, unknown> {
  const p = spec.params.parse(params);
  const shapes = { score: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'continuous' }, sde: { kind: 'Schedule', T: schedule.T } };
  spec.infer(shapes as never, p);
  const ctx = ctxOf(rows);
  const built = spec.build?.(ctx, p, shapes as never, { score, sde: schedule } as never);
  return spec.apply(ctx, { inputs: { score, sde: schedule } as never, params: p, shapes: shapes as never, built }) as Record<string, unknown>;
}

/** the perturbation node on a batch x0 */
function sdePerturbRun(ctx: NodeCtx<tf.Tensor>, x0: tf.Tensor, sched: ScheduleValue): { xt: tf.Tensor; t: tf.Tensor; eps: tf.Tensor } {
  const shapes = { x0: { kind: 'Tensor', shape: [2] }, sde: { kind: 'Schedule', T: sched.T } };
  const p = sdePerturb.params.parse({});
  const built = sdePerturb.build!(ctx, p, shapes as never, { sde: sched } as never);
  return sdePerturb.apply(ctx, { inputs: { x0, sde: sched } as never, params: p, shapes: shapes as never, built }) as never;
}

function moments(x: Float32Array): { mean: number[]; variance: number[] } {
  const n = x.length / 2;
  const mean = [0, 1].map((j) => x.filter((_, i) => i % 2 === j).reduce((a, b) => a + b, 0) / n);
  const variance = [0, 1].map((j) => x.filter((_, i) => i % 2 === j).reduce((a, b) => a + (b - mean[j]!) ** 2, 0) / n);
  return { mean, variance };
}

describe('closed-form marginals', () => {
  it('VP linear: the DDPM linear schedule beta_i = beta(i/T)/T has alpha-bar -> e^{-B(t)}, error O(1/T)', () => {
    const errs: number[] = [];
    for (const T of [100, 1000, 10000]) {
      const s = linearSchedule(T, 0.1 / T, 20 / T);
      let err = 0;
      for (let i = 0; i < T; i++) {
        const c = coefAt(VP, (i + 1) / T);
        err = Math.max(err, Math.abs(s.alphaBars[i]! - c.m * c.m));
      }
      errs.push(err);
    }
    console.log(`VP linear vs DDPM: max |alpha-bar - e^-B| at T = 100, 1000, 10000: ${errs.map((e) => e.toExponential(2)).join(', ')}`);
    expect(errs[2]!).toBeLessThan(5e-4);
    // first order: ten times the steps, about a tenth of the error
    expect(errs[1]! / errs[0]!).toBeLessThan(0.15);
    expect(errs[2]! / errs[1]!).toBeLessThan(0.15);
  });

  it('VP cosine: T beta_i of the discrete cosine schedule -> beta(t), and alpha-bar matches f(t)/f(0) before the clip', () => {
    const tc = cosineClipTime({ s: 0.008, betaClip: 100 });
    const errs: number[] = [];
    for (const T of [100, 1000, 10000]) {
      const s = cosineSchedule(T, 0.008);
      let err = 0;
      for (let i = 0; i < T; i++) {
        const t = (i + 1) / T;
        if (t > tc - 0.05) break;
        const c = coefAt(COS, t);
        expect(Math.abs(s.alphaBars[i]! - c.m * c.m)).toBeLessThan(1e-9);
        // T beta_i vs beta at the middle of the step
        err = Math.max(err, Math.abs((-Math.log(1 - s.betas[i]!) * T) / coefAt(COS, t - 0.5 / T).g2 - 1));
      }
      errs.push(err);
    }
    console.log(`VP cosine vs DDPM cosine: max relative |T log(1/(1 - beta_i)) / beta(t) - 1| at T = 100, 1000, 10000: ${errs.map((e) => e.toExponential(2)).join(', ')}`);
    expect(errs[2]!).toBeLessThan(1e-4);
    expect(errs[1]! / errs[0]!).toBeLessThan(0.05); // second order at the midpoint
  });

  for (const [name, sde] of ALL) {
    it(`${name}: the kernel solves the moment ODEs m' = f m and (s^2)' = 2 f s^2 + g^2, with m(0) = 1`, () => {
      const h = 1e-6;
      expect(Math.abs(coefAt(sde, 0).m - 1)).toBeLessThan(1e-12);
      for (const t of [0.01, 0.1, 0.3, 0.5, 0.8, 0.97]) {
        const c = coefAt(sde, t);
        const up = coefAt(sde, t + h);
        const dn = coefAt(sde, t - h);
        const dm = (up.m - dn.m) / (2 * h);
        const dv = (up.s * up.s - dn.s * dn.s) / (2 * h);
        expect(Math.abs(dm - c.f * c.m), `${name} m' at ${t}`).toBeLessThan(1e-5 * (1 + Math.abs(c.f)));
        expect(Math.abs(dv - (2 * c.f * c.s * c.s + c.g2)) / (1 + c.g2), `${name} (s^2)' at ${t}`).toBeLessThan(1e-5);
      }
    });
  }

  it('VP and VE: Euler-Maruyama on the forward SDE from a point x(0) reaches the kernel N(m x(0), s^2) (MC, 20k paths)', () => {
    for (const sde of [VP, SUB, VE]) {
      const x0 = 1.5;
      const n = 20000;
      const steps = 300;
      const t1 = 0.6;
      const h = t1 / steps;
      const rng = tf.randomNormal([steps, n], 0, 1, 'float32', 11).dataSync();
      const x = new Float64Array(n).fill(x0);
      for (let k = 0; k < steps; k++) {
        const c = coefAt(sde, (k + 0.5) * h);
        const sq = Math.sqrt(c.g2 * h);
        for (let i = 0; i < n; i++) x[i] = x[i]! + c.f * x[i]! * h + sq * rng[k * n + i]!;
      }
      const mean = x.reduce((a, b) => a + b, 0) / n;
      const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
      const c = coefAt(sde, t1);
      // VE's kernel starts at sigma_min^2 (the data blurred by sigma_min): the simulation from a point misses that
      const want = sde.kind === 've' ? c.s * c.s - 0.01 * 0.01 : c.s * c.s;
      expect(Math.abs(mean - c.m * x0), `${sde.label} mean`).toBeLessThan(4 * Math.sqrt(want / n) + 2e-3);
      expect(Math.abs(v / want - 1), `${sde.label} variance`).toBeLessThan(0.03);
    }
  });

  it("the discrete view of an SDE node is DDPM's: alpha-bar_i = m^2 / (m^2 + s^2) at t = i / N; DDPM's linear schedule reads back as the VP SDE", () => {
    const s = sdeSchedule(VP, 1000, 'vp-linear');
    const ddpm = linearSchedule(1000, 1e-4, 0.02);
    for (const i of [0, 499, 999]) expect(Math.abs(s.alphaBars[i]! - ddpm.alphaBars[i]!)).toBeLessThan(1e-3);
    expect(s.alphaBars[499]).toBeCloseTo(0.078587, 2);
    const back = sdeOf(ddpm);
    expect(back.kind).toBe('vp');
    for (const t of [0.1, 0.5, 1]) expect(coefAt(back, t).g2).toBeCloseTo(coefAt(VP, t).g2, 9);
    expect(() => sdeOf(cosineSchedule(10, 0.008))).toThrow(/no SDE form/);
  });
});

describe('the samplers on the closed-form score of N(mu, c^2 I) data', () => {
  const mu = [1, -0.5];
  const c = 0.5;
  const cases: [string, AnyNodeSpec, Record<string, unknown>][] = [
    ['reverse SDE (Euler-Maruyama, 500 steps)', reverseSdeSampler, { steps: 500 }],
    ['predictor-corrector (reverse diffusion + 1 Langevin step, 300 steps)', pcSampler, { steps: 300, correctorSteps: 1 }],
    ['probability-flow ODE (Heun, 50 steps)', probabilityFlowSampler, { solver: 'heun', steps: 50 }],
    ['probability-flow ODE (RK4, 20 steps)', probabilityFlowSampler, { solver: 'rk4', steps: 20 }],
  ];
  for (const [sdeName, sde] of ALL) {
    for (const [name, spec, params] of cases) {
      it(`${sdeName}: ${name} ends at mean mu and variance c^2 (+ s(tEps)^2)`, () => {
        ops.reseed(41);
        const sched = sdeSchedule(sde, 1000, 'test');
        const x = tf.tidy(() => (runWith(spec, params, gaussianScore(sde, mu, c), sched, 4000).samples as tf.Tensor).dataSync() as Float32Array);
        const { mean, variance } = moments(x);
        const e = coefAt(sde, sde.tEps);
        const want = e.m * e.m * c * c + e.s * e.s;
        console.log(`${sdeName}, ${name}: mean ${mean.map((v) => v.toFixed(3)).join(', ')}, variance ${variance.map((v) => v.toFixed(4)).join(', ')} (want ${want.toFixed(4)})`);
        for (let j = 0; j < 2; j++) {
          expect(Math.abs(mean[j]! - mu[j]!)).toBeLessThan(0.03);
          expect(Math.abs(variance[j]! / want - 1)).toBeLessThan(0.08);
        }
      });
    }
  }
});

describe('the likelihood through the probability-flow ODE', () => {
  // mu = 0: with mu != 0 the model's prior N(0, s(1)^2) misses p_1's mean m(1) mu (0.0066 mu for VP), worth ~0.02 nats at |x(1)| = 3
  it('of the closed-form score of N(0, c^2 I) is the Gaussian log-density at tEps, to 1e-3 nats (RK4, 32 steps, exact divergence)', () => {
    const mu = [0, 0];
    const c = 0.5;
    for (const sde of [VP, SUB]) {
      tf.tidy(() => {
        ops.reseed(51);
        const p = flowDensityNode.params.parse({ solver: 'rk4', steps: 32 });
        const out = runWith(flowDensityNode, p, gaussianScore(sde, mu, c), sdeSchedule(sde, 1000, 'test'), 8);
        const dist = out.dist as DistValue<tf.Tensor>;
        const x = tf.mul(tf.randomNormal([500, 2], 0, 1, 'float32', 3), 0.6);
        const got = dist.logProb(x).dataSync();
        const e = coefAt(sde, sde.tEps);
        const v = e.m * e.m * c * c + e.s * e.s;
        const xs = x.dataSync();
        let worst = 0;
        let mean = 0;
        for (let i = 0; i < 500; i++) {
          let q = 0;
          for (let j = 0; j < 2; j++) q += (xs[2 * i + j]! - e.m * mu[j]!) ** 2;
          const want = -0.5 * (q / v + 2 * Math.log(2 * Math.PI * v));
          worst = Math.max(worst, Math.abs(got[i]! - want));
          mean += -got[i]! / 500;
        }
        console.log(`${sde.label}: probability-flow log p vs closed form, max error ${worst.toExponential(2)} nats; mean NLL ${mean.toFixed(4)}`);
        expect(worst).toBeLessThan(1e-3);
      });
    }
  });
});

describe('continuous-time score matching', () => {
  it('on N(0, I) data with the optimal noise predictor s(t) x(t) (VP): the loss is E_t m(t)^2, and a worse predictor scores more', () => {
    tf.tidy(() => {
      ops.reseed(61);
      const rows = 200_000;
      const sched = sdeSchedule(VP, 1000, 'test');
      const ctx = { ...ctxOf(rows), mode: 'train' as const };
      const x0 = tf.randomNormal([rows, 2], 0, 1, 'float32', 8);
      const lossOf = (scale: number) => {
        const pert = sdePerturbRun(ctx, x0, sched);
        const k = coefColumns(ops, VP, pert.t, [2]);
        const pred = tf.mul(tf.mul(k.s, pert.xt), scale);
        const p = sdeScoreLoss.params.parse({});
        const shapes = { pred: { kind: 'Tensor', shape: [2] }, eps: { kind: 'Tensor', shape: [2] }, t: { kind: 'Tensor', shape: [] }, sde: { kind: 'Schedule', T: 1000 } };
        const built = sdeScoreLoss.build!(ctx, p, shapes as never, { sde: sched } as never);
        const l = sdeScoreLoss.apply(ctx, { inputs: { pred, eps: pert.eps, t: pert.t, sde: sched } as never, params: p, shapes: shapes as never, built }) as { loss: LossValue<tf.Tensor> };
        return l.loss.value.dataSync()[0]!;
      };
      // E_t m^2 over t ~ U[tEps, 1], by the midpoint rule
      let want = 0;
      const K = 100000;
      for (let i = 0; i < K; i++) {
        const c = coefAt(VP, VP.tEps + ((i + 0.5) / K) * (1 - VP.tEps));
        want += (c.m * c.m) / K;
      }
      const got = lossOf(1);
      console.log(`VP DSM floor on N(0, I): ${got.toFixed(4)} (closed form E_t m^2 = ${want.toFixed(4)})`);
      expect(Math.abs(got / want - 1)).toBeLessThan(0.02);
      expect(lossOf(0.8)).toBeGreaterThan(want + 0.01);
    });
  });
});

describe('the parameterisation converter', () => {
  const T = 1000;
  const ddpm = linearSchedule(T, 1e-4, 0.02);
  const mu = [1, -0.5];
  const c = 0.5;

  it('score, epsilon and x0 are the same network read three ways: every round trip is the identity', () => {
    tf.tidy(() => {
      const eps = gaussianScore(VP, mu, c); // any continuous-time Fn serves as "the network"
      const x = tf.randomNormal([64, 2], 0, 1, 'float32', 4);
      const t = tf.randomUniform([64], 0.01, 1, 'float32', 5);
      const y = eps.call(x, t).dataSync();
      for (const via of ['score', 'x0'] as const) {
        const there = convertFn(ops, eps, VP, T, 'eps', via, [2]);
        const back = convertFn(ops, there, VP, T, via, 'eps', [2]).call(x, t).dataSync();
        expect(Math.max(...back.map((v, i) => Math.abs(v - y[i]!)))).toBeLessThan(1e-4);
      }
      // score = -eps / s and x0 = (x - s eps) / m, written out here
      const k = coefColumns(ops, VP, t, [2]);
      const score = convertFn(ops, eps, VP, T, 'eps', 'score', [2]).call(x, t);
      expect(tf.max(tf.abs(tf.add(tf.mul(score, k.s), eps.call(x, t)))).dataSync()[0]).toBeLessThan(1e-4);
      const x0 = convertFn(ops, eps, VP, T, 'eps', 'x0', [2]).call(x, t);
      expect(tf.max(tf.abs(tf.sub(tf.add(tf.mul(x0, k.m), tf.mul(k.s, eps.call(x, t))), x))).dataSync()[0]).toBeLessThan(1e-4);
    });
  });

  it('calls a network in discrete time at the DDPM step k = T t - 1', () => {
    tf.tidy(() => {
      const echo: FnValue<tf.Tensor> = { kind: 'Fn', owner: 'echo', in: [2], out: [2], timeConditioned: true, time: 'discrete', call: (x, k) => tf.add(tf.mul(x, 0), tf.reshape(k!, [-1, 1])) };
      const f = convertFn(ops, echo, sdeOf(ddpm), T, 'eps', 'eps', [2]);
      const k = f.call(tf.zeros([3, 2]), tf.tensor1d([1, 0.5, 0.001])).dataSync();
      expect([k[0], k[2], k[4]]).toEqual([999, 499, 0]);
    });
  });

  it("a DDPM epsilon network in discrete time (here the optimal one of N(mu, c^2 I) data) drives the probability-flow ODE and the reverse SDE through DDPM's own schedule", () => {
    // eps*(x, k) = sqrt(1 - abar_k) (x - sqrt(abar_k) mu) / (abar_k c^2 + 1 - abar_k)
    const abar = ops.constant(Float32Array.from(ddpm.alphaBars), [T]);
    const ddpmEps: FnValue<tf.Tensor> = {
      kind: 'Fn',
      owner: 'ddpm',
      in: [2],
      out: [2],
      timeConditioned: true,
      time: 'discrete',
      // the DDPM table at the nearest step (the converter hands fractional k)
      call: (x, k) => {
        const a = tf.reshape(tf.gather(abar, tf.cast(tf.round(k!), 'int32')), [-1, 1]);
        return tf.div(tf.mul(tf.sqrt(tf.sub(1, a)), tf.sub(x, tf.mul(tf.sqrt(a), tf.tensor1d(mu)))), tf.add(tf.mul(a, c * c), tf.sub(1, a)));
      },
    };
    const score = convertFn(ops, ddpmEps, sdeOf(ddpm), T, 'eps', 'score', [2]);
    for (const [spec, params] of [
      [probabilityFlowSampler, { solver: 'heun', steps: 100 }],
      [reverseSdeSampler, { steps: 1000 }],
    ] as const) {
      ops.reseed(71);
      const x = tf.tidy(() => (runWith(spec, params, score, ddpm, 4000).samples as tf.Tensor).dataSync() as Float32Array);
      const { mean, variance } = moments(x);
      console.log(`DDPM epsilon network through ${spec.type}: mean ${mean.map((v) => v.toFixed(3)).join(', ')}, variance ${variance.map((v) => v.toFixed(4)).join(', ')} (want 0.25)`);
      for (let j = 0; j < 2; j++) {
        expect(Math.abs(mean[j]! - mu[j]!)).toBeLessThan(0.03);
        expect(Math.abs(variance[j]! / (c * c) - 1)).toBeLessThan(0.08);
      }
    }
  });
});

/**
 * Short runs: a smaller network ([64, 64]; the templates [128, 128, 128]), 1500 steps at a
 * larger learning rate (the templates: 8000 at 1e-3), a shorter EMA (0.99; the templates
 * 0.999) and fewer sampler and likelihood steps.
 */
const QUICK_STEPS = 1500;
const QUICK = {
  net: { hidden: [64, 64] },
  loss: { optimizer: { lr: 0.003 } },
  score: { ema: 0.99 },
  em: { steps: 250 },
  pf: { steps: 25 },
  pc: { steps: 150 },
};
const VP_BARS = { energy: 0.02, nll: 2.9 };

describe('vpsde-moons (short run)', () => {
  let t: ReturnType<typeof trainTemplate>;
  beforeAll(() => {
    t = trainTemplate('vpsde-moons', { steps: QUICK_STEPS, overrides: { ...QUICK, nll: { steps: 16 } } });
  }, 300_000);
  afterAll(() => t?.trainer.dispose());

  it(`after ${QUICK_STEPS} steps the reverse SDE and the probability-flow ODE sample within energy ${VP_BARS.energy} and the ODE likelihood is below ${VP_BARS.nll} nats; a moment-matched Gaussian fails both`, () => {
    const m = evaluateRun(t.trainer, t.program, t.feeds, { n: 2000 });
    const feed = t.feeds.get('data')!;
    const g = fitGaussian(feed);
    const base = energyDistance(g.sample(2000, 4242), feed.heldOut(2000), 2);
    const baseNll = g.nll(feed.heldOut(2000));
    console.log(
      `vpsde-moons ${QUICK_STEPS} steps: em ${m['em.energy']!.toFixed(4)}, pf ${m['pf.energy']!.toFixed(4)}, pc ${m['pc.energy']!.toFixed(4)}, nll ${m['nll.nll']!.toFixed(3)}; Gaussian fit energy ${base.toFixed(4)}, NLL ${baseNll.toFixed(3)}`,
    );
    expect(base).toBeGreaterThan(VP_BARS.energy);
    expect(baseNll).toBeGreaterThan(VP_BARS.nll);
    expect(m['em.energy']).toBeLessThanOrEqual(VP_BARS.energy);
    expect(m['pf.energy']).toBeLessThanOrEqual(VP_BARS.energy);
    expect(m['nll.nll']).toBeLessThanOrEqual(VP_BARS.nll);
  }, 300_000);

  it('offers the three samplers and the likelihood as export targets', () => {
    expect(listTargets(t.program).map((x) => x.id)).toEqual(expect.arrayContaining(['sampler:em', 'sampler:pf', 'sampler:pc', 'density:nll']));
  });

  for (const id of ['sampler:em', 'sampler:pf', 'sampler:pc'] as const) {
    it(`exports ${id} as one ONNX model (one Loop), equal to tfjs to 1e-4 (noise as inputs, and drawn inside)`, async () => {
      const weights = t.trainer.store.snapshot();
      for (const noise of ['inputs', 'internal'] as const) {
        const model = exportOnnx(t.program, weights, id, { noise });
        const graph = decodeModel(model.bytes).graph!;
        expect(graph.node!.filter((n) => n.opType === 'Loop')).toHaveLength(1);
        const r = await parityCheck(t.program, weights, id, { noise, model, n: 16, seed: 7 });
        expect(r.problems, formatParityReport(r)).toEqual([]);
        expect(r.pass, formatParityReport(r)).toBe(true);
        expect(r.maxError).toBeLessThanOrEqual(1e-4);
        if (noise === 'internal') expect(r.internalRun?.ok).toBe(true);
        console.log(`vpsde-moons ${id}, noise ${noise}: parity ${r.maxError.toExponential(2)}, ${model.nodeCount} nodes`);
      }
    }, 120_000);
  }

  it('exports the probability-flow likelihood (density:nll) with parity <= 1e-4', async () => {
    const weights = t.trainer.store.snapshot();
    const r = await parityCheck(t.program, weights, 'density:nll', { n: 16, seed: 7 });
    expect(r.pass, formatParityReport(r)).toBe(true);
    console.log(`vpsde-moons density:nll: parity ${r.maxError.toExponential(2)}`);
  }, 120_000);
});

const VE_BAR = 0.02;

describe('vesde-8gaussians (short run)', () => {
  let t: ReturnType<typeof trainTemplate>;
  beforeAll(() => {
    t = trainTemplate('vesde-8gaussians', { steps: QUICK_STEPS, overrides: QUICK });
  }, 300_000);
  afterAll(() => t?.trainer.dispose());

  it(`after ${QUICK_STEPS} steps predictor-corrector samples within energy ${VE_BAR} with all 8 modes; a moment-matched Gaussian fails`, () => {
    const m = evaluateRun(t.trainer, t.program, t.feeds, { n: 2000 });
    const feed = t.feeds.get('data')!;
    const base = energyDistance(fitGaussian(feed).sample(2000, 4242), feed.heldOut(2000), 2);
    console.log(`vesde-8gaussians ${QUICK_STEPS} steps: pc ${m['pc.energy']!.toFixed(4)} (${m['pc.modes']} modes), em ${m['em.energy']!.toFixed(4)}, pf ${m['pf.energy']!.toFixed(4)}; Gaussian fit ${base.toFixed(4)}`);
    expect(base).toBeGreaterThan(VE_BAR);
    expect(m['pc.energy']).toBeLessThanOrEqual(VE_BAR);
    expect(m['pc.modes']).toBe(8);
  }, 300_000);

  it('exports the predictor-corrector sampler as one ONNX model, equal to tfjs to 1e-4 (noise as inputs)', async () => {
    const weights = t.trainer.store.snapshot();
    const r = await parityCheck(t.program, weights, 'sampler:pc', { noise: 'inputs', n: 16, seed: 7 });
    expect(r.pass, formatParityReport(r)).toBe(true);
    expect(r.maxError).toBeLessThanOrEqual(1e-4);
  }, 120_000);
});

describe('the compare view', () => {
  it('vpsde-moons: noised copies as latents, an exact likelihood, stochastic and deterministic samplers with their network evaluations', () => {
    const a = analyze(loadTemplate('vpsde-moons'));
    expect(a.errors).toBe(0);
    expect(a.likelihood.kind).toBe('exact');
    expect(a.samplers.find((s) => s.id === 'em')!.calls).toBe(1000);
    expect(a.samplers.find((s) => s.id === 'pf')!.calls).toBe(100);
    expect(a.samplers.find((s) => s.id === 'pc')!.calls).toBe(1000);
  });
});
