/**
 * Sample-based distances between two point clouds, in plain TypeScript (no tfjs).
 *
 * Every function takes flat row-major samples (`x` is n_x rows of `dim` numbers) as a
 * Float32Array, Float64Array or number[]. Inputs are copied once into Float64Array, so the
 * inner loops are monomorphic and allocation-free and the sums are in double precision.
 *
 * Reference floors (two independent true samples, n = 2000) are in docs/REFERENCE.md.
 */
import type { Rng } from '../data/rng';
import type { Modes } from '../data/toy';

export type { Modes };

/** A flat row-major sample: n rows of `dim` coordinates. */
export type Points = ArrayLike<number>;

export interface ModeCoverage {
  /** modes that are the nearest mode of at least one high-quality sample */
  modesCaptured: number;
  totalModes: number;
  /** fraction of samples within 3 sigma (Euclidean) of their nearest mode */
  highQualityFraction: number;
  /** number of high-quality samples per mode (same order as modes.centres) */
  hqPerMode: number[];
}

/** Number of rows of a flat sample, checking the length is a multiple of dim. */
function rowsOf(x: Points, dim: number, what: string): number {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`${what}: dim must be a positive integer, got ${dim}`);
  if (x.length % dim !== 0) {
    throw new RangeError(`${what}: sample length ${x.length} is not a multiple of dim ${dim}`);
  }
  return x.length / dim;
}

function toF64(x: Points): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

// ---------------------------------------------------------------------------------------------
// MMD^2

/**
 * Sum over pairs of the multi-scale RBF kernel, times 6 (the caller divides by 6).
 * Kernel convention: k_h(a, b) = exp(-|a - b|^2 / (2 h^2)), h in {0.1, 0.2, 0.5, 1, 2, 5},
 * i.e. exp(-c d^2) with c = 50, 12.5, 2, 0.5, 0.125, 0.02 (see multiKernel6).
 * When `sym` is true (A = B), sums over i < j only (the caller doubles it).
 */
function kernelSum6(A: Float64Array, na: number, B: Float64Array, nb: number, dim: number, sym: boolean): number {
  let total = 0;
  for (let i = 0; i < na; i++) {
    const oi = i * dim;
    let row = 0;
    const j0 = sym ? i + 1 : 0;
    if (dim === 2) {
      const a0 = A[oi];
      const a1 = A[oi + 1];
      for (let j = j0; j < nb; j++) {
        const d0 = a0 - B[2 * j];
        const d1 = a1 - B[2 * j + 1];
        row += multiKernel6(d0 * d0 + d1 * d1);
      }
    } else {
      for (let j = j0; j < nb; j++) {
        const oj = j * dim;
        let d2 = 0;
        for (let k = 0; k < dim; k++) {
          const d = A[oi + k] - B[oj + k];
          d2 += d * d;
        }
        row += multiKernel6(d2);
      }
    }
    total += row;
  }
  return total;
}

/**
 * 6 x (mean of the six RBF kernels) at squared distance d2, from a single exp: with
 * q = exp(-0.005 d^2) the kernels are q^4 (h = 5), q^25 (h = 2), q^100 (h = 1), q^400 (h = 0.5),
 * q^2500 (h = 0.2) and q^10000 (h = 0.1), by repeated multiplication (relative error about
 * 1e-12 on the narrowest, far below any sampling error). Terms below 1e-250 of the h = 5 term
 * are skipped, which also keeps the arithmetic out of the slow denormal range.
 */
