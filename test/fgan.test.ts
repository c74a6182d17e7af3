/**
 * The f-GAN family (nodes/fgan/): for every divergence, the variational bound
 * E_P[T*] - E_Q[f*(T*)] at the optimal critic T* = f'(p/q), computed by quadrature from the
 * node's own output activation and conjugate (through Ops), equals D_f(P || Q) between
 * P = N(0, 1) and Q = N(2, 1) computed from the definition of each divergence; the loss
 * nodes compute -F (eq. 6) and its generator forms, and for the GAN divergence equal the
 * GAN losses; a short reverse-KL run beats a moment-matched Gaussian; the generator exports
 * to ONNX with parity <= 1e-4, and both loss nodes have ONNX forms for every divergence.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferError, type AnyNodeSpec, type NodeCtx } from '../nodes/core/defineNode';
import type { LossValue } from '../nodes/core/values';
import { DIVERGENCE_TABLE, DIVERGENCES, type Divergence } from '../nodes/fgan/divergences';
import { fganCritic, fganGenerator } from '../nodes/fgan/fganLosses';
import { ganCritic, ganGenerator } from '../nodes/gan/ganLosses';
import { evaluateRun } from '../src-main/eval/evaluate';
import { energyDistance, modeCoverage } from '../src-main/eval/metrics';
import { toyModes } from '../src-main/data/toy';
import { exportOnnx, formatParityReport, listTargets, parityCheck } from '../src-main/export/exportModel';
import { onnxParityForNode } from '../src-main/export/conformance';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import type { Trainer } from '../src-main/runtime/Trainer';
import type { Program } from '../src-main/compile/compile';
import { fitGaussian } from './baselines';
import { trainTemplate } from './trainTemplate';

let ops: TfjsOps;
beforeAll(async () => {
  await initBackend('wasm');
  ops = new TfjsOps({ seed: 1 });
});

// ---------------------------------------------------------------- P = N(0, 1), Q = N(2, 1)

const MU = 2;
const normal = (x: number, m: number) => Math.exp(-0.5 * (x - m) * (x - m)) / Math.sqrt(2 * Math.PI);
/** a fine grid: [-14, 16], step 1e-3 (the integrands are below 1e-30 outside) */
const H = 1e-3;
const XS = Float64Array.from({ length: 30001 }, (_, i) => -14 + i * H);
const P = XS.map((x) => normal(x, 0));
const Q = XS.map((x) => normal(x, MU));
/** trapezoid rule on the grid */
const integrate = (g: (i: number) => number) => {
  let s = 0;
  for (let i = 0; i < XS.length; i++) s += (i === 0 || i === XS.length - 1 ? 0.5 : 1) * g(i);
  return s * H;
};

/**
 * D_f(P || Q) from the definition of each divergence, by quadrature of the densities
 * (not through f, f* or T): KL and reverse KL of two unit Gaussians are both mu^2 / 2 = 2
 * in closed form; chi^2 = e^{mu^2} - 1; H^2 = 2 - 2 e^{-mu^2 / 8}.
 */
const m = (i: number) => 0.5 * (P[i]! + Q[i]!);
const JS = 0.5 * integrate((i) => P[i]! * Math.log(P[i]! / m(i))) + 0.5 * integrate((i) => Q[i]! * Math.log(Q[i]! / m(i)));
const DEFINITION: Record<Divergence, number> = {
  kl: integrate((i) => P[i]! * Math.log(P[i]! / Q[i]!)),
  reverseKl: integrate((i) => Q[i]! * Math.log(Q[i]! / P[i]!)),
  pearson: integrate((i) => (P[i]! - Q[i]!) ** 2 / Q[i]!),
  hellinger: integrate((i) => (Math.sqrt(P[i]!) - Math.sqrt(Q[i]!)) ** 2),
  // Table 1's f for JS gives 2 JS (see divergences.ts)
  js: 2 * JS,
  // the GAN value at D* = p / (p + q): E_P log D* + E_Q log(1 - D*)
  gan: integrate((i) => P[i]! * Math.log(P[i]! / (P[i]! + Q[i]!))) + integrate((i) => Q[i]! * Math.log(Q[i]! / (P[i]! + Q[i]!))),
};

