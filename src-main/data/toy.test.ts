import { describe, expect, it } from 'vitest';
import { Rng } from './rng';
import { EIGHT_GAUSSIANS_MODES, GAN_MODES, sampleToy, TOY_DIMS, TOY_NAMES, toyModes, type ToyName } from './toy';

const N = 20_000;

function rows(x: Float32Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < x.length; i += 2) out.push([x[i], x[i + 1]]);
  return out;
}

function mean(a: number[]): number {
  return a.reduce((s, v) => s + v, 0) / a.length;
}

describe('sampleToy', () => {
  it('returns n x dim float32 rows for every set, reproducibly', () => {
    for (const name of TOY_NAMES) {
      const a = sampleToy(name, 100, new Rng(1));
      expect(a).toBeInstanceOf(Float32Array);
      expect(a.length).toBe(100 * TOY_DIMS[name]);
      expect(a.every(Number.isFinite)).toBe(true);
      expect(sampleToy(name, 100, new Rng(1))).toEqual(a);
      expect(sampleToy(name, 100, new Rng(2))).not.toEqual(a);
    }
    expect(sampleToy('moons', 0, new Rng(1)).length).toBe(0);
    expect(() => sampleToy('moons', -1, new Rng(1))).toThrow(RangeError);
    expect(() => sampleToy('nope' as ToyName, 5, new Rng(1))).toThrow(/unknown/);
  });

  it('draws i.i.d. points: a batch of 2n is not a concatenation of fixed halves', () => {
    // FFJORD's moons/rings/pinwheel/2spirals put exactly n/k points in each component in a
    // fixed order; i.i.d. draws do not: the first half of a batch is a mix of both moons.
    const pts = rows(sampleToy('moons', 2000, new Rng(3)));
    const upper = pts.slice(0, 1000).filter(([, y]) => y > 0.3).length;
    expect(upper).toBeGreaterThan(350);
    expect(upper).toBeLessThan(650);
  });

  it('8gaussians: 8 equal modes at radius 4/1.414, sigma 0.5/1.414', () => {
    const pts = rows(sampleToy('8gaussians', N, new Rng(4)));
    const { centres, sigma } = EIGHT_GAUSSIANS_MODES;
    expect(centres).toHaveLength(8);
    for (const c of centres) expect(Math.hypot(c[0], c[1])).toBeCloseTo(4 / 1.414, 10);
    expect(sigma).toBeCloseTo(0.5 / 1.414, 10);
    // E|x|^2 = (16 + 2 * 0.25) / 1.414^2 = 8.2535
    expect(mean(pts.map(([x, y]) => x * x + y * y))).toBeCloseTo(16.5 / 1.414 ** 2, 1);
    const counts = new Array<number>(8).fill(0);
    let sq = 0;
    for (const [x, y] of pts) {
      let best = 0;
      let bd = Infinity;
      centres.forEach((c, k) => {
        const d = (x - c[0]) ** 2 + (y - c[1]) ** 2;
        if (d < bd) {
          bd = d;
          best = k;
        }
      });
      counts[best]++;
      sq += bd;
    }
    for (const c of counts) expect(Math.abs(c - N / 8)).toBeLessThan(200); // sd 47
    expect(Math.sqrt(sq / (2 * N))).toBeCloseTo(sigma, 2);
  });

  it('moons: mean (0, 0.3), two moons of equal mass', () => {
    // outer (cos t, sin t), inner (1 - cos t, 0.5 - sin t), t ~ U[0, pi]: means (0, 2/pi) and
    // (1, 0.5 - 2/pi), average (0.5, 0.25); *2 + (-1, -0.2) -> (0, 0.3)
    const pts = rows(sampleToy('moons', N, new Rng(5)));
    expect(mean(pts.map((p) => p[0]))).toBeCloseTo(0, 1);
    expect(mean(pts.map((p) => p[1]))).toBeCloseTo(0.3, 1);
    // E x^2 (before scaling, per moon): outer 1/2, inner E(1 - cos t)^2 = 3/2; with noise var 0.01
    const ex2 = mean(pts.map(([x]) => ((x + 1) / 2) ** 2));
    expect(ex2).toBeCloseTo((0.5 + 1.5) / 2 + 0.01, 1);
  });

  it('swissroll: radius*5 ~ t in [1.5 pi, 4.5 pi] (mean 3 pi), noise sd 1/5', () => {
    const pts = rows(sampleToy('swissroll', N, new Rng(6)));
    const r = pts.map(([x, y]) => 5 * Math.hypot(x, y));
    expect(mean(r)).toBeGreaterThan(3 * Math.PI - 0.1);
    expect(mean(r)).toBeLessThan(3 * Math.PI + 0.2); // noise pushes |t + e| slightly outwards
    expect(Math.min(...r)).toBeGreaterThan(1.5 * Math.PI - 5);
    expect(Math.max(...r)).toBeLessThan(4.5 * Math.PI + 5);
  });

  it('checkerboard: 8 squares of side 2 in [-4, 4]^2, the black ones, uniformly', () => {
    const pts = rows(sampleToy('checkerboard', N, new Rng(7)));
    const counts = new Map<string, number>();
    let outside = 0;
    let white = 0;
    for (const [x, y] of pts) {
      if (!(x >= -4 && x < 4 && y >= -4 && y < 4)) outside++;
      const a = Math.floor(x / 2);
      const b = Math.floor(y / 2);
      if ((((a + b) % 2) + 2) % 2 !== 0) white++;
      counts.set(`${a},${b}`, (counts.get(`${a},${b}`) ?? 0) + 1);
    }
    expect(outside).toBe(0);
    expect(white).toBe(0);
    expect(counts.size).toBe(8);
    for (const c of counts.values()) expect(Math.abs(c - N / 8)).toBeLessThan(200);
  });

  it('pinwheel: 5 arms, radius 2 |f| with f0 ~ N(1, 0.3^2)', () => {
    const pts = rows(sampleToy('pinwheel', N, new Rng(8)));
    // E|f| ~= E f0 + E f1^2 / (2 f0) ~= 1.005; times 2
    expect(mean(pts.map(([x, y]) => Math.hypot(x, y)))).toBeCloseTo(2.01, 1);
    expect(Math.abs(mean(pts.map((p) => p[0])))).toBeLessThan(0.1);
  });

  it('2spirals: point-symmetric, radius up to about 3 pi / 3', () => {
    const pts = rows(sampleToy('2spirals', N, new Rng(9)));
    expect(Math.abs(mean(pts.map((p) => p[0])))).toBeLessThan(0.05);
    expect(Math.abs(mean(pts.map((p) => p[1])))).toBeLessThan(0.05);
    const r = pts.map(([x, y]) => Math.hypot(x, y));
    expect(Math.max(...r)).toBeLessThan(Math.PI + 0.2 + 0.6);
    expect(Math.max(...r)).toBeGreaterThan(Math.PI - 0.2);
  });

  it('rings: 4 equally likely rings of radius 3, 2.25, 1.5, 0.75, noise 0.08', () => {
    const pts = rows(sampleToy('rings', N, new Rng(10)));
    const radii = [3, 2.25, 1.5, 0.75];
    const counts = [0, 0, 0, 0];
    let sq = 0;
    for (const [x, y] of pts) {
      const r = Math.hypot(x, y);
      let k = 0;
      for (let q = 1; q < 4; q++) if (Math.abs(r - radii[q]) < Math.abs(r - radii[k])) k = q;
      counts[k]++;
      sq += (r - radii[k]) ** 2;
    }
    for (const c of counts) expect(Math.abs(c - N / 4)).toBeLessThan(250);
    expect(Math.sqrt(sq / N)).toBeCloseTo(0.08, 2);
  });

  it('1d-bimodal: 0.3 N(-2, 0.5^2) + 0.7 N(2, 0.7^2)', () => {
    const x = Array.from(sampleToy('1d-bimodal', N, new Rng(11)));
    const m = mean(x);
    // mean 0.8; variance 0.3 (0.25 + 4) + 0.7 (0.49 + 4) - 0.64 = 3.778
    expect(m).toBeCloseTo(0.8, 1);
    expect(mean(x.map((v) => (v - m) ** 2))).toBeCloseTo(3.778, 1);
    expect(x.filter((v) => v < 0).length / N).toBeCloseTo(0.3015, 1);
  });

  it('ring8 / grid25: the GAN mode sets', () => {
    expect(GAN_MODES.ring8.centres).toHaveLength(8);
    expect(GAN_MODES.ring8.sigma).toBe(0.01);
    for (const c of GAN_MODES.ring8.centres) expect(Math.hypot(c[0], c[1])).toBeCloseTo(1, 12);
    expect(GAN_MODES.grid25.centres).toHaveLength(25);
    expect(GAN_MODES.grid25.sigma).toBe(0.05);
    const grid = new Set(GAN_MODES.grid25.centres.map((c) => c.join(',')));
    for (const a of [-4, -2, 0, 2, 4]) for (const b of [-4, -2, 0, 2, 4]) expect(grid.has(`${a},${b}`)).toBe(true);
    for (const name of ['ring8', 'grid25'] as const) {
      const { centres, sigma } = GAN_MODES[name];
      let worst = 0;
      for (const [x, y] of rows(sampleToy(name, 2000, new Rng(12)))) {
        worst = Math.max(worst, Math.min(...centres.map((c) => Math.hypot(x - c[0], y - c[1]))));
      }
      expect(worst).toBeLessThan(6 * sigma);
    }
    expect(toyModes('ring8')).toBe(GAN_MODES.ring8);
    expect(toyModes('8gaussians')).toBe(EIGHT_GAUSSIANS_MODES);
    expect(toyModes('moons')).toBeUndefined();
  });
});
