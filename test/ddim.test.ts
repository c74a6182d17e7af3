/**
 * DDIM with S < T steps, both spacings, both schedules, against a float64 reference of
 * docs/REFERENCE.md's DDIM step on Gaussian data x0 ~ N(m, diag s^2), where the optimal noise
 * predictor is known in closed form:
 *   eps*(x_t, t) = E[eps | x_t] = sqrt(1 - abar_t) (x_t - sqrt(abar_t) m) / (abar_t s^2 + 1 - abar_t).
 * With eta = 0 each step is affine in x, so the sampler is checked sample by sample from the
 * same x_T; with eta > 0 the output moments are propagated exactly. The same propagation
 * measures which spacing is right for each schedule (the default, 'auto').
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FnValue, ScheduleValue } from '../nodes/core/values';
import { ddimSampler } from '../nodes/diffusion/ddimSampler';
import { ddpmSampler } from '../nodes/diffusion/ddpmSampler';
import { cosineSchedule, linearSchedule } from '../nodes/diffusion/schedules';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { applyNode } from './specHarness';

beforeAll(async () => {
  await initBackend('cpu');
});

const T = 1000;
const M = [2, -1];
const SD = [0.5, 1];
const SCHEDULES: Record<string, ScheduleValue> = { linear: linearSchedule(T, 1e-4, 0.02), cosine: cosineSchedule(T, 0.008) };

/** the visited 0-based step indices tau_0 < ... < tau_{S-1} (DDIM paper / diffusers conventions) */
function taus(S: number, spacing: 'leading' | 'trailing'): number[] {
  const out: number[] = [];
  for (let j = 0; j < S; j++) out.push(spacing === 'leading' ? Math.floor((j * T) / S) : Math.round(((j + 1) * T) / S) - 1);
  return out;
}

interface Step {
  a: number;
  ap: number;
  sigma: number;
}
function steps(s: ScheduleValue, S: number, spacing: 'leading' | 'trailing', eta: number): Step[] {
  const tau = taus(S, spacing);
  const out: Step[] = [];
  for (let j = S - 1; j >= 0; j--) {
    const a = s.alphaBars[tau[j]!]!;
    const ap = j === 0 ? 1 : s.alphaBars[tau[j - 1]!]!;
    out.push({ a, ap, sigma: eta * Math.sqrt((1 - ap) / (1 - a)) * Math.sqrt(1 - a / ap) });
  }
  return out;
}

/** one DDIM step as x -> A x + c (+ sigma z) for dimension j, with the optimal predictor */
function affineStep(st: Step, j: number): { A: number; c: number } {
  const { a, ap, sigma } = st;
  const k = Math.sqrt(1 - a) / (a * SD[j]! ** 2 + 1 - a);
  // eps = k x - k sqrt(a) m; x0 = (x - sqrt(1 - a) eps) / sqrt(a); next = sqrt(ap) x0 + dir eps
  const dir = Math.sqrt(Math.max(0, 1 - ap - sigma * sigma));
  const ex = [k, -k * Math.sqrt(a) * M[j]!];
  const x0 = [(1 - Math.sqrt(1 - a) * ex[0]!) / Math.sqrt(a), (-Math.sqrt(1 - a) * ex[1]!) / Math.sqrt(a)];
  return { A: Math.sqrt(ap) * x0[0]! + dir * ex[0]!, c: Math.sqrt(ap) * x0[1]! + dir * ex[1]! };
}

/** exact output mean and std per dimension from x_T ~ N(0, I) */
function moments(s: ScheduleValue, S: number, spacing: 'leading' | 'trailing', eta: number): { mean: number[]; std: number[] } {
  const st = steps(s, S, spacing, eta);
  const mean: number[] = [];
  const sd: number[] = [];
  for (let j = 0; j < 2; j++) {
    let m = 0;
    let v = 1;
    for (const x of st) {
      const { A, c } = affineStep(x, j);
      m = A * m + c;
      v = A * A * v + x.sigma * x.sigma;
    }
    mean.push(m);
    sd.push(Math.sqrt(v));
  }
  return { mean, std: sd };
}

/** the optimal noise predictor for the Gaussian data, as the sampler's denoiser; records the t it is called with */
function optimalDenoiser(s: ScheduleValue, calls?: number[]): FnValue<tf.Tensor> {
  const k = new Float32Array(T * 2);
  const c = new Float32Array(T * 2);
  for (let t = 0; t < T; t++) {
    const a = s.alphaBars[t]!;
    for (let j = 0; j < 2; j++) {
      k[t * 2 + j] = Math.sqrt(1 - a) / (a * SD[j]! ** 2 + 1 - a);
      c[t * 2 + j] = Math.sqrt(a) * M[j]!;
    }
  }
  const K = tf.tensor2d(k, [T, 2]);
  const C = tf.tensor2d(c, [T, 2]);
  return {
    kind: 'Fn',
    owner: 'eps*',
    in: [2],
    out: [2],
    timeConditioned: true,
    call: (x, t) => {
      const ti = t!.toInt();
      calls?.push(t!.dataSync()[0]!);
      return tf.mul(tf.sub(x, tf.gather(C, ti)), tf.gather(K, ti));
    },
  };
}