function multiKernel6(d2: number): number {
  const q = Math.exp(-0.005 * d2);
  const q2 = q * q;
  const q4 = q2 * q2; // exp(-0.02 d^2), h = 5
  if (d2 > 4000) return q4;
  const q8 = q4 * q4;
  const b = q8 * q8 * q8 * q; // q^25 = exp(-0.125 d^2), h = 2
  if (d2 > 1400) return q4 + b;
  const b2 = b * b;
  const c = b2 * b2; // q^100 = exp(-0.5 d^2), h = 1
  if (d2 > 300) return q4 + b + c;
  const c2 = c * c;
  const e = c2 * c2; // q^400 = exp(-2 d^2), h = 0.5
  if (d2 > 50) return q4 + b + c + e;
  const c8 = e * e;
  const f = c8 * c8 * c8 * c; // q^2500 = exp(-12.5 d^2), h = 0.2
  if (d2 > 14) return q4 + b + c + e + f;
  const f2 = f * f;
  return q4 + b + c + e + f + f2 * f2; // q^10000 = exp(-50 d^2), h = 0.1
}

/**
 * Unbiased MMD^2 between samples x (m rows) and y (n rows) with the RBF kernel averaged over
 * bandwidths h in {0.1, 0.2, 0.5, 1, 2, 5}, k(a, b) = mean_h exp(-|a - b|^2 / (2 h^2)):
 *
 *   MMD^2_u = 1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(n(n-1)) sum_{i != j} k(y_i, y_j)
 *             - 2/(m n) sum_{i, j} k(x_i, y_j)
 *
 * Unbiased, so it can be slightly negative when x and y come from the same law.
 * Cost O((m + n)^2 dim), one exp per pair; n = m = 2000 in 2-D takes about 0.1-0.2 s.
 */
export function mmd2MultiScale(x: Points, y: Points, dim: number): number {
  const m = rowsOf(x, dim, 'mmd2MultiScale');
  const n = rowsOf(y, dim, 'mmd2MultiScale');
  if (m < 2 || n < 2) throw new RangeError('mmd2MultiScale: need at least 2 rows in each sample');
  const X = toF64(x);
  const Y = toF64(y);
  const kxx = (2 * kernelSum6(X, m, X, m, dim, true)) / (6 * m * (m - 1));
  const kyy = (2 * kernelSum6(Y, n, Y, n, dim, true)) / (6 * n * (n - 1));
  const kxy = kernelSum6(X, m, Y, n, dim, false) / (6 * m * n);
  return kxx + kyy - 2 * kxy;
}

// ---------------------------------------------------------------------------------------------
// Energy distance

/** Sum over pairs of |a_i - b_j| (Euclidean); i < j only when sym. */
function distSum(A: Float64Array, na: number, B: Float64Array, nb: number, dim: number, sym: boolean): number {
  let total = 0;
  for (let i = 0; i < na; i++) {
    const oi = i * dim;
    let row = 0;
    const j0 = sym ? i + 1 : 0;
    if (dim === 2) {
      const a0 = A[oi];
      const a1 = A[oi + 1];
      for (let j = j0; j < nb; j++) {
        const d0 = a0 - B[2 * j];
        const d1 = a1 - B[2 * j + 1];
        row += Math.sqrt(d0 * d0 + d1 * d1);
      }
    } else {
      for (let j = j0; j < nb; j++) {
        const oj = j * dim;
        let d2 = 0;
        for (let k = 0; k < dim; k++) {
          const d = A[oi + k] - B[oj + k];
          d2 += d * d;
        }
        row += Math.sqrt(d2);
      }
    }
    total += row;
  }
  return total;
}

/**
 * Energy distance, V-statistic (diagonal zeros included in the within-sample means):
 *   E = 2 mean_{i,j} |x_i - y_j| - mean_{i,j} |x_i - x_j| - mean_{i,j} |y_i - y_j|  (>= 0).
 * Cost O((m + n)^2 dim).
 */
export function energyDistance(x: Points, y: Points, dim: number): number {
  const m = rowsOf(x, dim, 'energyDistance');
  const n = rowsOf(y, dim, 'energyDistance');
  if (m < 1 || n < 1) throw new RangeError('energyDistance: empty sample');
  const X = toF64(x);
  const Y = toF64(y);
  const exy = distSum(X, m, Y, n, dim, false) / (m * n);
  const exx = (2 * distSum(X, m, X, m, dim, true)) / (m * m);
  const eyy = (2 * distSum(Y, n, Y, n, dim, true)) / (n * n);
  return 2 * exy - exx - eyy;
}

