/**
 * The dataset registry shared by the studio and the runtime: toy sets, MNIST and CSV files.
 *
 * Randomness: `openDataset(ref, { seed })` derives independent streams from the seed with
 * Rng.fork: stream 1 for training batches, stream 2 for held-out toy samples, stream 3 for
 * MNIST's dynamic binarisation. Same seed -> same batches.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { CsvFileError, readCsvFile, readCsvHead } from './csv';
import { binariseImages, loadMnist, MNIST_DIM, MNIST_SIDE } from './mnist';
import { Rng } from './rng';
import { isToyName, sampleToy, TOY_DIMS, TOY_NAMES, toyModes, type Modes } from './toy';

export const DATASET_NAMES = [...TOY_NAMES, 'mnist', 'mnist-binary'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** `{ name }` for a built-in set, `{ csv: path }` for numeric columns of a CSV file. */
export const DatasetRef = z.union([
  z.object({ name: z.enum(DATASET_NAMES) }).strict(),
  z
    .object({
      csv: z.string().min(1),
      /** optional subset of columns (header names, or col1, col2, ... without a header) */
      columns: z.array(z.string()).min(1).optional(),
    })
    .strict(),
]);
export type DatasetRef = z.infer<typeof DatasetRef>;

export interface Dataset {
  name: string;
  dim: number;
  imageShape?: [number, number];
  kind: 'points' | 'image';
  /**
   * A fresh training batch, n x dim row-major. Toy sets: drawn i.i.d. fresh each call.
   * MNIST / CSV: sampled from the train split without replacement within an epoch (the split
   * is reshuffled each time it is used up), so batches are uniform over the split.
   */
  batch(n: number): Float32Array;
  /**
   * A held-out sample for evaluation, independent of training draws, and the same on every
   * call with the same n (so successive evaluations compare against one reference).
   * Toy sets: n i.i.d. points from a separate stream. MNIST: the first n images of the test
   * split (mnist-binary: one fixed stochastic binarisation). CSV: the first n of the last 10 %
   * of the rows. Throws if n exceeds the held-out split.
   */
  heldOut(n: number): Float32Array;
  /** Gaussian-mixture modes, for modeCoverage (8gaussians, ring8, grid25) */
  modes?: Modes;
  /** sizes of the finite splits (MNIST, CSV); absent for the infinite toy sets */
  size?: { train: number; test: number };
}

export interface OpenOptions {
  seed: number;
}