/** TfjsOps that keeps a copy of its first standard-normal draw (the sampler's x_T) */
class CapturingOps extends TfjsOps {
  xT: Float32Array | undefined;
  override randomNormal(shape: number[]): tf.Tensor {
    const t = super.randomNormal(shape);
    this.xT ??= Float32Array.from(t.dataSync());
    return t;
  }
}

function sample(schedule: ScheduleValue, params: Record<string, unknown>, n: number, seed = 3) {
  const ops = new CapturingOps({ seed });
  const calls: number[] = [];
  const denoiser = optimalDenoiser(schedule, calls);
  const out = applyNode(ddimSampler, { denoiser, schedule }, params, ops, { batch: n, mode: 'sample' }).outputs.samples as tf.Tensor;
  return { x: Float32Array.from(out.dataSync()), xT: ops.xT!, calls };
}

describe('DDIM with S < T on Gaussian data (optimal denoiser)', () => {
  it('visits the documented sub-sequences, from the end: leading 980, 960, ..., 0; trailing 999, 979, ..., 19', () => {
    const lead = sample(SCHEDULES.linear!, { steps: 50, spacing: 'leading' }, 4).calls;
    expect(lead).toEqual(Array.from({ length: 50 }, (_, i) => 980 - 20 * i));
    const trail = sample(SCHEDULES.linear!, { steps: 50, spacing: 'trailing' }, 4).calls;
    expect(trail).toEqual(Array.from({ length: 50 }, (_, i) => 999 - 20 * i));
    expect(sample(SCHEDULES.linear!, { steps: 7, spacing: 'trailing' }, 4).calls).toEqual([999, 856, 713, 570, 428, 285, 142]);
    expect(sample(SCHEDULES.linear!, { steps: 7, spacing: 'leading' }, 4).calls).toEqual([857, 714, 571, 428, 285, 142, 0]);
  });

  for (const sched of ['linear', 'cosine']) {
    for (const spacing of ['leading', 'trailing'] as const) {
      for (const S of [10, 50]) {
        it(`${sched}, ${spacing}, S = ${S}, eta = 0: every sample is the float64 DDIM map of its x_T`, () => {
          const s = SCHEDULES[sched]!;
          const { x, xT } = sample(s, { steps: S, spacing, eta: 0 }, 256);
          const st = steps(s, S, spacing, 0);
          let err = 0;
          for (let i = 0; i < x.length; i++) {
            const j = i % 2;
            let v = xT[i]!;
            for (const step of st) {
              const { A, c } = affineStep(step, j);
              v = A * v + c;
            }
            err = Math.max(err, Math.abs(v - x[i]!));
          }
          expect(err).toBeLessThan(2e-3);
        });
      }
    }
  }

  it.each([
    ['cosine', 1],
    ['cosine', 0.5],
    ['linear', 1],
  ] as const)('%s, eta = %f, S = 20 (both spacings): output mean and std match the exact propagation', (sched, eta) => {
    const s = SCHEDULES[sched]!;
    for (const spacing of ['leading', 'trailing'] as const) {
      const n = 20000;
      const { x } = sample(s, { steps: 20, spacing, eta }, n, 11);
      const want = moments(s, 20, spacing, eta);
      for (let j = 0; j < 2; j++) {
        let m = 0;
        for (let i = j; i < x.length; i += 2) m += x[i]! / n;
        let v = 0;
        for (let i = j; i < x.length; i += 2) v += (x[i]! - m) ** 2 / (n - 1);
        expect(Math.abs(m - want.mean[j]!), `${spacing} mean ${j}`).toBeLessThan(5 * (want.std[j]! / Math.sqrt(n)) + 1e-3);
        expect(Math.abs(Math.sqrt(v) / want.std[j]! - 1), `${spacing} std ${j}`).toBeLessThan(0.025);
      }
      // and the noise really is there: eta > 0 gives a different output from eta = 0
      expect(Math.abs(moments(s, 20, spacing, 0).std[0]! - want.std[0]!) + Math.abs(moments(s, 20, spacing, 0).std[1]! - want.std[1]!)).toBeGreaterThan(0.005);
    }
  });
});