// ---------------------------------------------------------------------------------------------
// Sliced W2

/** True when every value is finite (no NaN, no +-Infinity). */
function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Rows of a flat sample picked uniformly without replacement (partial Fisher–Yates). */
function subsampleRows(X: Float64Array, n: number, k: number, dim: number, rng: Rng): Float64Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const out = new Float64Array(k * dim);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
    out.set(X.subarray(idx[i] * dim, idx[i] * dim + dim), i * dim);
  }
  return out;
}

/**
 * In-place ascending sort of a[lo, hi): quicksort (median-of-three pivot, Hoare partition,
 * recursion on the smaller part) with insertion sort below 24 elements. About 1.7x faster than
 * Float64Array.prototype.sort in V8 for n = 2000, which dominates slicedW2. No NaN handling.
 */
function sortF64(a: Float64Array, lo: number, hi: number): void {
  while (hi - lo > 24) {
    const mid = (lo + hi) >>> 1;
    let x = a[lo];
    let y = a[mid];
    const z = a[hi - 1];
    if (y < x) {
      const t = x;
      x = y;
      y = t;
    }
    if (z < y) {
      y = z < x ? x : z;
    }
    const pivot = y; // the median of a[lo], a[mid], a[hi - 1]
    let i = lo;
    let j = hi - 1;
    for (;;) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i >= j) break;
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
      i++;
      j--;
    }
    if (j + 1 - lo < hi - (j + 1)) {
      sortF64(a, lo, j + 1);
      lo = j + 1;
    } else {
      sortF64(a, j + 1, hi);
      hi = j + 1;
    }
  }
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i];
    let k = i - 1;
    while (k >= lo && a[k] > v) {
      a[k + 1] = a[k];
      k--;
    }
    a[k + 1] = v;
  }
}

/**
 * Sliced Wasserstein-2:  SW2 = sqrt( mean_theta W2^2(theta . X, theta . Y) ),
 * over `directions` random unit vectors theta (normalised Gaussian vectors, i.e. uniform on the
 * sphere). With equal n the 1-D W2^2 between projections is the mean squared difference of the
 * sorted projections. If the sizes differ, the larger sample is subsampled (without
 * replacement) to the smaller size first. Cost O(directions * n log n): about 0.3 s for
 * n = 2000 and 1000 directions. Returns NaN if any coordinate is not finite.
 */
export function slicedW2(x: Points, y: Points, dim: number, rng: Rng, directions = 1000): number {
  const m = rowsOf(x, dim, 'slicedW2');
  const n0 = rowsOf(y, dim, 'slicedW2');
  if (m < 1 || n0 < 1) throw new RangeError('slicedW2: empty sample');
  if (!Number.isInteger(directions) || directions < 1) throw new RangeError('slicedW2: directions must be >= 1');
  let X = toF64(x);
  let Y = toF64(y);
  if (!allFinite(X) || !allFinite(Y)) return NaN;
  const n = Math.min(m, n0);
  if (m > n) X = subsampleRows(X, m, n, dim, rng);
  if (n0 > n) Y = subsampleRows(Y, n0, n, dim, rng);
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  const theta = new Float64Array(dim);
  let acc = 0;
  for (let d = 0; d < directions; d++) {
    let norm2 = 0;
    do {
      norm2 = 0;
      for (let k = 0; k < dim; k++) {
        const g = rng.normal();
        theta[k] = g;
        norm2 += g * g;
      }
    } while (norm2 === 0);
    const inv = 1 / Math.sqrt(norm2);
    for (let k = 0; k < dim; k++) theta[k] *= inv;
    for (let i = 0; i < n; i++) {
      let sx = 0;
      let sy = 0;
      const o = i * dim;
      for (let k = 0; k < dim; k++) {
        sx += theta[k] * X[o + k];
        sy += theta[k] * Y[o + k];
      }
      px[i] = sx;
      py[i] = sy;
    }
    sortF64(px, 0, n);
    sortF64(py, 0, n);
    let s = 0;
    for (let i = 0; i < n; i++) {
      const diff = px[i] - py[i];
      s += diff * diff;
    }
    acc += s / n;
  }
  return Math.sqrt(acc / directions);
}

