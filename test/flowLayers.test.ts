/**
 * Flow layers on random (not identity) initialisations: inverse(forward(x)) = x, the
 * forward log|det J| equals the log-determinant of a finite-difference Jacobian, the
 * inverse's log-det is its negative, log-dets add through a chain, and a transformed
 * distribution over the chain has log p_Z(f^-1(x)) + log|det d f^-1/dx| (finite
 * differences again). ActNorm's data-dependent initialisation (Glow, sec. 3.1), run by the
 * Trainer: after the first training step the layer maps the data to zero mean and unit
 * variance per dimension, and later steps do not initialise it again.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnyNodeSpec } from '../nodes/core/defineNode';
import { standardNormal } from '../nodes/core/dists';
import type { BijectorValue, DistValue } from '../nodes/core/values';
import { actnorm } from '../nodes/flow/actnorm';
import { affineCoupling } from '../nodes/flow/affineCoupling';
import { permutation, permutationOf } from '../nodes/flow/permutation';
import { transformedDist } from '../nodes/flow/transformedDist';
import { compileDocument } from '../src-main/export/templateFixture';
import { initBackend } from '../src-main/runtime/backend';
import { createFeeds } from '../src-main/runtime/feeds';
import { ParamStore } from '../src-main/runtime/ParamStore';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { Trainer } from '../src-main/runtime/Trainer';
import { applyNode, arr, maxAbsDiff, randomiseStore } from './specHarness';

beforeAll(async () => {
  await initBackend('cpu');
});

/** log|det M| by Gaussian elimination with partial pivoting */
function logAbsDet(M0: number[][]): number {
  const M = M0.map((r) => r.slice());
  const d = M.length;
  let s = 0;
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    s += Math.log(Math.abs(M[c]![c]!));
    for (let r = c + 1; r < d; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k < d; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return s;
}

/** log|det| of the central-difference Jacobian of a map of one row */
function fdLogDet(f: (x: tf.Tensor) => tf.Tensor, x0: number[], h = 1e-2): number {
  const d = x0.length;
  const cols: number[][] = [];
  for (let j = 0; j < d; j++) {
    const plus = x0.slice();
    const minus = x0.slice();
    plus[j]! += h;
    minus[j]! -= h;
    const yp = arr(f(tf.tensor2d([plus])));
    const ym = arr(f(tf.tensor2d([minus])));
    cols.push(yp.map((v, i) => (v - ym[i]!) / (2 * h)));
  }
  return logAbsDet(cols[0]!.map((_, i) => cols.map((c) => c[i]!)));
}

interface LayerCase {
  name: string;
  spec: AnyNodeSpec;
  params: Record<string, unknown>;
  d: number;
  /** whether log|det J| depends on x (couplings) */
  varies: boolean;
}

const CASES: LayerCase[] = [
  { name: 'affine coupling (d = 3)', spec: affineCoupling, params: { dim: 3, hidden: [16], activation: 'tanh' }, d: 3, varies: true },
  { name: 'affine coupling, swapped (d = 4)', spec: affineCoupling, params: { dim: 4, hidden: [16], activation: 'tanh', swap: true }, d: 4, varies: true },
  { name: 'actnorm (d = 3)', spec: actnorm, params: { dim: 3 }, d: 3, varies: false },
  // seed 1: the 4-cycle (2, 0, 3, 1), not an involution, so P and P^T differ
  { name: 'random permutation (d = 4)', spec: permutation, params: { dim: 4, kind: 'random', seed: 1 }, d: 4, varies: false },
];

/** a layer with random weights (std 0.6), composed on `prev` */
function layer(c: LayerCase, ops: TfjsOps, store: ParamStore, id: string, prev?: BijectorValue<tf.Tensor>): BijectorValue<tf.Tensor> {
  const ins: Record<string, BijectorValue<tf.Tensor>> = prev ? { prev } : {};
  const params = prev ? { ...c.params, dim: undefined } : c.params;
  applyNode(c.spec, ins, params, ops, { id, store });
  randomiseStore(store, 0.6, 1000 + id.length * 17, (n) => n.startsWith(`${id}/`) && !n.includes('/state/'));
  return applyNode(c.spec, ins, params, ops, { id, store }).outputs.flow as BijectorValue<tf.Tensor>;
}

const rows = (n: number, d: number, seed: number) => {
  const a = arr(tf.randomNormal([n, d], 0, 1.2, 'float32', seed));
  return Array.from({ length: n }, (_, i) => a.slice(i * d, (i + 1) * d));
};

function checkBijection(bij: BijectorValue<tf.Tensor>, d: number, varies: boolean, seed: number): void {
  const xs = rows(3, d, seed);
  const x = tf.tensor2d(xs);
  const fw = bij.forward(x);
  const inv = bij.inverse(fw.y);
  expect(maxAbsDiff(arr(inv.x), arr(x)), 'inverse(forward(x)) = x').toBeLessThan(1e-4);
  expect(maxAbsDiff(arr(inv.logDet), arr(fw.logDet).map((v) => -v)), 'inverse log-det = -forward log-det').toBeLessThan(1e-4);
  expect(maxAbsDiff(arr(bij.forward(inv.x).y), arr(fw.y))).toBeLessThan(1e-4);
  const ld = arr(fw.logDet);
  const ys = arr(fw.y);
  xs.forEach((x0, r) => {
    expect(ld[r]!, `forward log|det J| at row ${r}`).toBeCloseTo(fdLogDet((t) => bij.forward(t).y, x0), 2);
    const y0 = ys.slice(r * d, (r + 1) * d);
    expect(arr(bij.inverse(tf.tensor2d([y0])).logDet)[0]!, `inverse log|det J| at row ${r}`).toBeCloseTo(fdLogDet((t) => bij.inverse(t).x, y0), 2);
  });
  if (varies) expect(Math.max(...ld) - Math.min(...ld), 'a coupling log-det depends on x').toBeGreaterThan(0.02);
}

describe('flow layers with random weights', () => {
  it.each(CASES)('$name: inverse, log-dets of both directions against finite differences', (c) => {
    const ops = new TfjsOps({ seed: 3 });
    const store = new ParamStore(2);
    const bij = layer(c, ops, store, 'layer');
    if (c.spec !== permutation) expect(Math.abs(arr(bij.forward(tf.tensor2d(rows(1, c.d, 9))).logDet)[0]!), 'not an identity initialisation').toBeGreaterThan(0.05);
    else {
      const perm = permutationOf(4, 'random', 1);
      expect(perm.some((v, i) => perm[v] !== i), 'not an involution').toBe(true);
      const x = rows(2, c.d, 9);
      expect(maxAbsDiff(arr(bij.forward(tf.tensor2d(x)).y), x.flatMap((r) => perm.map((src) => r[src]!)))).toBe(0);
    }
    checkBijection(bij, c.d, c.varies, 40);
    store.dispose();
  });

  it('a chain coupling -> actnorm -> permutation -> coupling (swapped): log-dets add, the inverse runs the layers backwards', () => {
    const ops = new TfjsOps({ seed: 4 });
    const store = new ParamStore(3);
    const [cp, an, pm, cs] = [CASES[0]!, CASES[2]!, CASES[3]!, CASES[1]!].map((c) => ({ ...c, params: { ...c.params, dim: 4 } }));
    let bij = layer(cp!, ops, store, 'c1');
    bij = layer(an!, ops, store, 'act', bij);
    bij = layer(pm!, ops, store, 'perm', bij);
    bij = layer(cs!, ops, store, 'c2', bij);
    expect(bij.layers).toEqual(['c1', 'act', 'perm', 'c2']);
    checkBijection(bij, 4, true, 50);

    // the transformed distribution over the chain, against change of variables by finite differences
    const base = standardNormal(ops, [4]);
    const dist = applyNode(transformedDist, { base, flow: bij }, {}, ops, { id: 'model' }).outputs.dist as DistValue<tf.Tensor>;
    const xs = rows(3, 4, 51);
    const got = arr(dist.logProb(tf.tensor2d(xs)));
    xs.forEach((x0, r) => {
      const z = bij.inverse(tf.tensor2d([x0])).x;
      const want = arr(base.logProb(z))[0]! + fdLogDet((t) => bij.inverse(t).x, x0);
      expect(got[r]!).toBeCloseTo(want, 2);
    });
    store.dispose();
  });
});

describe('actnorm data-dependent initialisation (trained by the Trainer)', () => {
  function flowDoc(dataset: string, dim: number) {
    const nodes: { id: string; type: string; params: Record<string, unknown> }[] = [
      { id: 'data', type: 'data.dataset', params: { dataset } },
      { id: 'base', type: 'prior.standardNormal', params: { dim } },
      { id: 'act', type: 'flow.actnorm', params: { dim } },
      { id: 'model', type: 'flow.transformed', params: {} },
      { id: 'nll', type: 'loss.nll', params: {} },
    ];
    const edges: { from: [string, string]; to: [string, string] }[] = [
      { from: ['base', 'p'], to: ['model', 'base'] },
      { from: ['act', 'flow'], to: ['model', 'flow'] },
      { from: ['data', 'x'], to: ['nll', 'x'] },
      { from: ['model', 'dist'], to: ['nll', 'dist'] },
    ];
    if (dim >= 2) {
      // a coupling on the data side of the actnorm: the actnorm normalises what it is given
      nodes.push({ id: 'c1', type: 'flow.affineCoupling', params: { dim, hidden: [16] } });
      edges[1] = { from: ['act', 'flow'], to: ['c1', 'prev'] };
      edges.push({ from: ['c1', 'flow'], to: ['model', 'flow'] });
    }
    return { nodes, edges };
  }

  /** per-dimension mean and std of the actnorm's normalising direction on held-out data */
  function normalised(trainer: Trainer, feeds: ReturnType<typeof createFeeds>, dim: number): { mean: number[]; std: number[] } {
    const n = 2000;
    const data = feeds.get('data')!.heldOut(n);
    return tf.tidy(() => {
      const [flow] = trainer.runner.evaluate([{ node: 'act', port: 'flow' }], { batchSize: n, mode: 'sample' });
      const x = (flow as BijectorValue<tf.Tensor>).inverse(tf.tensor2d(data, [n, dim])).x;
      const m = tf.moments(x, 0);
      return { mean: arr(m.mean), std: arr(tf.sqrt(m.variance)) };
    });
  }

  it.each([
    ['1d-bimodal', 1],
    ['moons', 2],
  ] as const)('%s: identity before training; zero mean, unit variance after the first step; not re-initialised later', (dataset, dim) => {
    const program = compileDocument(flowDoc(dataset, dim));
    const feeds = createFeeds(program, { seed: 0 });
    const trainer = new Trainer(program, feeds, { seed: 0, batchSize: 256 });
    try {
      const before = normalised(trainer, feeds, dim);
      // the data itself: 1d-bimodal has mean 0.8 and std 1.94
      expect(Math.max(...before.mean.map(Math.abs), ...before.std.map((s) => Math.abs(s - 1)))).toBeGreaterThan(0.3);
      trainer.round(false);
      const after = normalised(trainer, feeds, dim);
      for (let j = 0; j < dim; j++) {
        expect(Math.abs(after.mean[j]!), `mean of dimension ${j}`).toBeLessThan(0.12);
        expect(Math.abs(after.std[j]! - 1), `std of dimension ${j}`).toBeLessThan(0.08);
      }
      const snap = trainer.store.snapshot();
      expect(Array.from(snap.get('state/act/initialised')!.data)).toEqual([1]);
      const bias = Array.from(snap.get('state/act/init.bias')!.data);
      for (let k = 0; k < 20; k++) trainer.round(false);
      expect(Array.from(trainer.store.snapshot().get('state/act/init.bias')!.data)).toEqual(bias);
      const later = normalised(trainer, feeds, dim);
      // 20 Adam steps (lr 1e-3) move the offsets by at most about 0.02
      for (let j = 0; j < dim; j++) expect(Math.abs(later.std[j]! - after.std[j]!)).toBeLessThan(0.05);
    } finally {
      trainer.dispose();
    }
  });
});
