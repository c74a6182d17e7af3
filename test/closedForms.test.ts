/** docs/REFERENCE.md "Closed forms for unit tests" and "Diffusion constants", checked on the real nodes. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyticKl, diagNormal, standardNormal } from '../nodes/core/dists';
import type { BijectorValue, LossValue } from '../nodes/core/values';
import { affineCoupling } from '../nodes/flow/affineCoupling';
import { forwardDiffusion } from '../nodes/diffusion/forwardDiffusion';
import { epsilonMse } from '../nodes/diffusion/epsilonMse';
import { ganCritic, ganGenerator } from '../nodes/gan/ganLosses';
import { cosineSchedule, linearSchedule, posteriorVariance } from '../nodes/diffusion/schedules';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { runNode } from './nodeHarness';

const sig4 = (a: number, b: number) => expect(Math.abs(a - b) / Math.abs(b)).toBeLessThan(5e-4);

beforeAll(async () => {
  await initBackend('cpu');
});

describe('Gaussian KL', () => {
  it.each([
    [1, 1, 0.5],
    [0, 2, 0.806853],
    [0.5, 0.5, 0.443147],
    [2, 0.1, 3.807585],
  ])('KL(N(%f, %f^2) || N(0, 1)) = %f', (mu, s, want) => {
    const ops = new TfjsOps({ seed: 0 });
    const kl = tf.tidy(() => {
      const q = diagNormal(ops, tf.tensor2d([[mu]]), tf.tensor2d([[Math.log(s)]]), [1]);
      return analyticKl(ops, q, standardNormal(ops, [1]))!.dataSync()[0]!;
    });
    expect(kl).toBeCloseTo(want, 5);
  });
});

describe('noise schedules (T = 1000)', () => {
  it('linear alpha-bar at t = 1, 500, 1000', () => {
    const s = linearSchedule(1000, 1e-4, 0.02);
    sig4(s.alphaBars[0]!, 0.9999);
    sig4(s.alphaBars[499]!, 0.078587);
    sig4(s.alphaBars[999]!, 4.0358e-5);
    // with alpha-bar_0 = 1 the posterior variance of the first step is exactly 0
    expect(posteriorVariance(s, 0)).toBe(0);
  });
  it('linear posterior variance beta~ at index 1 (REFERENCE "t = 1", 0-based) is 5.453e-5', () => {
    sig4(posteriorVariance(linearSchedule(1000, 1e-4, 0.02), 1), 5.453e-5);
  });
  it('cosine alpha-bar at t = 1, 500, 1000 (s = 0.008, beta clipped at 0.999)', () => {
    const s = cosineSchedule(1000, 0.008);
    sig4(s.alphaBars[0]!, 0.99995872);
    sig4(s.alphaBars[499]!, 0.49384);
    sig4(s.alphaBars[999]!, 2.4288e-9);
  });
});

describe('affine coupling', () => {
  it('log|det J| equals the log-determinant of a finite-difference Jacobian', () => {
    const ops = new TfjsOps({ seed: 1 });
    const d = 4;
    const run = runNode(affineCoupling, {}, { dim: d, hidden: [16], activation: 'tanh' }, ops);
    // the last layer starts at zero (identity map): randomise every weight
    for (const v of run.store.vars.values()) v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 7));
    const bij = run.outputs.flow as BijectorValue<tf.Tensor>;
    const x0 = [0.3, -0.7, 1.1, 0.2];
    const h = 1e-2;
    const J: number[][] = [];
    for (let j = 0; j < d; j++) {
      const plus = x0.slice();
      const minus = x0.slice();
      plus[j]! += h;
      minus[j]! -= h;
      const yp = bij.forward(tf.tensor2d([plus])).y.dataSync();
      const ym = bij.forward(tf.tensor2d([minus])).y.dataSync();
      J.push(Array.from({ length: d }, (_, i) => (yp[i]! - ym[i]!) / (2 * h))); // column j
    }
    // the Jacobian is triangular up to the split: det via LU (Gaussian elimination)
    const M = J[0]!.map((_, i) => J.map((col) => col[i]!));
    let logDet = 0;
    for (let c = 0; c < d; c++) {
      let p = c;
      for (let r = c + 1; r < d; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
      [M[c], M[p]] = [M[p]!, M[c]!];
      logDet += Math.log(Math.abs(M[c]![c]!));
      for (let r = c + 1; r < d; r++) {
        const f = M[r]![c]! / M[c]![c]!;
        for (let k = c; k < d; k++) M[r]![k]! -= f * M[c]![k]!;
      }
    }
    const analytic = bij.forward(tf.tensor2d([x0])).logDet.dataSync()[0]!;
    expect(Math.abs(analytic)).toBeGreaterThan(0.05); // a non-trivial map
    expect(analytic).toBeCloseTo(logDet, 2);
    run.store.dispose();
  });
});

describe('loss floors', () => {
  it('DDPM epsilon-MSE on N(0, I) data with the optimal predictor averages 0.2755 (linear)', () => {
    // on x0 ~ N(0, I): E[eps | x_t] = sqrt(1 - abar_t) x_t, so the per-dimension MSE is abar_t
    const ops = new TfjsOps({ seed: 2 });
    const n = 200_000;
    const mse = tf.tidy(() => {
      const sched = linearSchedule(1000, 1e-4, 0.02);
      const ctx = { ops, nodeId: 'q', param: () => { throw new Error('no params'); }, batchSize: n, mode: 'train' as const, feed: () => { throw new Error('no data'); } };
      const built = forwardDiffusion.build!(ctx, {}, {} as never, { schedule: sched } as never);
      const x0 = ops.randomNormal([n, 1]);
      const { xt, t, eps } = forwardDiffusion.apply(ctx, { inputs: { x0, schedule: sched } as never, params: {}, shapes: {} as never, built }) as Record<string, tf.Tensor>;
      const sqrt1m = tf.tensor1d(Array.from(sched.alphaBars, (a) => Math.sqrt(1 - a)));
      const pred = xt!.mul(tf.gather(sqrt1m, t!.toInt()).reshape([-1, 1]));
      const loss = epsilonMse.apply(ctx, { inputs: { pred, target: eps } as never, params: epsilonMse.params.parse({}), shapes: {} as never, built: undefined }).loss as LossValue<tf.Tensor>;
      return loss.value.dataSync()[0]!;
    });
    expect(mse).toBeGreaterThan(0.2755 - 0.006);
    expect(mse).toBeLessThan(0.2755 + 0.006);
  });

  it('the GAN critic loss at the optimal discriminator is -V(D*) = 0.712633 for N(0,1) vs N(2,1)', () => {
    // D* = p_data / (p_data + p_g): its logit is log p_data(x) - log p_g(x) = 2 - 2x
    const ops = new TfjsOps({ seed: 4 });
    const n = 400_000;
    const v = tf.tidy(() => {
      const real = tf.randomNormal([n, 1], 0, 1, 'float32', 11);
      const fake = tf.randomNormal([n, 1], 2, 1, 'float32', 12);
      const logit = (x: tf.Tensor) => tf.scalar(2).sub(x.mul(2));
      const ctx = { ops } as never;
      const out = ganCritic.apply(ctx, { inputs: { realLogit: logit(real), fakeLogit: logit(fake) } as never, params: ganCritic.params.parse({}), shapes: {} as never, built: undefined });
      return (out.loss as LossValue<tf.Tensor>).value.dataSync()[0]!;
    });
    expect(v).toBeCloseTo(0.712633, 2);
  });
});

describe('loss values at given inputs', () => {
  const softplus = (v: number) => Math.log1p(Math.exp(v));
  const logits = [-3, -0.5, 0, 0.8, 2.5, 4];
  const col = (v: number[]) => tf.tensor2d(v.map((x) => [x]));
  const value = (l: unknown) => (l as LossValue<tf.Tensor>).value.dataSync()[0]!;
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

  it('GAN generator: non-saturating -E log D(G(z)) = mean softplus(-l); minimax E log(1 - D(G(z))) = -mean softplus(l)', () => {
    const ops = new TfjsOps({ seed: 5 });
    const ctx = { ops } as never;
    const ns = ganGenerator.apply(ctx, { inputs: { fakeLogit: col(logits) } as never, params: ganGenerator.params.parse({}), shapes: {} as never, built: undefined });
    expect(value(ns.loss)).toBeCloseTo(mean(logits.map((l) => softplus(-l))), 5);
    const mm = ganGenerator.apply(ctx, { inputs: { fakeLogit: col(logits) } as never, params: ganGenerator.params.parse({ variant: 'minimax' }), shapes: {} as never, built: undefined });
    // log(1 - sigmoid(l)) = -softplus(l)
    expect(value(mm.loss)).toBeCloseTo(mean(logits.map((l) => Math.log(1 - 1 / (1 + Math.exp(-l))))), 5);
  });

  it('GAN critic: real term -E log D(x) = mean softplus(-l_real), fake term -E log(1 - D) = mean softplus(l_fake)', () => {
    const ops = new TfjsOps({ seed: 6 });
    const real = [2, 1.5, -0.3, 0.9];
    const fake = [-1, 0.4, -2.2, 0.1];
    const out = ganCritic.apply({ ops } as never, { inputs: { realLogit: col(real), fakeLogit: col(fake) } as never, params: ganCritic.params.parse({}), shapes: {} as never, built: undefined });
    const loss = out.loss as LossValue<tf.Tensor>;
    expect(loss.terms.real!.dataSync()[0]!).toBeCloseTo(mean(real.map((l) => softplus(-l))), 5);
    expect(loss.terms.fake!.dataSync()[0]!).toBeCloseTo(mean(fake.map((l) => softplus(l))), 5);
    expect(value(loss)).toBeCloseTo(mean(real.map((l) => softplus(-l))) + mean(fake.map((l) => softplus(l))), 5);
  });

  it('epsilon-MSE is the mean over rows and dimensions of (pred - target)^2', () => {
    const ops = new TfjsOps({ seed: 7 });
    const pred = [[0.5, -1], [2, 0.25], [0, 3]];
    const target = [[1, -1], [-1, 0.75], [0.5, 1]];
    const want = mean(pred.flatMap((r, i) => r.map((v, j) => (v - target[i]![j]!) ** 2)));
    const out = epsilonMse.apply({ ops } as never, { inputs: { pred: tf.tensor2d(pred), target: tf.tensor2d(target) } as never, params: epsilonMse.params.parse({}), shapes: {} as never, built: undefined });
    expect(value(out.loss)).toBeCloseTo(want, 5);
  });
});

describe('forward diffusion q(x_t | x_0)', () => {
  it.each(['linear', 'cosine'])('%s: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps at the returned (0-based) t, t uniform on 0..T-1', (name) => {
    const ops = new TfjsOps({ seed: 8 });
    const sched = name === 'linear' ? linearSchedule(1000, 1e-4, 0.02) : cosineSchedule(1000, 0.008);
    const n = 20000;
    const ctx = { ops, nodeId: 'q', param: () => { throw new Error('no params'); }, batchSize: n, mode: 'train' as const, feed: () => { throw new Error('no data'); } };
    const built = forwardDiffusion.build!(ctx, {}, {} as never, { schedule: sched } as never);
    const x0v = Array.from({ length: n }, (_, i) => [3 - (i % 7), (i % 5) - 2]);
    const { xt, t, eps } = forwardDiffusion.apply(ctx, { inputs: { x0: tf.tensor2d(x0v), schedule: sched } as never, params: {}, shapes: {} as never, built }) as Record<string, tf.Tensor>;
    const [X, Tt, E] = [xt!.dataSync(), t!.dataSync(), eps!.dataSync()];
    let err = 0;
    let tSum = 0;
    let tMax = 0;
    for (let i = 0; i < n; i++) {
      const k = Tt[i]!;
      expect(Number.isInteger(k) && k >= 0 && k < 1000).toBe(true);
      tSum += k;
      tMax = Math.max(tMax, k);
      const ab = sched.alphaBars[k]!;
      for (let j = 0; j < 2; j++) err = Math.max(err, Math.abs(X[i * 2 + j]! - (Math.sqrt(ab) * x0v[i]![j]! + Math.sqrt(1 - ab) * E[i * 2 + j]!)));
    }
    expect(err).toBeLessThan(1e-4);
    expect(Math.abs(tSum / n - 499.5)).toBeLessThan(5 * (288.7 / Math.sqrt(n)));
    expect(tMax).toBe(999);
    const e = Array.from(E);
    const m = e.reduce((a, b) => a + b, 0) / e.length;
    expect(Math.abs(m)).toBeLessThan(0.02);
    expect(Math.abs(e.reduce((a, b) => a + (b - m) ** 2, 0) / e.length - 1)).toBeLessThan(0.03);
  });

  it('cosine schedule: only the last beta is clipped at 0.999, and beta_t = 1 - abar_t / abar_{t-1} elsewhere', () => {
    const s = cosineSchedule(1000, 0.008);
    expect(s.betas[999]).toBe(0.999);
    expect(s.betas[998]!).toBeLessThan(0.999);
    const f = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [1, 2, 10, 500, 999]) sig4(s.betas[t - 1]!, 1 - f(t / 1000) / f((t - 1) / 1000));
  });
});