describe("DDIM's default spacing depends on the schedule", () => {
  const w2 = (r: { mean: number[]; std: number[] }) => Math.sqrt(r.mean.reduce((a, m, j) => a + (m - M[j]!) ** 2 + (r.std[j]! - SD[j]!) ** 2, 0));

  it('measured: on the cosine schedule leading starts at alpha-bar 8.8e-4 and biases the mean; trailing does not. On the linear schedule leading is (slightly) closer', () => {
    const cosL = moments(SCHEDULES.cosine!, 50, 'leading', 0);
    const cosT = moments(SCHEDULES.cosine!, 50, 'trailing', 0);
    expect(SCHEDULES.cosine!.alphaBars[980]!).toBeCloseTo(8.8e-4, 4);
    // data N(2, 0.5^2): mean bias about -0.029 m s from the leading start, none from the trailing one
    expect(cosL.mean[0]! - M[0]!).toBeLessThan(-0.02);
    expect(Math.abs(cosT.mean[0]! - M[0]!)).toBeLessThan(1e-3);
    expect(w2(cosT)).toBeLessThan(0.7 * w2(cosL));
    const linL = moments(SCHEDULES.linear!, 50, 'leading', 0);
    const linT = moments(SCHEDULES.linear!, 50, 'trailing', 0);
    expect(w2(linL)).toBeLessThan(w2(linT));
    for (const S of [10, 100]) {
      expect(w2(moments(SCHEDULES.cosine!, S, 'trailing', 0))).toBeLessThan(w2(moments(SCHEDULES.cosine!, S, 'leading', 0)));
    }
  });

  it('the default (auto) is trailing on the cosine schedule and leading on the linear one', () => {
    expect(ddimSampler.params.parse({}).spacing).toBe('auto');
    const cosine = sample(SCHEDULES.cosine!, { steps: 50 }, 64, 21);
    expect(Array.from(cosine.x)).toEqual(Array.from(sample(SCHEDULES.cosine!, { steps: 50, spacing: 'trailing' }, 64, 21).x));
    expect(cosine.calls[0]).toBe(999);
    const linear = sample(SCHEDULES.linear!, { steps: 50 }, 64, 21);
    expect(Array.from(linear.x)).toEqual(Array.from(sample(SCHEDULES.linear!, { steps: 50, spacing: 'leading' }, 64, 21).x));
    expect(linear.calls[0]).toBe(980);
  });

  it('with the default spacing, 50 cosine-schedule DDIM steps give the data mean to 0.01 (4000 samples)', () => {
    const n = 4000;
    const { x } = sample(SCHEDULES.cosine!, { steps: 50 }, n, 31);
    for (let j = 0; j < 2; j++) {
      let m = 0;
      for (let i = j; i < x.length; i += 2) m += x[i]! / n;
      // the sample mean's standard error is about s / 63: 0.008 for s = 0.5, 0.016 for s = 1
      expect(Math.abs(m - M[j]!)).toBeLessThan(4 * (SD[j]! / Math.sqrt(n)) + 0.005);
    }
  });
});

describe('DDPM ancestral sampling on Gaussian data (optimal denoiser)', () => {
  /** exact output moments: x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) + sigma_t z, no noise at t = 1 */
  function ddpmMoments(s: ScheduleValue, variance: 'small' | 'large'): { mean: number[]; std: number[] } {
    const mean: number[] = [];
    const sd: number[] = [];
    for (let j = 0; j < 2; j++) {
      let m = 0;
      let v = 1;
      for (let t = T; t >= 1; t--) {
        const a = s.alphaBars[t - 1]!;
        const aPrev = t === 1 ? 1 : s.alphaBars[t - 2]!;
        const beta = 1 - a / aPrev;
        const k = Math.sqrt(1 - a) / (a * SD[j]! ** 2 + 1 - a);
        const c1 = beta / Math.sqrt(1 - a);
        const A = (1 - c1 * k) / Math.sqrt(1 - beta);
        const c = (c1 * k * Math.sqrt(a) * M[j]!) / Math.sqrt(1 - beta);
        const sig2 = t === 1 ? 0 : variance === 'small' ? ((1 - aPrev) / (1 - a)) * beta : beta;
        m = A * m + c;
        v = A * A * v + sig2;
      }
      mean.push(m);
      sd.push(Math.sqrt(v));
    }
    return { mean, std: sd };
  }

  it.each([
    ['linear', 'small'],
    ['cosine', 'large'],
  ] as const)('%s schedule, %s variance: output mean and std match the exact propagation', (sched, variance) => {
    const s = SCHEDULES[sched]!;
    const n = 4000;
    {
      const ops = new TfjsOps({ seed: 41 });
      const out = applyNode(ddpmSampler, { denoiser: optimalDenoiser(s), schedule: s }, { variance }, ops, { batch: n, mode: 'sample' }).outputs.samples as tf.Tensor;
      const x = out.dataSync();
      const want = ddpmMoments(s, variance);
      for (let j = 0; j < 2; j++) {
        let m = 0;
        for (let i = j; i < x.length; i += 2) m += x[i]! / n;
        let v = 0;
        for (let i = j; i < x.length; i += 2) v += (x[i]! - m) ** 2 / (n - 1);
        expect(Math.abs(m - want.mean[j]!), `${variance} mean ${j}`).toBeLessThan(5 * (want.std[j]! / Math.sqrt(n)));
        expect(Math.abs(Math.sqrt(v) / want.std[j]! - 1), `${variance} std ${j}`).toBeLessThan(0.05);
      }
    }
  });
});