// ---------------------------------------------------------------------------------------------
// Exact W2 (optimal assignment)

/**
 * Exact Wasserstein-2 between two equal-size empirical measures:
 *   W2 = sqrt( min over permutations pi of (1/n) sum_i |x_i - y_pi(i)|^2 ).
 * For uniform weights on n points each, the optimal transport plan is a permutation
 * (Birkhoff), so this is a linear assignment problem, solved exactly by the Jonker–Volgenant
 * shortest-augmenting-path algorithm (see assignSquaredEuclidean): O(n^3) worst case, O(n)
 * memory (costs are recomputed, no n x n matrix). Fine up to n ~ 1000 interactively; CPU time
 * in 2-D on a slow shared VM core: n = 1000 about 0.3 s; n = 2000 about 1.3 s for two samples
 * of one law, up to 4-8 s when the samples differ grossly (8gaussians vs one Gaussian), since
 * mass then travels far and the augmenting paths get long. Checked against scipy's
 * linear_sum_assignment on 300 random problems (ties included).
 * Throws if the sample sizes differ; returns NaN if any coordinate is not finite.
 */
export function w2Exact(x: Points, y: Points, dim: number): number {
  const n = rowsOf(x, dim, 'w2Exact');
  const ny = rowsOf(y, dim, 'w2Exact');
  if (n !== ny) throw new RangeError(`w2Exact: needs equal sample sizes, got ${n} and ${ny}`);
  if (n === 0) throw new RangeError('w2Exact: empty sample');
  const X = toF64(x);
  const Y = toF64(y);
  if (!allFinite(X) || !allFinite(Y)) return NaN; // (the solver would not terminate on NaN costs)
  const assignment = assignSquaredEuclidean(X, Y, n, dim);
  let total = 0;
  for (let i = 0; i < n; i++) total += sqDist(X, i, Y, assignment[i], dim);
  return Math.sqrt(total / n);
}

function sqDist(A: Float64Array, i: number, B: Float64Array, j: number, dim: number): number {
  let s = 0;
  const oi = i * dim;
  const oj = j * dim;
  for (let k = 0; k < dim; k++) {
    const d = A[oi + k] - B[oj + k];
    s += d * d;
  }
  return s;
}

/**
 * Minimum-cost perfect matching for cost c(i, j) = |x_i - y_j|^2; returns row -> column.
 *
 * LAPJV (Jonker & Volgenant 1987, "A shortest augmenting path algorithm for dense and sparse
 * linear assignment problems"): column reduction, reduction transfer and two passes of
 * augmenting row reduction (an auction-like warm start that assigns most rows cheaply), then
 * one Dijkstra shortest augmenting path per remaining free row on reduced costs
 * c(i, j) - v_j, with lazy price updates. Duals: v (column prices); row duals are implicit,
 * u_i = c(i, row_i) - v_{row_i}, and every assigned row sits on a column of minimum reduced cost.
 * Costs are recomputed from the coordinates instead of stored (no n x n matrix).
 */