/** Streams forked from the user seed. */
const STREAM_TRAIN = 1;
const STREAM_HELD_OUT = 2;
const STREAM_BINARISE = 3;
/** The fixed binarisation of the MNIST test split (the same for every seed, as is customary). */
const MNIST_TEST_BINARISE_SEED = 0x5eed;

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what}: n must be a non-negative integer, got ${n}`);
}

/**
 * Epoch sampler over the rows of a finite table: draws rows without replacement, reshuffling
 * when the pass is used up.
 */
function epochSampler(rows: number, rng: Rng): (n: number) => Uint32Array {
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  let pos = rows; // forces a shuffle on first use
  return (n) => {
    const out = new Uint32Array(n);
    for (let k = 0; k < n; k++) {
      if (pos >= rows) {
        rng.shuffle(order);
        pos = 0;
      }
      out[k] = order[pos++];
    }
    return out;
  };
}

function gatherRows(src: Float32Array, dim: number, idx: Uint32Array): Float32Array {
  const out = new Float32Array(idx.length * dim);
  for (let k = 0; k < idx.length; k++) out.set(src.subarray(idx[k] * dim, idx[k] * dim + dim), k * dim);
  return out;
}

/** A dataset over a finite table split into train and held-out rows. */
function tableDataset(
  base: Omit<Dataset, 'batch' | 'heldOut' | 'size'>,
  train: Float32Array,
  test: Float32Array,
  rng: Rng,
  transformBatch?: (x: Float32Array) => Float32Array,
): Dataset {
  const dim = base.dim;
  const nTrain = train.length / dim;
  const nTest = test.length / dim;
  const next = epochSampler(nTrain, rng);
  return {
    ...base,
    size: { train: nTrain, test: nTest },
    batch(n) {
      checkCount(n, `${base.name}.batch`);
      if (nTrain === 0) throw new RangeError(`${base.name}: the training split is empty`);
      const x = gatherRows(train, dim, next(n));
      return transformBatch ? transformBatch(x) : x;
    },
    heldOut(n) {
      checkCount(n, `${base.name}.heldOut`);
      if (n > nTest) throw new RangeError(`${base.name}: asked for ${n} held-out rows, the split has ${nTest}`);
      return test.slice(0, n * dim);
    },
  };
}

/** Opens a dataset. MNIST is parsed on first use (about 0.4 s) and cached; CSV files are read now. */
export function openDataset(ref: DatasetRef, opts: OpenOptions): Dataset {
  const parsedRef = DatasetRef.parse(ref);
  const root = new Rng(opts.seed);
  const trainRng = root.fork(STREAM_TRAIN);

  if ('csv' in parsedRef) {
    // a regular file of at most MAX_CSV_BYTES (a FIFO or a device is refused at once), as feeds.ts reads it
    const table = readCsvFile(parsedRef.csv, { columns: parsedRef.columns });
    const dim = table.columns.length;
    // last 10 % of the rows held out (at least one row when there are two or more)
    const nTest = table.rows >= 2 ? Math.max(1, Math.floor(table.rows / 10)) : 0;
    const nTrain = table.rows - nTest;
    return tableDataset(
      { name: basename(parsedRef.csv), dim, kind: 'points' },
      table.data.subarray(0, nTrain * dim),
      table.data.subarray(nTrain * dim),
      trainRng,
    );
  }

  const name = parsedRef.name;
  if (name === 'mnist' || name === 'mnist-binary') {
    const train = loadMnist({ split: 'train' }).images;
    const base = { name, dim: MNIST_DIM, kind: 'image' as const, imageShape: [MNIST_SIDE, MNIST_SIDE] as [number, number] };
    if (name === 'mnist') return tableDataset(base, train, loadMnist({ split: 'test' }).images, trainRng);
    // mnist-binary: dynamic (fresh stochastic) binarisation of training batches; one fixed
    // stochastic binarisation of the test split
    const test = loadMnist({ split: 'test', binarise: 'stochastic', rng: new Rng(MNIST_TEST_BINARISE_SEED) }).images;
    const binRng = root.fork(STREAM_BINARISE);
    return tableDataset(base, train, test, trainRng, (x) => binariseImages(x, 'stochastic', binRng));
  }

  if (!isToyName(name)) throw new Error(`openDataset: unknown dataset "${name}"`);
  const dim = TOY_DIMS[name];
  const modes = toyModes(name);
  return {
    name,
    dim,
    kind: 'points',
    ...(modes ? { modes } : {}),
    batch(n) {
      checkCount(n, `${name}.batch`);
      return sampleToy(name, n, trainRng);
    },
    heldOut(n) {
      checkCount(n, `${name}.heldOut`);
      return sampleToy(name, n, root.fork(STREAM_HELD_OUT));
    },
  };
}

/**
 * Reads at most `maxBytes` from the start of a file (enough for a CSV header): a regular
 * file only, opened without blocking (a FIFO or a device is refused at once, CsvFileError).
 */
function readHead(path: string, maxBytes: number): { text: string; truncated: boolean } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CsvFileError(path, code === 'ENOENT' ? 'the file does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (e as Error).message);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new CsvFileError(path, 'it is not a regular file');
    const buf = Buffer.alloc(maxBytes);
    const got = readSync(fd, buf, 0, maxBytes, 0);
    return { text: buf.subarray(0, got).toString('utf8'), truncated: got === maxBytes };
  } finally {
    closeSync(fd);
  }
}

/**
 * The dimension of a dataset without loading it: toy sets and MNIST from constants, CSV from
 * the `columns` option or the first record of the file (only the first 1 MiB is read).
 */
export function datasetDim(ref: DatasetRef): number {
  const parsedRef = DatasetRef.parse(ref);
  if ('csv' in parsedRef) {
    if (parsedRef.columns) return parsedRef.columns.length;
    const head = readHead(parsedRef.csv, 1 << 20);
    let text = head.text;
    // drop a possibly cut final record, unless the first record is all we have
    const cut = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
    if (head.truncated && cut > 0) text = text.slice(0, cut);
    return readCsvHead(text).columns.length;
  }
  const name = parsedRef.name;
  if (name === 'mnist' || name === 'mnist-binary') return MNIST_DIM;
  return TOY_DIMS[name];
}
