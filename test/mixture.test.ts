/**
 * The mixture family (nodes/mixture/): EM steps never lower the log-likelihood and match a
 * plain reference EM step; EM on 8gaussians reaches the entropy's bar and recovers the
 * centres, where one Gaussian fails; the gradient-trained mixture meets its bar; the
 * ancestral sampler draws each component with its weight; KDE's density, bandwidth rules
 * and held-out choice match direct computations, and its held-out NLL beats a Gaussian.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianMixture } from '../nodes/core/dists';
import type { DistValue } from '../nodes/core/values';
import { mixture } from '../nodes/mixture/index';
import { BANDWIDTH_GRID, bandwidthFactor, LOO_POINTS } from '../nodes/mixture/kde';
import { loadProgramOrThrow } from '../src-main/compile/loadProgram';
import { Rng } from '../src-main/data/rng';
import { evaluateRun } from '../src-main/eval/evaluate';
import { initBackend } from '../src-main/runtime/backend';
import { createFeeds } from '../src-main/runtime/feeds';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { Trainer, type DataFeed } from '../src-main/runtime/Trainer';
import { fitGaussian } from './baselines';
import { loadTemplate } from './trainTemplate';

const LOG_2PI = Math.log(2 * Math.PI);
const bar = (template: string) => mixture.templates.find((t) => t.name === template)!.bars[0]!;

function trainerFor(template: string, opts: { overrides?: Record<string, Record<string, unknown>>; feed?: DataFeed; batchSize?: number } = {}) {
  const doc = loadTemplate(template, opts.overrides);
  const { program } = loadProgramOrThrow(doc, (m) => new Error(m));
  const feeds = opts.feed ? new Map([['data', opts.feed]]) : createFeeds(program, { seed: 0 });
  const trainer = new Trainer(program, feeds, { seed: 0, batchSize: opts.batchSize ?? doc.meta.training.batchSize });
  return { trainer, program, feeds, steps: doc.meta.training.steps as number };
}

const values = (t: Trainer, name: string) => Array.from(t.store.vars.get(name)!.dataSync());

/** rows of the 8gaussians feed, fixed */
function fixedRows(n: number, seed: number): Float32Array {
  const { feeds } = trainerFor('gmm-em-8gaussians');
  return feeds.get('data')!.batch(n, new Rng(seed));
}
const fixedFeed = (rows: Float32Array): DataFeed => ({ dim: 2, batch: () => rows.slice(), heldOut: () => rows.slice() });

