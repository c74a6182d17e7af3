/**
 * The paths, the loss and the OT coupling against closed forms (docs/REFERENCE.md, "Loss floors
 * on N(0, I) data"): for N(0, I) -> N(0, I) with independent coupling the per-dimension
 * minimum of the flow-matching loss is pi/2 (linear path) and pi^2/4 (variance-preserving
 * path, whose optimal velocity is 0).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NodeCtx } from '../core/defineNode';
import { onnxParityForNode } from '../../src-main/export/conformance';
import { initBackend } from '../../src-main/runtime/backend';
import { TfjsOps } from '../../src-main/runtime/TfjsOps';
import { cfmLoss } from './cfmLoss';
import { otPartners, samplePartners, sinkhornColumns } from './coupling';
import { linearPath } from './linearPath';
import { vpPath } from './vpPath';

beforeAll(async () => {
  await initBackend('cpu');
});

function ctxOf(ops: TfjsOps, batchSize: number): NodeCtx<tf.Tensor> {
  const none = (): never => {
    throw new Error('not used here');
  };
  return { ops, nodeId: 'n', batchSize, mode: 'train', param: none, feed: none };
}

const D = 2;
const N = 100_000;

/** runs a path node on x1 ~ N(0, I) and the loss node on pred = vStar(x_t, t) */
function floorOf(spec: typeof linearPath | typeof vpPath, vStar: (xt: tf.Tensor, t: tf.Tensor) => tf.Tensor, params: Record<string, unknown> = {}, seed = 1): number {
  const ops = new TfjsOps({ seed });
  return tf.tidy(() => {
    const ctx = ctxOf(ops, N);
    const x1 = ops.randomNormal([N, D]);
    const p = spec.params.parse(params) as never;
    const out = spec.apply(ctx, { inputs: { x1 }, params: p, shapes: { x1: { kind: 'Tensor', shape: [D] } }, built: undefined });
    const pred = vStar(out.xt!, tf.reshape(out.t!, [-1, 1]));
    const loss = cfmLoss.apply(ctx, { inputs: { pred, target: out.ut! }, params: cfmLoss.params.parse({}), shapes: {} as never, built: undefined });
    return loss.loss!.value.dataSync()[0]!;
  });
}

// the optimal velocity E[u | x_t = x] for x0, x1 ~ N(0, I) independent, written out here
// (not taken from the node): x_t = t x1 + (1 - t) x0, u = x1 - x0, Cov(u, x_t) = 2t - 1
const linearOptimal = (xt: tf.Tensor, t: tf.Tensor) => tf.mul(xt, tf.div(tf.sub(tf.mul(t, 2), 1), tf.add(tf.square(t), tf.square(tf.sub(1, t)))));

describe('flow-matching loss floors, N(0, I) -> N(0, I), independent coupling (MC, n = 100k x 2)', () => {
  it('linear path: the optimal velocity (2t - 1) x / (t^2 + (1 - t)^2) scores pi/2 per dimension', () => {
    const v = floorOf(linearPath, linearOptimal);
    expect(Math.abs(v - Math.PI / 2)).toBeLessThan(0.02); // MC standard error ~0.006
  });

  it('linear path: any other velocity scores above the floor (v = 0 gives E|x1 - x0|^2 / d = 2)', () => {
    expect(Math.abs(floorOf(linearPath, (xt) => tf.zerosLike(xt)) - 2)).toBeLessThan(0.03);
    // halving v* adds E[v*^2] / 4 = (2 - pi/2) / 4 = 0.107
    expect(floorOf(linearPath, (xt, t) => tf.mul(linearOptimal(xt, t), 0.5))).toBeGreaterThan(Math.PI / 2 + 0.07);
  });

  it('variance-preserving path: x_t ~ N(0, I) is uncorrelated with u_t, so v* = 0 and the floor is pi^2/4', () => {
    const v = floorOf(vpPath, (xt) => tf.zerosLike(xt));
    expect(Math.abs(v - (Math.PI * Math.PI) / 4)).toBeLessThan(0.03);
  });

  it('sigma_min > 0 moves the linear path: x_t = (1 - (1 - s) t) x0 + t x1, u = x1 - (1 - s) x0', () => {
    const ops = new TfjsOps({ seed: 4 });
    tf.tidy(() => {
      const x1 = ops.randomNormal([64, 2]);
      const out = linearPath.apply(ctxOf(ops, 64), { inputs: { x1 }, params: linearPath.params.parse({ sigmaMin: 0.1 }), shapes: { x1: { kind: 'Tensor', shape: [2] } }, built: undefined });
      const t = tf.reshape(out.t!, [-1, 1]);
      // recover x0 from the target, then check the point on the path
      const x0 = tf.div(tf.sub(x1, out.ut!), 0.9);
      const xt = tf.add(tf.mul(tf.sub(1, tf.mul(t, 0.9)), x0), tf.mul(t, x1));
      expect(tf.max(tf.abs(tf.sub(xt, out.xt!))).dataSync()[0]).toBeLessThan(1e-5);
      expect(tf.max(tf.abs(tf.sub(x0, out.x0!))).dataSync()[0]).toBeLessThan(1e-5);
      const tv = out.t!.dataSync();
      expect(Math.min(...tv)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...tv)).toBeLessThanOrEqual(1);
    });
  });
});

