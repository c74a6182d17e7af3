/**
 * Flow matching, short training runs on wasm (the full step counts and the core bars are
 * `npm run bench:quality`, see nodes/flowmatching/index.ts). Each bar is one that a
 * moment-matched Gaussian fails, and the test computes that baseline on the same held-out
 * rows and asserts it fails (docs/REFERENCE.md: one Gaussian fit to 8gaussians scores energy
 * 0.094). The trained moons model's ODE density and ODE samplers export to ONNX, each one
 * Loop, equal to tfjs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../src-main/data/rng';
import { sampleToy } from '../src-main/data/toy';
import { evaluateRun } from '../src-main/eval/evaluate';
import { energyDistance } from '../src-main/eval/metrics';
import { exportOnnx, formatParityReport, listTargets, parityCheck, type NoiseMode } from '../src-main/export/exportModel';
import { initBackend } from '../src-main/runtime/backend';
import type { Feed } from '../src-main/runtime/feeds';
import { trainTemplate } from './trainTemplate';

const N = 2000;
/** the templates train 10k steps at lr 3e-4 (steadier mode weights); a short run takes larger steps */
const FAST = { loss: { optimizer: { lr: 0.002 } } };

/** a 2-D Gaussian with the mean and covariance of a training sample */
function gaussianFit(x: Float32Array) {
  const n = x.length / 2;
  let m0 = 0;
  let m1 = 0;
  for (let i = 0; i < n; i++) {
    m0 += x[2 * i]!;
    m1 += x[2 * i + 1]!;
  }
  m0 /= n;
  m1 /= n;
  let a = 0;
  let b = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    const u = x[2 * i]! - m0;
    const v = x[2 * i + 1]! - m1;
    a += u * u;
    b += u * v;
    c += v * v;
  }
  [a, b, c] = [a / n, b / n, c / n];
  const l11 = Math.sqrt(a);
  const l21 = b / l11;
  const l22 = Math.sqrt(c - l21 * l21);
  const det = a * c - b * b;
  return {
    sample(k: number, rng: Rng): Float32Array {
      const out = new Float32Array(2 * k);
      for (let i = 0; i < k; i++) {
        const z0 = rng.normal();
        const z1 = rng.normal();
        out[2 * i] = m0 + l11 * z0;
        out[2 * i + 1] = m1 + l21 * z0 + l22 * z1;
      }
      return out;
    },
    /** mean -log N(x; m, S) over rows */
    nll(y: Float32Array): number {
      let s = 0;
      for (let i = 0; i < y.length / 2; i++) {
        const u = y[2 * i]! - m0;
        const v = y[2 * i + 1]! - m1;
        s += Math.log(2 * Math.PI) + 0.5 * Math.log(det) + (0.5 * (c * u * u - 2 * b * u * v + a * v * v)) / det;
      }
      return s / (y.length / 2);
    },
  };
}

/** the Gaussian baseline on the evaluator's own held-out rows */
function baseline(name: '8gaussians' | 'moons', feed: Feed) {
  const fit = gaussianFit(sampleToy(name, 20_000, new Rng(99)));
  const held = feed.heldOut(N);
  return { energy: energyDistance(fit.sample(N, new Rng(7)), held, 2), nll: fit.nll(held) };
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('flow matching, short training (wasm)', () => {
  it('8 Gaussians: 100 Euler and 20 Heun steps both within energy 0.03 with all 8 modes; a Gaussian fit scores > 0.03', () => {
    const { trainer, program, feeds } = trainTemplate('fm-8gaussians', { steps: 1000, overrides: FAST });
    const m = evaluateRun(trainer, program, feeds, { n: N });
    const g = baseline('8gaussians', feeds.get('data')!);
    console.log(`fm-8gaussians, 1000 steps: euler ${m['euler.energy']!.toFixed(4)}, heun ${m['heun.energy']!.toFixed(4)}; Gaussian fit ${g.energy.toFixed(4)}`);
    expect(m['euler.energy']).toBeLessThan(0.03);
    expect(m['heun.energy']).toBeLessThan(0.03);
    expect(m['euler.modes']).toBe(8);
    expect(m['heun.modes']).toBe(8);
    expect(g.energy).toBeGreaterThan(0.03); // REFERENCE: 0.094
    trainer.dispose();
  });

  describe('two moons', () => {
    let t: ReturnType<typeof trainTemplate>;
    beforeAll(() => {
      t = trainTemplate('fm-moons', { steps: 1000, overrides: FAST });
    });
    afterAll(() => t?.trainer.dispose());

    it('samples within energy 0.02 (Euler 100, Heun 20) and the ODE NLL is below 2.8 nats (entropy 2.395; a Gaussian fit: 3.3); a Gaussian fit fails both', () => {
      const m = evaluateRun(t.trainer, t.program, t.feeds, { n: N });
      const g = baseline('moons', t.feeds.get('data')!);
      console.log(`fm-moons, 1000 steps: euler ${m['euler.energy']!.toFixed(4)}, heun ${m['heun.energy']!.toFixed(4)}, cnf.nll ${m['cnf.nll']!.toFixed(3)}; Gaussian fit energy ${g.energy.toFixed(4)}, nll ${g.nll.toFixed(3)}`);
      expect(m['euler.energy']).toBeLessThan(0.02);
      expect(m['heun.energy']).toBeLessThan(0.02);
      expect(m['cnf.nll']).toBeLessThan(2.8);
      expect(m['cnf.nll']).toBeGreaterThan(2.3); // cannot beat the true entropy by much
      expect(g.energy).toBeGreaterThan(0.02);
      expect(g.nll).toBeGreaterThan(2.8);
    });

    it('exports the ODE density and both ODE samplers, each as one Loop, equal to tfjs (both noise modes, 1e-4)', async () => {
      const ids = listTargets(t.program).map((x) => x.id);
      expect(ids).toEqual(expect.arrayContaining(['density:cnf', 'denoiser:velocity', 'sampler:euler', 'sampler:heun']));
      const weights = t.trainer.store.snapshot();
      for (const id of ['density:cnf', 'sampler:euler', 'sampler:heun']) {
        for (const noise of ['inputs', 'internal'] as NoiseMode[]) {
          const model = exportOnnx(t.program, weights, id, { noise });
          const r = await parityCheck(t.program, weights, id, { noise, model, n: 16, seed: 3 });
          expect(r.problems, formatParityReport(r)).toEqual([]);
          expect(r.pass, formatParityReport(r)).toBe(true);
          expect(r.maxError).toBeLessThanOrEqual(1e-4);
          expect(r.loopCount, `${id}: the ODE is one Loop`).toBe(1);
        }
      }
    });
  });
});
