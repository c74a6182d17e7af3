/**
 * Small dense linear algebra over Ops, for L x L systems (L a latent dimension, at most a
 * few dozen): each routine costs O(L) Ops calls on vectors and small matrices, so it runs
 * on every interpreter, exports to ONNX and differentiates like any other composite.
 * Symbols: A symmetric positive definite [L, L], R its lower-triangular Cholesky factor
 * (A = R R^T), B a right-hand side [L, n].
 */
import type { Ops } from './ops';

/**
 * lower-triangular R with A = R R^T, column by column (Golub & Van Loan, alg. 4.2.1); each
 * pivot is at least `minPivot` (default 1e-30), so a semi-definite A gives a finite R
 */
export function cholesky<T>(ops: Ops<T>, A: T, L: number, minPivot?: T): T {
  let R: T | undefined; // the first j columns [L, j]
  for (let j = 0; j < L; j++) {
    // v = A[:, j] - R[:, :j] R[j, :j]^T; R[:, j] = v / sqrt(v_j) on rows >= j
    let v = ops.sliceAxis(A, 1, j, 1);
    if (R) v = ops.sub(v, ops.matmul(R, ops.transpose(ops.sliceAxis(R, 0, j, 1))));
    const d = ops.sqrt(ops.maximum(ops.sliceAxis(v, 0, j, 1), minPivot ?? ops.scalar(1e-30)));
    const below = ops.constant(Float32Array.from({ length: L }, (_, i) => (i >= j ? 1 : 0)), [L, 1]);
    const col = ops.mul(ops.div(v, d), below);
    R = R ? ops.concat([R, col], 1) : col;
  }
  return R!;
}

/** Y with R Y = B, by forward substitution row by row: y_j = (b_j - R[j, :j] Y[:j]) / R[j, j] */
export function forwardSolve<T>(ops: Ops<T>, R: T, B: T, L: number): T {
  const rows: T[] = [];
  for (let j = 0; j < L; j++) {
    const rj = ops.sliceAxis(R, 0, j, 1); // [1, L]
    let b = ops.sliceAxis(B, 0, j, 1); // [1, n]
    if (j > 0) b = ops.sub(b, ops.matmul(ops.sliceAxis(rj, 1, 0, j), ops.concat(rows, 0)));
    rows.push(ops.div(b, ops.sliceAxis(rj, 1, j, 1)));
  }
  return ops.concat(rows, 0);
}

/** log det A = 2 sum_i log R_ii from A's Cholesky factor R */
export function logDetFromCholesky<T>(ops: Ops<T>, R: T, L: number): T {
  const diag = ops.sum(ops.mul(R, eye(ops, L)), [1]);
  return ops.mul(ops.sum(ops.log(diag)), ops.scalar(2));
}

/** A^-1 = R^-T R^-1 for symmetric positive definite A */
export function spdInverse<T>(ops: Ops<T>, A: T, L: number): T {
  const Rinv = forwardSolve(ops, cholesky(ops, A, L), eye(ops, L), L);
  return ops.matmul(ops.transpose(Rinv), Rinv);
}

/** the L x L identity as a constant */
export function eye<T>(ops: Ops<T>, L: number): T {
  return ops.constant(Float32Array.from({ length: L * L }, (_, k) => (k % (L + 1) === 0 ? 1 : 0)), [L, L]);
}