describe('minibatch OT coupling (Sinkhorn)', () => {
  const B = 256;

  it('the plan has uniform marginals: every column sums to 1, every row to 1 (in units of 1/B)', () => {
    const ops = new TfjsOps({ seed: 2 });
    tf.tidy(() => {
      const x0 = ops.randomNormal([B, 2]);
      const x1 = tf.add(ops.randomNormal([B, 2]), tf.tensor1d([3, 0]));
      const cols = sinkhornColumns(ops, x0, x1, { eps: 0.05, iters: 50 });
      const colSums = tf.sum(cols, 0).dataSync();
      const rowSums = tf.sum(cols, 1).dataSync();
      expect(Math.max(...colSums.map((s) => Math.abs(s - 1)))).toBeLessThan(1e-4);
      expect(Math.max(...rowSums.map((s) => Math.abs(s - 1)))).toBeLessThan(0.05);
    });
  });

  it('draws one partner per data point: the pick matrix is one-hot in every column', () => {
    const ops = new TfjsOps({ seed: 3 });
    tf.tidy(() => {
      const x0 = ops.randomNormal([B, 2]);
      const x1 = ops.randomNormal([B, 2]);
      const pick = samplePartners(ops, sinkhornColumns(ops, x0, x1, { eps: 0.05, iters: 50 }), x0, x1).dataSync();
      let offGrid = 0;
      for (const v of pick) if (v !== 0 && v !== 1) offGrid++;
      expect(offGrid).toBe(0);
      const perColumn = new Float64Array(B);
      for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) perColumn[j]! += pick[i * B + j]!;
      expect([...perColumn].every((s) => s === 1)).toBe(true);
    });
  });

  it('in 1-D the pairs are the sorted matching (the OT map), far cheaper than independent pairs, and the partners are noise rows', () => {
    const ops = new TfjsOps({ seed: 5 });
    tf.tidy(() => {
      const x0 = ops.randomNormal([B, 1]);
      const x1 = tf.add(tf.mul(ops.randomNormal([B, 1]), 0.5), 2);
      const m = otPartners(ops, x0, x1, { eps: 0.002, iters: 300 });
      const a = m.dataSync();
      const b = x1.dataSync();
      const z = x0.dataSync();
      const noise = new Set(z);
      expect([...a].every((v) => noise.has(v))).toBe(true);
      const mean = (f: (i: number) => number) => Array.from({ length: B }, (_, i) => f(i)).reduce((s, v) => s + v, 0) / B;
      const ma = mean((i) => a[i]!);
      const mb = mean((i) => b[i]!);
      const corr = mean((i) => (a[i]! - ma) * (b[i]! - mb)) / Math.sqrt(mean((i) => (a[i]! - ma) ** 2) * mean((i) => (b[i]! - mb) ** 2));
      expect(corr).toBeGreaterThan(0.97);
      // the exact empirical OT cost in 1-D: match the sorted samples
      const sa = [...z].sort((p, q) => p - q);
      const sb = [...b].sort((p, q) => p - q);
      const exact = mean((i) => (sa[i]! - sb[i]!) ** 2);
      const otCost = mean((i) => (a[i]! - b[i]!) ** 2);
      const indCost = mean((i) => (z[i]! - b[i]!) ** 2);
      expect(otCost).toBeLessThan(exact + 0.03);
      expect(indCost).toBeGreaterThan(exact + 0.5); // E(x1 - x0)^2 - W2^2 = 2 Cov = 1 in the population
    });
  });

  it('the path node with OT coupling pairs noise to data by the plan (straighter, cheaper pairs)', () => {
    const ops = new TfjsOps({ seed: 6 });
    tf.tidy(() => {
      const x1 = tf.add(ops.randomNormal([B, 2]), tf.tensor1d([0, 3]));
      const run = (coupling: 'independent' | 'ot') => {
        const out = linearPath.apply(ctxOf(ops, B), { inputs: { x1 }, params: linearPath.params.parse({ coupling }), shapes: { x1: { kind: 'Tensor', shape: [2] } }, built: undefined });
        return tf.mean(tf.sum(tf.square(out.ut!), 1)).dataSync()[0]!;
      };
      // E|x1 - x0|^2: independent 9 + 2 + 2 = 13; OT W2^2 = 9 (+ sampling error at B = 256)
      expect(run('independent')).toBeGreaterThan(12);
      expect(run('ot')).toBeLessThan(10.8);
    });
  });

  it('records an ONNX form equal to tfjs with the OT coupling too (the suite checks the default only)', async () => {
    for (const spec of [linearPath, vpPath]) {
      const r = await onnxParityForNode(spec, { params: { coupling: 'ot', sinkhornIters: 20 }, inputs: { x1: { kind: 'Tensor', shape: [2] } }, n: 16 });
      expect(r.pass, r.summary).toBe(true);
    }
  });
});
