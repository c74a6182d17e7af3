import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvError } from './csv';
import { DATASET_NAMES, DatasetRef, datasetDim, openDataset } from './datasets';
import { MNIST_DIM } from './mnist';
import { EIGHT_GAUSSIANS_MODES, GAN_MODES, TOY_NAMES } from './toy';

let dir = '';
let csvPath = '';
let csvPathNoHeader = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'genloom-datasets-'));
  csvPath = join(dir, 'points.csv');
  // 20 rows: x = i, y = -i, label text column
  const lines = ['x,y,label'];
  for (let i = 0; i < 20; i++) lines.push(`${i},${-i},p${i}`);
  writeFileSync(csvPath, lines.join('\r\n') + '\r\n');
  csvPathNoHeader = join(dir, 'raw.csv');
  writeFileSync(csvPathNoHeader, '1,2,3,4\n5,6,7,8\n');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const sameArray = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

describe('DatasetRef', () => {
  it('lists the toy sets plus mnist and mnist-binary', () => {
    expect(DATASET_NAMES).toEqual([...TOY_NAMES, 'mnist', 'mnist-binary']);
  });

  it('accepts { name } and { csv } and rejects the rest', () => {
    expect(DatasetRef.parse({ name: 'moons' })).toEqual({ name: 'moons' });
    expect(DatasetRef.parse({ csv: 'a.csv' })).toEqual({ csv: 'a.csv' });
    expect(DatasetRef.parse({ csv: 'a.csv', columns: ['x'] })).toEqual({ csv: 'a.csv', columns: ['x'] });
    for (const bad of [{ name: 'cifar' }, { csv: '' }, {}, { name: 'moons', csv: 'a.csv' }, { name: 'moons', extra: 1 }]) {
      expect(DatasetRef.safeParse(bad).success).toBe(false);
    }
  });
});

describe('openDataset: toy sets', () => {
  it('draws fresh, seeded batches and a fixed held-out sample from another stream', () => {
    const a = openDataset({ name: 'moons' }, { seed: 1 });
    const b = openDataset({ name: 'moons' }, { seed: 1 });
    expect(a.dim).toBe(2);
    expect(a.kind).toBe('points');
    expect(a.name).toBe('moons');
    const a1 = a.batch(64);
    const a2 = a.batch(64);
    expect(a1.length).toBe(128);
    expect(sameArray(a1, a2)).toBe(false);
    expect(sameArray(a1, b.batch(64))).toBe(true);
    expect(sameArray(a2, b.batch(64))).toBe(true);
    const h = a.heldOut(64);
    expect(sameArray(h, a.heldOut(64))).toBe(true);
    expect(sameArray(h, a1)).toBe(false);
    expect(sameArray(h, openDataset({ name: 'moons' }, { seed: 2 }).heldOut(64))).toBe(false);
    expect(sameArray(a1, openDataset({ name: 'moons' }, { seed: 2 }).batch(64))).toBe(false);
  });

  it('exposes modes for 8gaussians, ring8 and grid25 only; 1d-bimodal is 1-D', () => {
    expect(openDataset({ name: '8gaussians' }, { seed: 0 }).modes).toBe(EIGHT_GAUSSIANS_MODES);
    expect(openDataset({ name: 'ring8' }, { seed: 0 }).modes).toBe(GAN_MODES.ring8);
    expect(openDataset({ name: 'grid25' }, { seed: 0 }).modes).toBe(GAN_MODES.grid25);
    expect(openDataset({ name: 'rings' }, { seed: 0 }).modes).toBeUndefined();
    const d = openDataset({ name: '1d-bimodal' }, { seed: 0 });
    expect(d.dim).toBe(1);
    expect(d.batch(10).length).toBe(10);
  });

  it('validates its arguments', () => {
    expect(() => openDataset({ name: 'nope' } as unknown as DatasetRef, { seed: 0 })).toThrow();
    expect(() => openDataset({ name: 'moons' }, { seed: 0 }).batch(-1)).toThrow(RangeError);
  });
});