/** one EM step of a diagonal mixture in plain numbers (PRML eqs 9.23-9.27) */
function referenceEmStep(x: Float32Array, D: number, logits: number[], mu: number[], logStd: number[], minStd: number) {
  const K = logits.length;
  const B = x.length / D;
  const lse = (v: number[]) => {
    const m = Math.max(...v);
    return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
  };
  const logPi = logits.map((l) => l - lse(logits));
  const r: number[][] = [];
  for (let b = 0; b < B; b++) {
    const j = logPi.map((lp, k) => {
      let s = lp;
      for (let d = 0; d < D; d++) {
        const z = (x[b * D + d]! - mu[k * D + d]!) / Math.exp(logStd[k * D + d]!);
        s += -0.5 * (z * z + 2 * logStd[k * D + d]! + LOG_2PI);
      }
      return s;
    });
    const n = lse(j);
    r.push(j.map((v) => Math.exp(v - n)));
  }
  const nk = Array.from({ length: K }, (_, k) => r.reduce((a, row) => a + row[k]!, 0));
  const newMu = Array.from({ length: K * D }, (_, i) => r.reduce((a, row, b) => a + row[Math.floor(i / D)]! * x[b * D + (i % D)]!, 0) / nk[Math.floor(i / D)]!);
  const newLogStd = Array.from({ length: K * D }, (_, i) => {
    const k = Math.floor(i / D);
    const v = r.reduce((a, row, b) => a + row[k]! * (x[b * D + (i % D)]! - newMu[i]!) ** 2, 0) / nk[k]!;
    return 0.5 * Math.log(Math.max(v, minStd * minStd));
  });
  return { logits: nk.map((n) => Math.log(n / B)), mu: newMu, logStd: newLogStd };
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Gaussian mixture by EM', () => {
  it('one EM step equals the reference E- and M-step', () => {
    const rows = fixedRows(60, 11);
    const { trainer } = trainerFor('gmm-em-8gaussians', { overrides: { gmm: { components: 3, init: 'random' } }, feed: fixedFeed(rows), batchSize: 60 });
    const before = { logits: values(trainer, 'gmm/logits'), mu: values(trainer, 'gmm/mu'), logStd: values(trainer, 'gmm/logStd') };
    trainer.round(false);
    const want = referenceEmStep(rows, 2, before.logits, before.mu, before.logStd, 1e-3);
    const lse = (v: number[]) => Math.log(v.reduce((a, b) => a + Math.exp(b), 0));
    // logits are defined up to a constant: compare log pi
    const logPi = (l: number[]) => l.map((v) => v - lse(l));
    logPi(values(trainer, 'gmm/logits')).forEach((v, i) => expect(v).toBeCloseTo(logPi(want.logits)[i]!, 4));
    values(trainer, 'gmm/mu').forEach((v, i) => expect(v).toBeCloseTo(want.mu[i]!, 4));
    values(trainer, 'gmm/logStd').forEach((v, i) => expect(v).toBeCloseTo(want.logStd[i]!, 4));
    trainer.dispose();
  });

  it('no EM step lowers the log-likelihood of the data it is taken on (random and data-seeded starts)', () => {
    const rows = fixedRows(2000, 5);
    for (const init of ['random', 'data'] as const) {
      const { trainer } = trainerFor('gmm-em-8gaussians', { overrides: { gmm: { init } }, feed: fixedFeed(rows), batchSize: 2000 });
      // each round reports the NLL of the parameters it starts from
      const nll = Array.from({ length: 40 }, () => trainer.round(true)!.nll!.nll!);
      // the first data-seeded step replaces the random start; EM proper starts after it
      const em = init === 'data' ? nll.slice(1) : nll;
      for (let k = 1; k < em.length; k++) expect(em[k]!, `${init} start, step ${k}`).toBeLessThanOrEqual(em[k - 1]! + 2e-5);
      expect(nll[0]! - nll.at(-1)!).toBeGreaterThan(0.5);
      trainer.dispose();
    }
  });

  it(`gmm-em-8gaussians: held-out NLL within the bar, every centre recovered to 0.05; one Gaussian fails the bar`, () => {
    const { trainer, program, feeds, steps } = trainerFor('gmm-em-8gaussians');
    for (let i = 0; i < steps; i++) trainer.round(false);
    const m = evaluateRun(trainer, program, feeds, { n: 5000 });
    const b = bar('gmm-em-8gaussians');
    expect(b.bound).toBe(2.86);
    expect(m[b.metric]).toBeLessThanOrEqual(b.bound);
    // REFERENCE: 8 centres at radius 4 / 1.414 and angles k 45 deg
    const mu = values(trainer, 'gmm/mu');
    for (let k = 0; k < 8; k++) {
      const c = [(4 / 1.414) * Math.cos((k * Math.PI) / 4), (4 / 1.414) * Math.sin((k * Math.PI) / 4)];
      const near = Math.min(...Array.from({ length: 8 }, (_, j) => Math.hypot(mu[2 * j]! - c[0]!, mu[2 * j + 1]! - c[1]!)));
      expect(near, `centre ${k}`).toBeLessThan(0.05);
    }
    const feed = feeds.get('data')!;
    expect(fitGaussian(feed).nll(feed.heldOut(5000))).toBeGreaterThan(b.bound + 0.3);
    trainer.dispose();
  }, 120_000);
});

describe('Gaussian mixture by gradient', () => {
  it('gmm-sgd-8gaussians (Adam on the NLL, random start) meets its bar', () => {
    const { trainer, program, feeds, steps } = trainerFor('gmm-sgd-8gaussians');
    expect(program.objectives[0]!.optimizer.kind).toBe('adam');
    for (let i = 0; i < steps; i++) trainer.round(false);
    const b = bar('gmm-sgd-8gaussians');
    expect(evaluateRun(trainer, program, feeds, { n: 5000 })[b.metric]).toBeLessThanOrEqual(b.bound);
    trainer.dispose();
  }, 240_000);
});

describe('mixture sampling and density', () => {
  it('the ancestral sampler draws each component with its weight, the last one included', () => {
    const ops = new TfjsOps({ seed: 3 });
    const w = [0.5, 0.3, 0.2];
    const params = () => ({ logits: tf.tensor2d([w.map(Math.log)]), mu: tf.tensor3d([[[-10], [0], [10]]]), logStd: tf.tensor3d([[[0], [0], [0]]]) });
    const dist = gaussianMixture(ops, params, [1], 3);
    const x = tf.tidy(() => Array.from(dist.sample(20000).dataSync()));
    const freq = [-10, 0, 10].map((c) => x.filter((v) => Math.abs(v - c) < 5).length / x.length);
    freq.forEach((f, k) => expect(f).toBeCloseTo(w[k]!, 1));
    freq.forEach((f, k) => expect(Math.abs(f - w[k]!)).toBeLessThan(0.015));
    // log p(x) = log sum_k w_k N(x; mu_k, 1)
    const q = [-9, 0.5, 4];
    const got = tf.tidy(() => Array.from(dist.logProb(tf.tensor2d(q, [3, 1])).dataSync()));
    q.forEach((v, i) => {
      const want = Math.log(w.reduce((a, wk, k) => a + wk * Math.exp(-0.5 * (v - [-10, 0, 10][k]!) ** 2 - 0.5 * LOG_2PI), 0));
      expect(got[i]).toBeCloseTo(want, 4);
    });
  });
});

