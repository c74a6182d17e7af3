/**
 * The deep belief net (nodes/rbm/dbnSampler.ts, dbn-mnist): the sampler draws from
 * sum_h1 p_top(h1) p(v | h1) (checked by enumeration on tiny RBMs); the upper RBM learns
 * the lower one's hidden probabilities and no gradient of its objective reaches the lower
 * RBM; layer sizes that do not chain are refused naming both.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dbnSampler } from '../nodes/rbm/dbnSampler';
import { freeEnergy, type RbmFn } from '../nodes/rbm/rbmOps';
import { Rng } from '../src-main/data/rng';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { trainTemplate } from './trainTemplate';

let ops: TfjsOps;
beforeAll(async () => {
  await initBackend('cpu');
  ops = new TfjsOps({ seed: 0 });
});

/** a random Bernoulli RBM with D visible and H hidden units, as an Fn and as numbers */
function rbmOf(D: number, H: number, seed: number) {
  const rng = new Rng(seed);
  const W = Array.from({ length: D * H }, () => 1.2 * rng.normal());
  const b = Array.from({ length: D }, () => 0.6 * rng.normal());
  const c = Array.from({ length: H }, () => 0.6 * rng.normal());
  const fn: RbmFn<tf.Tensor> = {
    kind: 'Fn',
    owner: `rbm${seed}`,
    in: [D],
    out: [1],
    timeConditioned: false,
    visible: D,
    hidden: H,
    W: tf.tensor2d(W, [D, H]),
    b: tf.tensor1d(b),
    c: tf.tensor1d(c),
    call: (v) => tf.reshape(freeEnergy(ops, fn, v), [-1, 1]),
  };
  return { fn, W, b, c, D, H };
}

const bits = (k: number, n: number) => Array.from({ length: n }, (_, i) => (k >> i) & 1);
const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));

function runSampler(top: RbmFn<tf.Tensor>, below: RbmFn<tf.Tensor>, n: number, params: Record<string, unknown>) {
  const p = dbnSampler.params.parse(params);
  const ctx = { ops, nodeId: 'dbn', param: () => { throw new Error('no params'); }, batchSize: n, mode: 'sample' as const, feed: () => { throw new Error('no feed'); } };
  return dbnSampler.apply(ctx as never, { inputs: { top, below } as never, params: p, shapes: {} as never, built: undefined }).samples as tf.Tensor;
}

describe('deep belief net sampler', () => {
  it('draws v from sum_h1 p_top(h1) p(v | h1): frequencies of 30000 draws against enumeration', () => {
    const below = rbmOf(4, 3, 1);
    const top = rbmOf(3, 2, 2);
    // p_top(h1) over the top RBM's visible units: exp(-F_top(h1)) / Z
    const h1s = Array.from({ length: 8 }, (_, k) => bits(k, 3));
    const negF = Array.from(tf.neg(freeEnergy(ops, top.fn, tf.tensor2d(h1s))).dataSync());
    const z = negF.reduce((s, x) => s + Math.exp(x), 0);
    const pv = new Array(16).fill(0);
    h1s.forEach((h, k) => {
      for (let m = 0; m < 16; m++) {
        const v = bits(m, 4);
        let q = Math.exp(negF[k]!) / z;
        for (let i = 0; i < 4; i++) {
          const a = below.b[i]! + h.reduce((s, hj, j) => s + below.W[i * 3 + j]! * hj, 0);
          q *= v[i] ? sigmoid(a) : 1 - sigmoid(a);
        }
        pv[m] += q;
      }
    });
    const n = 30000;
    const s = runSampler(top.fn, below.fn, n, { steps: 50, lastMean: false }).dataSync();
    const counts = new Array(16).fill(0);
    for (let r = 0; r < n; r++) counts[[0, 1, 2, 3].reduce((k, i) => k + (s[r * 4 + i]! << i), 0)]++;
    const tv = 0.5 * counts.reduce((a, c, k) => a + Math.abs(c / n - pv[k]), 0);
    expect(tv).toBeLessThan(0.02);
  });

  it('refuses layers that do not chain, naming both sizes', () => {
    expect(() => runSampler(rbmOf(5, 2, 2).fn, rbmOf(4, 3, 1).fn, 4, { steps: 2 })).toThrow(/top RBM has 5 visible units but the RBM below has 3 hidden units/);
  });
});

describe('dbn-mnist', () => {
  it('the upper RBM learns the lower one\'s hidden probabilities; its objective sends no gradient down', () => {
    // cd2 left to train every network upstream of it (trains: []) and cd1 frozen (lr 1e-12):
    // the lower RBM must not move, the upper one must
    const { trainer } = trainTemplate('dbn-mnist', { steps: 0, overrides: { cd1: { optimizer: { lr: 1e-12 } }, cd2: { trains: [] } } });
    const snap = (name: string) => Array.from(trainer.store.vars.get(name)!.dataSync());
    const w1 = snap('rbm1/W');
    const w2 = snap('rbm2/W');
    for (let i = 0; i < 10; i++) trainer.round(false);
    const moved = (a: number[], b: number[]) => a.reduce((m, x, k) => Math.max(m, Math.abs(x - b[k]!)), 0);
    expect(moved(w1, snap('rbm1/W'))).toBeLessThan(1e-6);
    expect(moved(w2, snap('rbm2/W'))).toBeGreaterThan(1e-3);
    trainer.dispose();
  }, 60_000);
});