export function assignSquaredEuclidean(X: Float64Array, Y: Float64Array, n: number, dim: number): Int32Array {
  const cost = (i: number, j: number): number => {
    const oi = i * dim;
    const oj = j * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const d = X[oi + k] - Y[oj + k];
      s += d * d;
    }
    return s;
  };
  const rowsol = new Int32Array(n).fill(-1); // row -> column
  const colsol = new Int32Array(n).fill(-1); // column -> row
  const v = new Float64Array(n);
  const matches = new Int32Array(n);
  const free = new Int32Array(n);
  let numfree = 0;

  // Column reduction: v_j = min_i c(i, j); assign each column's argmin row if still free.
  for (let j = n - 1; j >= 0; j--) {
    let min = Infinity;
    let imin = 0;
    for (let i = 0; i < n; i++) {
      const c = cost(i, j);
      if (c < min) {
        min = c;
        imin = i;
      }
    }
    v[j] = min;
    if (++matches[imin] === 1) {
      rowsol[imin] = j;
      colsol[j] = imin;
    } else if (v[j] < v[rowsol[imin]]) {
      const j1 = rowsol[imin];
      rowsol[imin] = j;
      colsol[j] = imin;
      colsol[j1] = -1;
    } else {
      colsol[j] = -1;
    }
  }

  // Reduction transfer: rows assigned exactly once pass their slack to their column's price.
  for (let i = 0; i < n; i++) {
    if (matches[i] === 0) {
      free[numfree++] = i;
    } else if (matches[i] === 1) {
      const j1 = rowsol[i];
      let min = Infinity;
      for (let j = 0; j < n; j++) {
        if (j !== j1) {
          const h = cost(i, j) - v[j];
          if (h < min) min = h;
        }
      }
      if (min < Infinity) v[j1] -= min;
    }
  }

  // Augmenting row reduction, twice. Each step lowers a column price, so it terminates, but
  // on geometric costs the chains get long and gain little: at most n continuation steps
  // (stopping early is always valid: de-assigned rows go to the free list).
  let steps = 0;
  const maxSteps = n;
  for (let pass = 0; pass < 2; pass++) {
    let k = 0;
    const prvnumfree = numfree;
    numfree = 0;
    while (k < prvnumfree) {
      const i = free[k++];
      // minimum and second minimum of the reduced cost over columns
      let umin = Infinity;
      let usubmin = Infinity;
      let j1 = 0;
      let j2 = -1;
      for (let j = 0; j < n; j++) {
        const h = cost(i, j) - v[j];
        if (h < usubmin) {
          if (h >= umin) {
            usubmin = h;
            j2 = j;
          } else {
            usubmin = umin;
            umin = h;
            j2 = j1;
            j1 = j;
          }
        }
      }
      let i0 = colsol[j1];
      const strict = umin < usubmin;
      if (strict) {
        v[j1] -= usubmin - umin; // raise row i's best reduced cost to its second best
      } else if (i0 > -1 && j2 >= 0) {
        j1 = j2; // tie: prefer the second column, which may be free
        i0 = colsol[j2];
      }
      rowsol[i] = j1;
      colsol[j1] = i;
      if (i0 > -1) {
        rowsol[i0] = -1;
        if (strict && ++steps < maxSteps) free[--k] = i0; // continue the path with i0
        else free[numfree++] = i0;
      }
    }
  }

  // Shortest augmenting path (Dijkstra) for each remaining free row. The column data are kept
  // in position order (position k holds column pc[k], JV's "collist"), so that the hot scan
  // loop reads memory sequentially. Positions [0, low): ready (distance final);
  // [low, up): at the current minimum distance, to be scanned; [up, n): the rest.
  const pc = new Int32Array(n);
  const pd = new Float64Array(n); // tentative distance (reduced cost of the best path)
  const pv = new Float64Array(n); // column price v_j
  const py = new Float64Array(n * dim); // column coordinates
  const pred = new Int32Array(n); // by column: the row preceding it on the best path
  const swap = (a: number, b: number): void => {
    const t = pc[a];
    pc[a] = pc[b];
    pc[b] = t;
    let f = pd[a];
    pd[a] = pd[b];
    pd[b] = f;
    f = pv[a];
    pv[a] = pv[b];
    pv[b] = f;
    for (let q = 0; q < dim; q++) {
      f = py[a * dim + q];
      py[a * dim + q] = py[b * dim + q];
      py[b * dim + q] = f;
    }
  };
  for (let f = 0; f < numfree; f++) {
    const freerow = free[f];
    py.set(Y.subarray(0, n * dim));
    pv.set(v);
    for (let j = 0; j < n; j++) {
      pd[j] = cost(freerow, j) - v[j];
      pred[j] = freerow;
      pc[j] = j;
    }
    let low = 0;
    let up = 0;
    let last = 0;
    let min = 0;
    let endofpath = -1;
    while (endofpath < 0) {
      if (up === low) {
        // collect all columns at the new minimum distance into [low, up)
        last = low - 1;
        min = pd[up++];
        for (let k = up; k < n; k++) {
          const h = pd[k];
          if (h <= min) {
            if (h < min) {
              up = low;
              min = h;
            }
            swap(k, up++);
          }
        }
        for (let k = low; k < up; k++) {
          if (colsol[pc[k]] < 0) {
            endofpath = pc[k];
            break;
          }
        }
      }
      if (endofpath < 0) {
        // scan the row assigned to the next minimum column: relax all unready columns
        const j1 = pc[low++];
        const i = colsol[j1];
        const h0 = cost(i, j1) - v[j1] - min;
        const oi = i * dim;
        for (let k = up; k < n; k++) {
          let c: number;
          if (dim === 2) {
            const dx = X[oi] - py[2 * k];
            const dy = X[oi + 1] - py[2 * k + 1];
            c = dx * dx + dy * dy;
          } else {
            c = 0;
            for (let q = 0; q < dim; q++) {
              const dq = X[oi + q] - py[k * dim + q];
              c += dq * dq;
            }
          }
          const v2 = c - pv[k] - h0;
          if (v2 < pd[k]) {
            pred[pc[k]] = i;
            pd[k] = v2;
            if (v2 === min) {
              if (colsol[pc[k]] < 0) {
                endofpath = pc[k];
                break;
              }
              swap(k, up++);
            }
          }
        }
      }
    }
    // lazy price update of the ready columns
    for (let k = 0; k <= last; k++) v[pc[k]] += pd[k] - min;
    // flip the alternating path
    let i: number;
    do {
      i = pred[endofpath];
      colsol[endofpath] = i;
      const j1 = endofpath;
      endofpath = rowsol[i];
      rowsol[i] = j1;
    } while (i !== freerow);
  }
  return rowsol;
}