/**
 * The optimal critic of each divergence, T* = f'(u), u = p/q (f from Table 1,
 * differentiated by hand), and the raw output V* with g_f(V*) = T* (g_f of Table 2
 * inverted by hand). log u = (x - mu)^2 / 2 - x^2 / 2 exactly.
 */
const logU = XS.map((x) => 0.5 * (x - MU) * (x - MU) - 0.5 * x * x);
const OPTIMAL: Record<Divergence, { t: (lu: number) => number; v: (t: number) => number }> = {
  kl: { t: (lu) => 1 + lu, v: (t) => t },
  reverseKl: { t: (lu) => -Math.exp(-lu), v: (t) => -Math.log(-t) },
  pearson: { t: (lu) => 2 * (Math.exp(lu) - 1), v: (t) => t },
  hellinger: { t: (lu) => 1 - Math.exp(-0.5 * lu), v: (t) => -Math.log(1 - t) },
  // log(2u / (1 + u)) = log 2 - log(1 + 1/u); t = log 2 - log(1 + e^-v)
  js: { t: (lu) => Math.LN2 - Math.log1p(Math.exp(-lu)), v: (t) => -Math.log(2 * Math.exp(-t) - 1) },
  // log(u / (1 + u)); t = -log(1 + e^-v)
  gan: { t: (lu) => -Math.log1p(Math.exp(-lu)), v: (t) => -Math.log(Math.exp(-t) - 1) },
};

/** g_f(v) and f*(g_f(v)) as the loss nodes compute them, through Ops (tfjs, float32) */
function nodeForms(d: Divergence, v: Float64Array): { t: Float32Array; conj: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor2d(Float32Array.from(v), [v.length, 1]);
    const row = DIVERGENCE_TABLE[d];
    return { t: row.activation(ops, x).dataSync() as Float32Array, conj: row.conjugateOfActivation(ops, x).dataSync() as Float32Array };
  });
}

/** E_P[T] - E_Q[f*(T)] with T = g_f(v) from the node's code, by quadrature */
function bound(d: Divergence, v: Float64Array): number {
  const { t, conj } = nodeForms(d, v);
  return integrate((i) => P[i]! * t[i]! - Q[i]! * conj[i]!);
}