describe('openDataset: mnist', () => {
  it('mnist: 28 x 28 images, epoch batches from train, held-out = test split', () => {
    const d = openDataset({ name: 'mnist' }, { seed: 3 });
    expect(d.kind).toBe('image');
    expect(d.dim).toBe(MNIST_DIM);
    expect(d.imageShape).toEqual([28, 28]);
    expect(d.size).toEqual({ train: 9000, test: 1000 });
    const x = d.batch(32);
    expect(x.length).toBe(32 * MNIST_DIM);
    expect(x.some((v) => v > 0 && v < 1)).toBe(true);
    expect(sameArray(x, openDataset({ name: 'mnist' }, { seed: 3 }).batch(32))).toBe(true);
    expect(sameArray(d.heldOut(10), openDataset({ name: 'mnist' }, { seed: 99 }).heldOut(10))).toBe(true);
    expect(d.heldOut(1000).length).toBe(1000 * MNIST_DIM);
    expect(() => d.heldOut(1001)).toThrow(RangeError);
  });

  it('mnist-binary: fresh binarisation per batch, one fixed binarised test set', () => {
    const d = openDataset({ name: 'mnist-binary' }, { seed: 4 });
    const x = d.batch(16);
    expect(x.every((v) => v === 0 || v === 1)).toBe(true);
    const h = d.heldOut(20);
    expect(h.every((v) => v === 0 || v === 1)).toBe(true);
    expect(sameArray(h, openDataset({ name: 'mnist-binary' }, { seed: 5 }).heldOut(20))).toBe(true);
  });
});

describe('openDataset: csv', () => {
  it('selects numeric columns, holds out the last 10 % of rows, batches from the rest', () => {
    const d = openDataset({ csv: csvPath, columns: ['x', 'y'] }, { seed: 0 });
    expect(d.name).toBe('points.csv');
    expect(d.dim).toBe(2);
    expect(d.size).toEqual({ train: 18, test: 2 });
    expect(Array.from(d.heldOut(2))).toEqual([18, -18, 19, -19]);
    // one epoch of 18 rows visits every training row exactly once
    const seen = new Set<number>();
    for (let k = 0; k < 3; k++) {
      const b = d.batch(6);
      for (let i = 0; i < 6; i++) {
        expect(b[2 * i + 1] + b[2 * i]).toBe(0);
        seen.add(b[2 * i]);
      }
    }
    expect([...seen].sort((p, q) => p - q)).toEqual(Array.from({ length: 18 }, (_, i) => i));
    expect(() => d.heldOut(3)).toThrow(RangeError);
  });

  it('reports CSV errors (the text column is not numeric)', () => {
    expect(() => openDataset({ csv: csvPath }, { seed: 0 })).toThrow(CsvError);
    expect(() => openDataset({ csv: csvPath }, { seed: 0 })).toThrow('line 2, column 3: "p0" is not a number');
  });
});

describe('datasetDim', () => {
  it('knows toy and mnist dims and reads only the CSV header', () => {
    for (const name of TOY_NAMES) expect(datasetDim({ name })).toBe(name === '1d-bimodal' ? 1 : 2);
    expect(datasetDim({ name: 'mnist' })).toBe(784);
    expect(datasetDim({ name: 'mnist-binary' })).toBe(784);
    expect(datasetDim({ csv: csvPath })).toBe(3);
    expect(datasetDim({ csv: csvPath, columns: ['y'] })).toBe(1);
    expect(datasetDim({ csv: csvPathNoHeader })).toBe(4);
  });
});

describe('the dataset node and the data layer', () => {
  it('offer the same bundled datasets with the same dimensions', async () => {
    const { BUNDLED_DATASETS } = await import('../../nodes/common/dataset');
    expect([...DATASET_NAMES].sort()).toEqual(Object.keys(BUNDLED_DATASETS).sort());
    for (const name of DATASET_NAMES) expect(datasetDim({ name }), name).toBe(BUNDLED_DATASETS[name]);
  });
});