// ---------------------------------------------------------------------------------------------
// Mode coverage (GAN mode-collapse tests: ring8, grid25, 8gaussians)

/**
 * PacGAN / VEEGAN mode coverage: each sample is assigned to its nearest mode centre; it is
 * high quality (HQ) if its Euclidean distance to that centre is at most 3 sigma. A mode is
 * captured when at least one HQ sample has it as nearest.
 * Note: for true samples in 2-D, P(|sigma Z| <= 3 sigma) = 1 - exp(-9/2) = 0.98889
 * (the 99.73 % "3 sigma rule" holds in 1-D only).
 */
export function modeCoverage(samples: Points, dim: number, modes: Modes): ModeCoverage {
  const n = rowsOf(samples, dim, 'modeCoverage');
  const { centres, sigma } = modes;
  const K = centres.length;
  if (K === 0) throw new RangeError('modeCoverage: no modes');
  for (const c of centres) {
    if (c.length !== dim) throw new RangeError(`modeCoverage: centre of length ${c.length}, expected ${dim}`);
  }
  const C = new Float64Array(K * dim);
  for (let k = 0; k < K; k++) for (let t = 0; t < dim; t++) C[k * dim + t] = centres[k][t];
  const S = toF64(samples);
  const r2 = 9 * sigma * sigma;
  const hqPerMode = new Array<number>(K).fill(0);
  let hq = 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    let bestK = -1;
    for (let k = 0; k < K; k++) {
      const d2 = sqDist(S, i, C, k, dim);
      if (d2 < best) {
        best = d2;
        bestK = k;
      }
    }
    if (bestK >= 0 && best <= r2) {
      hq++;
      hqPerMode[bestK]++;
    }
  }
  let captured = 0;
  for (let k = 0; k < K; k++) if (hqPerMode[k] > 0) captured++;
  return {
    modesCaptured: captured,
    totalModes: K,
    highQualityFraction: n === 0 ? 0 : hq / n,
    hqPerMode,
  };
}