describe('the variational bound at the optimal critic (Nowozin et al. 2016, Tables 1-2, eq. 6)', () => {
  it('the definitions: KL = reverse KL = 2, chi^2 = e^4 - 1, H^2 = 2 - 2 e^{-1/2}, JS = 0.336831, V(D*) = -0.712633 (docs/REFERENCE.md)', () => {
    expect(DEFINITION.kl).toBeCloseTo(0.5 * MU * MU, 6);
    expect(DEFINITION.reverseKl).toBeCloseTo(0.5 * MU * MU, 6);
    expect(DEFINITION.pearson / (Math.exp(MU * MU) - 1)).toBeCloseTo(1, 6);
    expect(DEFINITION.hellinger).toBeCloseTo(2 - 2 * Math.exp(-MU * MU / 8), 6);
    expect(JS).toBeCloseTo(0.336831, 5);
    expect(DEFINITION.gan).toBeCloseTo(-0.712633, 5);
    expect(DEFINITION.gan).toBeCloseTo(2 * JS - Math.log(4), 8);
  });

  for (const d of DIVERGENCES) {
    it(`${d}: E_P[g_f(V*)] - E_Q[f*(g_f(V*))] = D_f(P || Q) = ${DEFINITION[d].toPrecision(6)}, and T* is the maximiser`, () => {
      const { t: tStar, v: vOf } = OPTIMAL[d];
      const vStar = logU.map((lu) => vOf(tStar(lu)));
      // the node's activation reproduces T* = f'(p/q) where the densities matter
      const { t } = nodeForms(d, vStar);
      for (const i of [6000, 12000, 14000, 16000, 18000]) {
        const want = tStar(logU[i]!);
        expect(Math.abs(t[i]! - want), `T*(${XS[i]})`).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
      }
      const b = bound(d, vStar);
      const tol = d === 'pearson' ? 2e-3 : 2e-4; // float32 T; chi^2 is 53.6
      expect(Math.abs(b - DEFINITION[d]), `bound ${b} vs D_f ${DEFINITION[d]}`).toBeLessThan(tol);
      // any other critic gives less (a lower bound): shift and scale V*
      for (const other of [vStar.map((v) => v + 0.3), vStar.map((v) => v - 0.3), vStar.map((v) => 0.8 * v)]) {
        expect(bound(d, other)).toBeLessThan(b - 1e-3);
      }
    });
  }

  it('f*(g_f(v)) in closed form equals the conjugate of Table 2 applied to g_f(v), and g_f lands in dom f*', () => {
    const v = Float64Array.from({ length: 121 }, (_, i) => -6 + 0.1 * i);
    const DOM: Record<Divergence, number> = { kl: Infinity, reverseKl: 0, pearson: Infinity, hellinger: 1, js: Math.LN2, gan: 0 };
    for (const d of DIVERGENCES) {
      tf.tidy(() => {
        const x = tf.tensor1d(Float32Array.from(v));
        const row = DIVERGENCE_TABLE[d];
        const t = row.activation(ops, x);
        const direct = row.conjugateOfActivation(ops, x).dataSync();
        const composed = row.conjugate(ops, t).dataSync();
        const tv = t.dataSync();
        v.forEach((vi, i) => {
          expect(tv[i]!, `${d}: g_f(${vi}) in dom f*`).toBeLessThan(DOM[d]);
          // away from the edge of dom f*, where the composed form loses precision in float32
          if (Math.abs(vi) <= 4) expect(Math.abs(direct[i]! - composed[i]!), `${d} at v = ${vi}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(direct[i]!)));
        });
      });
    }
  });
});

// ---------------------------------------------------------------- the loss nodes

function applyLoss(spec: AnyNodeSpec, params: Record<string, unknown>, inputs: Record<string, tf.Tensor>): LossValue<tf.Tensor> {
  const p = spec.params.parse(params);
  const ctx = { ops, nodeId: 'loss', batchSize: 5, mode: 'train', param: () => tf.scalar(0), feed: () => tf.scalar(0) } as unknown as NodeCtx<tf.Tensor>;
  return spec.apply(ctx, { inputs, params: p, shapes: {}, built: undefined }).loss as LossValue<tf.Tensor>;
}

describe('the f-GAN loss nodes', () => {
  const real = [0.3, -1.2, 2.0, 0.7, -0.1];
  const fake = [-0.5, 1.1, -2.2, 0.4, 0.9];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sp = (x: number) => Math.log1p(Math.exp(x));
  /** T = g_f(v) and f*(T) in float64 from Table 2 */
  const T: Record<Divergence, (v: number) => number> = {
    kl: (v) => v,
    reverseKl: (v) => -Math.exp(-v),
    pearson: (v) => v,
    hellinger: (v) => 1 - Math.exp(-v),
    js: (v) => Math.LN2 - sp(-v),
    gan: (v) => -sp(-v),
  };
  const FSTAR: Record<Divergence, (t: number) => number> = {
    kl: (t) => Math.exp(t - 1),
    reverseKl: (t) => -1 - Math.log(-t),
    pearson: (t) => 0.25 * t * t + t,
    hellinger: (t) => t / (1 - t),
    js: (t) => -Math.log(2 - Math.exp(t)),
    gan: (t) => -Math.log(1 - Math.exp(t)),
  };
  const col = (xs: number[]) => tf.tensor2d(xs, [xs.length, 1]);

  for (const d of DIVERGENCES) {
    it(`${d}: the critic minimises -(E_P[T] - E_Q[f*(T)]), the generator -E_Q[f*(T)] (saddle) or -E_Q[T] (alternative)`, () => {
      tf.tidy(() => {
        const F = mean(real.map(T[d])) - mean(fake.map((v) => FSTAR[d](T[d](v))));
        const c = applyLoss(fganCritic, { divergence: d }, { realLogit: col(real), fakeLogit: col(fake) });
        expect(c.value.dataSync()[0]).toBeCloseTo(-F, 4);
        expect(c.terms.bound!.dataSync()[0]).toBeCloseTo(F, 4);
        const saddle = applyLoss(fganGenerator, { divergence: d, variant: 'saddle' }, { fakeLogit: col(fake) });
        expect(saddle.value.dataSync()[0]).toBeCloseTo(-mean(fake.map((v) => FSTAR[d](T[d](v)))), 4);
        const alt = applyLoss(fganGenerator, { divergence: d, variant: 'alternative' }, { fakeLogit: col(fake) });
        expect(alt.value.dataSync()[0]).toBeCloseTo(-mean(fake.map(T[d])), 4);
      });
    });
  }

  it('the GAN divergence is the GAN: its critic loss is loss.ganCritic, its generator losses the minimax and non-saturating ones', () => {
    tf.tidy(() => {
      const v = (l: LossValue<tf.Tensor>) => l.value.dataSync()[0]!;
      const ins = { realLogit: col(real), fakeLogit: col(fake) };
      expect(v(applyLoss(fganCritic, { divergence: 'gan' }, ins))).toBeCloseTo(v(applyLoss(ganCritic, {}, ins)), 5);
      expect(v(applyLoss(fganGenerator, { divergence: 'gan', variant: 'saddle' }, { fakeLogit: col(fake) }))).toBeCloseTo(v(applyLoss(ganGenerator, { variant: 'minimax' }, { fakeLogit: col(fake) })), 5);
      expect(v(applyLoss(fganGenerator, { divergence: 'gan', variant: 'alternative' }, { fakeLogit: col(fake) }))).toBeCloseTo(v(applyLoss(ganGenerator, {}, { fakeLogit: col(fake) })), 5);
    });
  });

  it('rejects a critic output that is not one number per example, naming the port', () => {
    const shapes = { realLogit: { kind: 'Tensor' as const, shape: [1] }, fakeLogit: { kind: 'Tensor' as const, shape: [2] } };
    const p = fganCritic.params.parse({});
    expect(() => fganCritic.infer(shapes, p)).toThrow(InferError);
    expect(() => fganCritic.infer(shapes, p)).toThrow(/fakeLogit.*scalar output V\(x\)/);
    expect(() => fganGenerator.infer({ fakeLogit: undefined as never }, fganGenerator.params.parse({}))).toThrow(/"fakeLogit" is not connected/);
  });

  it('says in the compare view which divergence is minimised', () => {
    const shapes = { realLogit: { kind: 'Tensor' as const, shape: [1] }, fakeLogit: { kind: 'Tensor' as const, shape: [1] } };
    expect(fganCritic.describe!(fganCritic.params.parse({ divergence: 'reverseKl' }), shapes).likelihood?.text).toMatch(/reverse Kullback-Leibler divergence KL\(p_g \|\| p_data\)/);
    expect(fganGenerator.describe!(fganGenerator.params.parse({ divergence: 'pearson' }), { fakeLogit: shapes.fakeLogit }).likelihood?.text).toMatch(/Pearson chi-squared/);
  });

  for (const spec of [fganCritic, fganGenerator] as AnyNodeSpec[]) {
    it(`${spec.type} has an ONNX form equal to tfjs for every divergence${spec === fganGenerator ? ' and both variants' : ''}`, async () => {
      const variants = spec === fganGenerator ? ['alternative', 'saddle'] : [undefined];
      for (const d of DIVERGENCES) {
        for (const variant of variants) {
          const r = await onnxParityForNode(spec, { params: { divergence: d, ...(variant && { variant }) } });
          expect(r.pass, `${d} ${variant ?? ''}: ${r.summary}`).toBe(true);
          expect(r.maxError).toBeLessThanOrEqual(1e-4);
        }
      }
    });
  }
});

// ---------------------------------------------------------------- training

/** training rounds of the short run (the template trains 2000) and its bars (measured: high quality 0.70, energy 0.027) */
const STEPS = 1000;
const HQ_BAR = 0.55;
const ENERGY_BAR = 0.05;

describe('fgan-reversekl-8gaussians, short run', () => {
  let trainer: Trainer;
  let program: Program;
  let metrics: Record<string, number>;
  let baseline: { energy: number; highQuality: number; modes: number };
  beforeAll(() => {
    const t = trainTemplate('fgan-reversekl-8gaussians', { steps: STEPS });
    ({ trainer, program } = t);
    metrics = evaluateRun(trainer, program, t.feeds, { n: 2000 });
    const feed = t.feeds.get('data')!;
    const g = fitGaussian(feed).sample(2000, 4242);
    const c = modeCoverage(g, 2, toyModes('8gaussians')!);
    baseline = { energy: energyDistance(g, feed.heldOut(2000), 2), highQuality: c.highQualityFraction, modes: c.modesCaptured };
  }, 180_000);
  afterAll(() => trainer?.dispose());

  it(`after ${STEPS} rounds: high quality >= ${HQ_BAR} and energy <= ${ENERGY_BAR}, which a moment-matched Gaussian fails`, () => {
    console.log(
      `reverse KL f-GAN: modes ${metrics['sampler.modes']}/8, high quality ${metrics['sampler.highQuality']!.toFixed(3)}, energy ${metrics['sampler.energy']!.toFixed(4)}, held-out bound ${metrics['criticLoss.bound']!.toFixed(3)}; Gaussian: high quality ${baseline.highQuality.toFixed(3)}, energy ${baseline.energy.toFixed(4)}, modes ${baseline.modes}`,
    );
    expect(metrics['sampler.highQuality']).toBeGreaterThanOrEqual(HQ_BAR);
    expect(metrics['sampler.energy']).toBeLessThanOrEqual(ENERGY_BAR);
    expect(metrics['sampler.modes']).toBeGreaterThanOrEqual(6);
    expect(baseline.highQuality).toBeLessThan(HQ_BAR);
    expect(baseline.energy).toBeGreaterThan(ENERGY_BAR);
    expect(baseline.modes).toBe(8); // why modes alone proves nothing
    // the held-out bound is the critic's estimate of KL(p_g || p_data): small, not diverged
    expect(metrics['criticLoss.bound']).toBeGreaterThan(-0.2);
    expect(metrics['criticLoss.bound']).toBeLessThan(1);
  });

  it('offers the generator and the sampler as export targets; the generator exports to ONNX with parity <= 1e-4', async () => {
    expect(listTargets(program).map((t) => t.id)).toEqual(['generator:generator', 'sampler:sampler']);
    const weights = trainer.store.snapshot();
    for (const id of ['generator:generator', 'sampler:sampler']) {
      const model = exportOnnx(program, weights, id, { noise: 'inputs' });
      const r = await parityCheck(program, weights, id, { noise: 'inputs', model, n: 32, seed: 3 });
      expect(r.problems, formatParityReport(r)).toEqual([]);
      expect(r.pass, formatParityReport(r)).toBe(true);
      expect(r.maxError).toBeLessThanOrEqual(1e-4);
    }
  }, 60_000);
});

describe('JS and GAN divergences', () => {
  it('train identically: their activations and conjugates differ by constants (log 2), so every gradient is the same, and their bounds differ by log 4', () => {
    const small = { generator: { hidden: [16] }, critic: { hidden: [16] } };
    const js = trainTemplate('fgan-js-8gaussians', { steps: 25, batchSize: 64, overrides: small });
    const gan = trainTemplate('fgan-gan-8gaussians', { steps: 25, batchSize: 64, overrides: { ...small, ...overridesLike(js.doc, 'gan') } });
    const a = js.trainer.store.snapshot();
    const b = gan.trainer.store.snapshot();
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [k, w] of a) {
      const u = b.get(k)!.data;
      expect(Math.max(...w.data.map((x, i) => Math.abs(x - u[i]!))), k).toBeLessThan(1e-5);
    }
    const bj = js.trainer.heldOutTerms('criticLoss', 500).bound!;
    const bg = gan.trainer.heldOutTerms('criticLoss', 500).bound!;
    expect(bj - bg).toBeCloseTo(Math.log(4), 4);
    js.trainer.dispose();
    gan.trainer.dispose();
  });
});

/** the js template's loss settings with another divergence (the two templates must differ only there) */
function overridesLike(doc: { nodes: { id: string; params: Record<string, unknown> }[] }, d: Divergence): Record<string, Record<string, unknown>> {
  const of = (id: string) => structuredClone(doc.nodes.find((n) => n.id === id)!.params);
  return { criticLoss: { ...of('criticLoss'), divergence: d }, generatorLoss: { ...of('generatorLoss'), divergence: d } };
}
