import { describe, expect, it } from 'vitest';
import { binariseImages, loadMnist, MNIST_DIM, MNIST_TEST, MNIST_TRAIN } from './mnist';
import { Rng } from './rng';

describe('loadMnist', () => {
  it('loads the 10,000 bundled digits as n x 784 floats in [0, 1], cached', () => {
    const m = loadMnist();
    expect(m.n).toBe(10_000);
    expect(m.images).toBeInstanceOf(Float32Array);
    expect(m.images.length).toBe(10_000 * MNIST_DIM);
    expect(m.labels.length).toBe(10_000);
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    for (const v of m.images) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      sum += v;
    }
    expect(lo).toBe(0);
    expect(hi).toBe(1);
    // MNIST's mean grey level is about 0.13
    expect(sum / m.images.length).toBeGreaterThan(0.1);
    expect(sum / m.images.length).toBeLessThan(0.16);
    const t = performance.now();
    const again = loadMnist();
    expect(performance.now() - t).toBeLessThan(5);
    expect(again.images.buffer).toBe(m.images.buffer);
  });

  it('has a fixed, class-mixed 9000 / 1000 train / test split', () => {
    const all = loadMnist();
    const train = loadMnist({ split: 'train' });
    const test = loadMnist({ split: 'test' });
    expect(train.n).toBe(MNIST_TRAIN);
    expect(test.n).toBe(MNIST_TEST);
    expect(train.n + test.n).toBe(all.n);
    expect(test.images[0]).toBe(all.images[MNIST_TRAIN * MNIST_DIM]);
    expect(Array.from(test.labels.slice(0, 20))).toEqual(Array.from(all.labels.slice(MNIST_TRAIN, MNIST_TRAIN + 20)));
    for (const split of [train, test]) {
      const counts = new Array<number>(10).fill(0);
      for (const l of split.labels) counts[l]++;
      for (const c of counts) {
        expect(c / split.n).toBeGreaterThan(0.05);
        expect(c / split.n).toBeLessThan(0.16);
      }
    }
    // the order is part of the split definition: pin its first labels
    expect(Array.from(all.labels.slice(0, 10))).toEqual([8, 7, 1, 7, 9, 0, 5, 5, 1, 0]);
  });

  it('binarises by threshold and stochastically', () => {
    const test = loadMnist({ split: 'test' });
    const thr = loadMnist({ split: 'test', binarise: 'threshold' });
    let wrong = 0;
    for (let i = 0; i < thr.images.length; i++) if (thr.images[i] !== (test.images[i] > 0.5 ? 1 : 0)) wrong++;
    expect(wrong).toBe(0);
    const s1 = loadMnist({ split: 'test', binarise: 'stochastic', rng: new Rng(1) });
    const s2 = loadMnist({ split: 'test', binarise: 'stochastic', rng: new Rng(1) });
    const s3 = loadMnist({ split: 'test', binarise: 'stochastic', rng: new Rng(2) });
    const differ = (a: Float32Array, b: Float32Array): number => a.reduce((c, v, i) => c + (v !== b[i] ? 1 : 0), 0);
    expect(differ(s1.images, s2.images)).toBe(0);
    expect(differ(s1.images, s3.images)).toBeGreaterThan(1000);
    let meanP = 0;
    let meanB = 0;
    let violations = 0;
    for (let i = 0; i < test.images.length; i++) {
      const p = test.images[i];
      const b = s1.images[i];
      meanP += p;
      meanB += b;
      if ((p === 0 && b !== 0) || (p === 1 && b !== 1)) violations++;
    }
    expect(violations).toBe(0);
    expect(meanB / test.images.length).toBeCloseTo(meanP / test.images.length, 2);
    expect(() => loadMnist({ binarise: 'stochastic' })).toThrow(/rng/);
    expect(binariseImages(test.images, 'none')).toBe(test.images);
  });
});