describe('kernel density estimation', () => {
  it("Scott's and Silverman's factors", () => {
    expect(bandwidthFactor('scott', 2000, 2)).toBeCloseTo(2000 ** (-1 / 6), 12);
    // in one dimension Silverman's rule is the familiar 1.06 sigma n^(-1/5)
    expect(bandwidthFactor('silverman', 500, 1) / 500 ** (-1 / 5)).toBeCloseTo((4 / 3) ** 0.2, 10);
    expect((4 / 3) ** 0.2).toBeCloseTo(1.059, 3);
  });

  /** log p(x) of a KDE with per-dimension bandwidths h over pts, directly */
  const kdeLogP = (pts: Float32Array, h: number[], x: number[]) => {
    const N = pts.length / 2;
    let s = 0;
    for (let i = 0; i < N; i++) {
      let l = 0;
      for (let d = 0; d < 2; d++) l += -0.5 * ((x[d]! - pts[2 * i + d]!) / h[d]!) ** 2 - Math.log(h[d]!) - 0.5 * LOG_2PI;
      s += Math.exp(l);
    }
    return Math.log(s / N);
  };

  it('stores the points, sets h by each rule, and its density is the average kernel', () => {
    const N = 200;
    expect(N).toBeLessThanOrEqual(LOO_POINTS); // every point takes part in the leave-one-out choice
    const rows = fixedRows(N, 8);
    const sigma = [0, 1].map((d) => {
      const v = Array.from({ length: N }, (_, i) => rows[2 * i + d]!);
      const m = v.reduce((a, b) => a + b) / N;
      return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (N - 1));
    });
    const loo = (c: number) => {
      const h = sigma.map((s) => c * s * bandwidthFactor('scott', N, 2));
      let total = 0;
      for (let i = 0; i < N; i++) {
        let s = 0;
        for (let j = 0; j < N; j++) {
          if (j === i) continue;
          let l = 0;
          for (let d = 0; d < 2; d++) l += -0.5 * ((rows[2 * i + d]! - rows[2 * j + d]!) / h[d]!) ** 2 - Math.log(h[d]!) - 0.5 * LOG_2PI;
          s += Math.exp(l);
        }
        total += Math.log(s / (N - 1));
      }
      return total / N;
    };
    const scores = BANDWIDTH_GRID.map(loo);
    const best = BANDWIDTH_GRID[scores.indexOf(Math.max(...scores))]!;
    expect(best).not.toBe(BANDWIDTH_GRID[0]);
    expect(best).not.toBe(BANDWIDTH_GRID.at(-1));
    const rules: [string, number][] = [['scott', 1], ['silverman', (4 / 4) ** (-1 / 6)], ['heldout', best]];
    for (const [rule, c] of rules) {
      const { trainer } = trainerFor('kde-moons', { overrides: { kde: { points: N, bandwidth: rule } }, feed: fixedFeed(rows), batchSize: N });
      trainer.round(false);
      expect(values(trainer, 'kde/points')).toEqual(Array.from(rows));
      const h = values(trainer, 'kde/logH').map(Math.exp);
      h.forEach((v, d) => expect(v, rule).toBeCloseTo(c * sigma[d]! * bandwidthFactor('scott', N, 2), 4));
      const dist = trainer.runner.evaluate([{ node: 'kde', port: 'p' }], { batchSize: 1, mode: 'sample' })[0] as DistValue<tf.Tensor>;
      const q = [[0, 0], [1, 0.3], [-2, 1]];
      const got = Array.from(tf.tidy(() => dist.logProb(tf.tensor2d(q))).dataSync());
      q.forEach((x, i) => expect(got[i]).toBeCloseTo(kdeLogP(rows, h, x), 3));
      trainer.dispose();
    }
  }, 60_000);

  it('kde-moons: held-out NLL within the bar, where one Gaussian and an undersmoothed kernel fail it', () => {
    const b = bar('kde-moons');
    const score = (overrides?: Record<string, Record<string, unknown>>) => {
      const { trainer, program, feeds, steps } = trainerFor('kde-moons', { overrides });
      for (let i = 0; i < steps; i++) trainer.round(false);
      const nll = evaluateRun(trainer, program, feeds, { n: 2000 })[b.metric]!;
      trainer.dispose();
      return { nll, feed: feeds.get('data')! };
    };
    const { nll, feed } = score();
    expect(nll).toBeLessThanOrEqual(b.bound);
    expect(fitGaussian(feed).nll(feed.heldOut(2000))).toBeGreaterThan(b.bound);
    expect(score({ kde: { bandwidth: 'fixed', h: 0.01 } }).nll).toBeGreaterThan(b.bound);
  }, 120_000);
});
