/**
 * Toy datasets, exactly as defined in docs/REFERENCE.md (the FFJORD definitions, which most
 * 2-D papers use), but every point drawn i.i.d.: mixture components, arms, rings and angles
 * are drawn per point instead of in fixed proportions or on a linspace. The reference floors
 * (metric between two independent true samples) are only valid for i.i.d. samples.
 */
import { BUNDLED_DATASETS } from '../../nodes/common/dataset';
import type { Rng } from './rng';

export const TOY_NAMES = [
  '8gaussians',
  'moons',
  'swissroll',
  'checkerboard',
  'pinwheel',
  '2spirals',
  'rings',
  '1d-bimodal',
  'ring8',
  'grid25',
] as const;

export type ToyName = (typeof TOY_NAMES)[number];

/** Dimension of each toy set (all 2-D except 1d-bimodal), from the dataset node's table. */
export const TOY_DIMS = Object.fromEntries(TOY_NAMES.map((n) => [n, BUNDLED_DATASETS[n]])) as Record<ToyName, number>;

export function isToyName(name: string): name is ToyName {
  return (TOY_NAMES as readonly string[]).includes(name);
}

/** Isotropic Gaussian mixture modes with equal weights and a common sigma. */
export interface Modes {
  centres: number[][];
  sigma: number;
}

/** FFJORD divides 8gaussians by 1.414 (not sqrt 2); kept for comparability. */
const EIGHT_GAUSS_DIV = 1.414;

/** 8gaussians: centres 4*(cos k45deg, sin k45deg)/1.414 (radius 2.829), sigma 0.5/1.414 = 0.3536. */
export const EIGHT_GAUSSIANS_MODES: Modes = {
  centres: Array.from({ length: 8 }, (_, k) => [
    (4 * Math.cos((k * Math.PI) / 4)) / EIGHT_GAUSS_DIV,
    (4 * Math.sin((k * Math.PI) / 4)) / EIGHT_GAUSS_DIV,
  ]),
  sigma: 0.5 / EIGHT_GAUSS_DIV,
};

/** GAN mode-coverage sets: ring8 = 8 modes on the unit circle (sigma 0.01); grid25 = {-4,-2,0,2,4}^2 (sigma 0.05). */
export const GAN_MODES: Record<'ring8' | 'grid25', Modes> = {
  ring8: {
    centres: Array.from({ length: 8 }, (_, k) => [Math.cos((k * Math.PI) / 4), Math.sin((k * Math.PI) / 4)]),
    sigma: 0.01,
  },
  grid25: {
    centres: Array.from({ length: 25 }, (_, k) => [-4 + 2 * Math.floor(k / 5), -4 + 2 * (k % 5)]),
    sigma: 0.05,
  },
};

/** The modes of the toy sets that are isotropic Gaussian mixtures (for modeCoverage). */
export function toyModes(name: ToyName): Modes | undefined {
  if (name === '8gaussians') return EIGHT_GAUSSIANS_MODES;
  if (name === 'ring8' || name === 'grid25') return GAN_MODES[name];
  return undefined;
}

/** Equal-weight isotropic mixture: pick a centre uniformly, add sigma * N(0, I). */
function sampleMixture(out: Float32Array, n: number, modes: Modes, rng: Rng): void {
  const { centres, sigma } = modes;
  for (let i = 0; i < n; i++) {
    const c = centres[rng.int(centres.length)];
    out[2 * i] = c[0] + sigma * rng.normal();
    out[2 * i + 1] = c[1] + sigma * rng.normal();
  }
}

/**
 * n i.i.d. points of a toy set, row-major (n x dim) in a Float32Array.
 * Deterministic given the state of `rng`.
 */
