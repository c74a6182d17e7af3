import { describe, expect, it } from 'vitest';
import { Rng } from './rng';

function draw(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.uniform());
}

describe('Rng', () => {
  it('is reproducible: same seed, same sequence', () => {
    expect(draw(new Rng(42), 20)).toEqual(draw(new Rng(42), 20));
    const a = new Rng(7);
    const b = new Rng(7);
    for (let i = 0; i < 50; i++) {
      expect(a.normal()).toBe(b.normal());
      expect(a.int(1000)).toBe(b.int(1000));
    }
  });

  it('gives different sequences for nearby, negative, large and fractional seeds', () => {
    const seeds = [0, 1, 2, -1, 2 ** 32, 2 ** 40 + 3, 0.5];
    const firsts = seeds.map((s) => new Rng(s).nextU32());
    expect(new Set(firsts).size).toBe(seeds.length);
  });

  it('rejects non-finite seeds', () => {
    expect(() => new Rng(NaN)).toThrow(RangeError);
    expect(() => new Rng(Infinity)).toThrow(RangeError);
  });

  it('uniform is in [0, 1) with mean 1/2 and variance 1/12', () => {
    const rng = new Rng(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      s += u;
      s2 += u * u;
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    const mean = s / n;
    expect(mean).toBeCloseTo(0.5, 2);
    expect(s2 / n - mean * mean).toBeCloseTo(1 / 12, 3);
  });

  it('normal has mean 0, variance 1, no skew, kurtosis 3', () => {
    const rng = new Rng(2);
    const n = 200_000;
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      m1 += z;
      m2 += z * z;
      m3 += z * z * z;
      m4 += z * z * z * z;
    }
    // standard errors: 1/sqrt(n) = 0.0022, sqrt(2/n) = 0.0032, sqrt(6/n) = 0.0055, sqrt(96/n) = 0.022
    expect(Math.abs(m1 / n)).toBeLessThan(0.01);
    expect(Math.abs(m2 / n - 1)).toBeLessThan(0.015);
    expect(Math.abs(m3 / n)).toBeLessThan(0.03);
    expect(Math.abs(m4 / n - 3)).toBeLessThan(0.1);
  });

  it('normal: the cached spare is independent of its pair partner', () => {
    const rng = new Rng(3);
    const n = 100_000;
    let c = 0;
    for (let i = 0; i < n; i++) c += rng.normal() * rng.normal();
    expect(Math.abs(c / n)).toBeLessThan(0.015);
  });

  it('int(n) is in range and uniform (chi-square)', () => {
    const rng = new Rng(4);
    const k = 7;
    const n = 70_000;
    const counts = new Array<number>(k).fill(0);
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const v = rng.int(k);
      if (!(Number.isInteger(v) && v >= 0 && v < k)) bad++;
      else counts[v]++;
    }
    expect(bad).toBe(0);
    const e = n / k;
    const chi2 = counts.reduce((s, c) => s + ((c - e) * (c - e)) / e, 0);
    expect(chi2).toBeLessThan(22.5); // chi-square(6) 99.9 % quantile
    expect(rng.int(1)).toBe(0);
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => rng.int(2.5)).toThrow(RangeError);
    const big = rng.int(2 ** 32);
    expect(big).toBeGreaterThanOrEqual(0);
    expect(big).toBeLessThan(2 ** 32);
  });

  it('shuffle permutes (arrays and typed arrays), every position uniformly', () => {
    const rng = new Rng(5);
    const a = Array.from({ length: 50 }, (_, i) => i);
    rng.shuffle(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    const t = new Uint32Array([1, 2, 3, 4]);
    rng.shuffle(t);
    expect([...t].sort()).toEqual([1, 2, 3, 4]);
    // the first element of a shuffled [0, 1, 2, 3] is uniform
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) {
      const b = [0, 1, 2, 3];
      rng.shuffle(b);
      counts[b[0]]++;
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    rng.shuffle([]); // no throw
  });

  it('fork gives reproducible, distinct, uncorrelated streams that ignore prior draws', () => {
    const parent = new Rng(9);
    const f1 = draw(parent.fork(1), 10);
    draw(parent, 100); // drawing from the parent does not change its forks
    expect(draw(parent.fork(1), 10)).toEqual(f1);
    expect(draw(new Rng(9).fork(1), 10)).toEqual(f1);
    expect(draw(parent.fork(2), 10)).not.toEqual(f1);
    expect(draw(new Rng(10).fork(1), 10)).not.toEqual(f1);
    expect(draw(parent.fork(0), 10)).not.toEqual(draw(new Rng(9), 10));
    expect(draw(parent.fork(1).fork(1), 10)).not.toEqual(f1);
    // correlation between two forks
    const a = parent.fork(3);
    const b = parent.fork(4);
    const n = 50_000;
    let c = 0;
    for (let i = 0; i < n; i++) c += a.normal() * b.normal();
    expect(Math.abs(c / n)).toBeLessThan(0.02);
  });
});