export function sampleToy(name: ToyName, n: number, rng: Rng): Float32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`sampleToy: n must be a non-negative integer, got ${n}`);
  const dim = TOY_DIMS[name];
  if (dim === undefined) throw new Error(`sampleToy: unknown toy set "${String(name)}"`);
  const out = new Float32Array(n * dim);
  const TAU = 2 * Math.PI;
  switch (name) {
    case '8gaussians': {
      // x = 4 (cos k45, sin k45) + 0.5 N(0, I), k ~ U{0..7}; then x / 1.414
      sampleMixture(out, n, EIGHT_GAUSSIANS_MODES, rng);
      break;
    }
    case 'moons': {
      // sklearn make_moons (noise 0.1), moon chosen per point, angle t ~ U[0, pi]:
      // outer (cos t, sin t), inner (1 - cos t, 1 - sin t - 0.5); + 0.1 N(0, I); then *2 + (-1, -0.2)
      for (let i = 0; i < n; i++) {
        const t = Math.PI * rng.uniform();
        let x: number;
        let y: number;
        if (rng.uniform() < 0.5) {
          x = Math.cos(t);
          y = Math.sin(t);
        } else {
          x = 1 - Math.cos(t);
          y = 0.5 - Math.sin(t);
        }
        x += 0.1 * rng.normal();
        y += 0.1 * rng.normal();
        out[2 * i] = 2 * x - 1;
        out[2 * i + 1] = 2 * y - 0.2;
      }
      break;
    }
    case 'swissroll': {
      // sklearn make_swiss_roll (noise 1), coordinates (x, z): t = 1.5 pi (1 + 2U);
      // (t cos t, t sin t) + N(0, I); then / 5
      for (let i = 0; i < n; i++) {
        const t = 1.5 * Math.PI * (1 + 2 * rng.uniform());
        out[2 * i] = (t * Math.cos(t) + rng.normal()) / 5;
        out[2 * i + 1] = (t * Math.sin(t) + rng.normal()) / 5;
      }
      break;
    }
    case 'checkerboard': {
      // x1 = 4U - 2; x2 = U - 2 randint(0, 2) + (floor(x1) mod 2); (x1, x2) * 2
      // (8 squares of side 2 in [-4, 4]^2, area 32; density 1/32)
      for (let i = 0; i < n; i++) {
        const x1 = 4 * rng.uniform() - 2;
        const fl = Math.floor(x1);
        const parity = ((fl % 2) + 2) % 2; // Python's floor mod: always 0 or 1
        const x2 = rng.uniform() - 2 * rng.int(2) + parity;
        out[2 * i] = 2 * x1;
        out[2 * i + 1] = 2 * x2;
      }
      break;
    }
    case 'pinwheel': {
      // 5 arms at rads = 2 pi k / 5; f = (0.3 N + 1, 0.1 N); angle = rads[k] + 0.25 exp(f0);
      // FFJORD: einsum("ti,tij->tj", f, [[cos, -sin], [sin, cos]]), i.e.
      // y = (f0 cos a + f1 sin a, -f0 sin a + f1 cos a); then * 2
      for (let i = 0; i < n; i++) {
        const arm = rng.int(5);
        const f0 = 0.3 * rng.normal() + 1;
        const f1 = 0.1 * rng.normal();
        const a = (TAU * arm) / 5 + 0.25 * Math.exp(f0);
        const c = Math.cos(a);
        const s = Math.sin(a);
        out[2 * i] = 2 * (f0 * c + f1 * s);
        out[2 * i + 1] = 2 * (-f0 * s + f1 * c);
      }
      break;
    }
    case '2spirals': {
      // t = sqrt(U) * 540 deg (radians); d = (-cos(t) t + 0.5 U, sin(t) t + 0.5 U);
      // sign +-1 per point (both spirals); d / 3 + 0.1 N(0, I)
      const maxT = (540 * TAU) / 360;
      for (let i = 0; i < n; i++) {
        const t = Math.sqrt(rng.uniform()) * maxT;
        const dx = -Math.cos(t) * t + 0.5 * rng.uniform();
        const dy = Math.sin(t) * t + 0.5 * rng.uniform();
        const sign = rng.uniform() < 0.5 ? 1 : -1;
        out[2 * i] = (sign * dx) / 3 + 0.1 * rng.normal();
        out[2 * i + 1] = (sign * dy) / 3 + 0.1 * rng.normal();
      }
      break;
    }
    case 'rings': {
      // radius 3 * r, r ~ U{1, .75, .5, .25}; angle ~ U[0, 2 pi); + 0.08 N(0, I)
      for (let i = 0; i < n; i++) {
        const r = 3 * 0.25 * (4 - rng.int(4));
        const a = TAU * rng.uniform();
        out[2 * i] = r * Math.cos(a) + 0.08 * rng.normal();
        out[2 * i + 1] = r * Math.sin(a) + 0.08 * rng.normal();
      }
      break;
    }
    case '1d-bimodal': {
      // 0.3 N(-2, 0.5^2) + 0.7 N(2, 0.7^2)
      for (let i = 0; i < n; i++) {
        out[i] = rng.uniform() < 0.3 ? -2 + 0.5 * rng.normal() : 2 + 0.7 * rng.normal();
      }
      break;
    }
    case 'ring8':
    case 'grid25': {
      sampleMixture(out, n, GAN_MODES[name], rng);
      break;
    }
    default: {
      const never: never = name;
      throw new Error(`sampleToy: unknown toy set "${String(never)}"`);
    }
  }
  return out;
}
