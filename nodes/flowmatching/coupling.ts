/**
 * Minibatch optimal-transport coupling (Tong et al. 2023, OT-CFM; Pooladian et al. 2023):
 * pair the noise x0 and the data x1 of a batch by an entropic OT plan instead of
 * independently, so the conditional paths cross less and the learned ODE is straighter.
 *
 *   C_ij = |x0_i - x1_j|^2 / mean C,   P = diag(u) K diag(v) / B^2,   K_ij = exp(-C_ij / eps)
 *   Sinkhorn: u = B / (K v),  v = B / (K^T u)   (uniform marginals 1/B)
 *
 * Then every data point x1_j draws its partner from the plan's column, i ~ P(i | j), by the
 * inverse CDF (a uniform u_j against the column's cumulative sums, in the order of a random
 * key per noise row). Because P's rows have equal mass, the partners are still an unbiased
 * draw of the batch's noise: the marginal of x0 stays N(0, I). No gradient flows through
 * the coupling (it only reorders samples).
 *
 * Small eps is reached by annealing with absorbed potentials (see sinkhornColumns).
 */
import type { Ops } from '../core/ops';

export interface SinkhornOptions {
  /** entropic regularisation relative to the mean cost */
  eps: number;
  /** scaling iterations in all (spread over the annealing stages) */
  iters: number;
}

/** annealing: eps starts at the mean cost and halves each stage down to the target */
export function epsSchedule(eps: number, iters: number): { eps: number; iters: number }[] {
  const stages: number[] = [];
  for (let e = 1; e > eps; e /= 2) stages.push(e);
  stages.push(eps);
  const per = Math.max(1, Math.floor(iters / stages.length));
  return stages.map((e, k) => ({ eps: e, iters: k === stages.length - 1 ? Math.max(1, iters - per * (stages.length - 1)) : per }));
}

/**
 * The plan's columns P(i | j) [B_noise, B_data] (each column sums to 1).
 *
 * Stabilised Sinkhorn (Schmitzer 2019, absorption and eps-scaling): the scalings are
 * absorbed into potentials f, g after every stage and the kernel is rebuilt as
 * K_ij = exp((f_i + g_j - C_ij) / eps) = B^2 P_ij near the fixed point, so its entries stay
 * below ~B and every row keeps an entry >= 1 while eps shrinks; tiny entries underflow
 * harmlessly. (Ops has no max reduction, so a log-sum-exp could not be stabilised.)
 */
export function sinkhornColumns<T>(ops: Ops<T>, x0: T, x1: T, o: SinkhornOptions): T {
  const a = ops.stopGradient(x0);
  const b = ops.stopGradient(x1);
  // |a_i - b_j|^2 = |a_i|^2 + |b_j|^2 - 2 a_i . b_j, clamped at 0 against rounding
  const a2 = ops.sum(ops.square(a), [1], true);
  const b2 = ops.transpose(ops.sum(ops.square(b), [1], true));
  const raw = ops.relu(ops.sub(ops.add(a2, b2), ops.mul(ops.matmul(a, ops.transpose(b)), ops.scalar(2))));
  // in units of the mean cost; f starts at the row means so the first kernel is centred
  const cost = ops.div(raw, ops.mean(raw));
  let f = ops.mean(cost, [1], true); // [B, 1]
  let g = ops.mul(f, ops.scalar(0)); // [B, 1], indexed by data row
  const count = ops.sum(ops.onesLike(f)); // B, also where the batch is symbolic
  let w: T | undefined;
  for (const stage of epsSchedule(o.eps, o.iters)) {
    const inv = ops.scalar(1 / stage.eps);
    const K = ops.exp(ops.clip(ops.mul(ops.sub(ops.add(f, ops.transpose(g)), cost), inv), -80, 80));
    const Kt = ops.transpose(K);
    let u = ops.onesLike(f);
    let v = ops.onesLike(g);
    // u = 1 / mean_j(K_ij v_j) = B / (K v)_i,  v = B / (K^T u)_j
    for (let k = 0; k < stage.iters; k++) {
      u = ops.div(count, ops.matmul(K, v));
      v = ops.div(count, ops.matmul(Kt, u));
    }
    const e = ops.scalar(stage.eps);
    f = ops.add(f, ops.mul(ops.log(u), e));
    g = ops.add(g, ops.mul(ops.log(v), e));
    w = ops.mul(ops.mul(K, u), ops.transpose(v));
  }
  return ops.stopGradient(ops.div(w!, ops.sum(w!, [0], true)));
}

/**
 * One draw of a partner for every column of `cols` (P(i | j), [B_noise, B_data]), as a
 * one-hot [B_noise, B_data] matrix. Inverse CDF in the order of a random key per noise row:
 * the partner of j is the noise row whose rank r_i (its position in key order) equals the
 * number of rows whose cumulative mass before them is below u_j ~ U(0, 1). Counting makes
 * the pick exactly one-hot even where float rounding leaves a cumulative sum off by an ulp.
 */
export function samplePartners<T>(ops: Ops<T>, cols: T, noiseRows: T, dataRows: T): T {
  const key = ops.randomUniformLike(ops.sliceAxis(noiseRows, 1, 0, 1)); // [B, 1], one per noise row
  // before[k, i] = 1 when noise row k comes before row i in the key order
  const before = ops.step(ops.sub(ops.transpose(key), key));
  const rank = ops.transpose(ops.sum(before, [0], true)); // [B, 1]: 0-based position of row i
  const cdfBefore = ops.matmul(ops.transpose(before), cols); // [i, j] = sum_{k before i} P(k | j)
  const u = ops.transpose(ops.clip(ops.randomUniformLike(ops.sliceAxis(dataRows, 1, 0, 1)), 1e-7, 1)); // [1, B]
  const chosen = ops.sub(ops.sum(ops.step(ops.sub(u, cdfBefore)), [0], true), ops.scalar(1)); // [1, B]: position of j's partner
  return ops.stopGradient(ops.step(ops.sub(ops.scalar(0.5), ops.abs(ops.sub(rank, chosen)))));
}

/** the noise re-paired to the data by the minibatch OT plan: row j is x1_j's partner */
export function otPartners<T>(ops: Ops<T>, x0: T, x1: T, o: SinkhornOptions): T {
  const cols = sinkhornColumns(ops, x0, x1, o);
  const pick = samplePartners(ops, cols, x0, x1);
  return ops.matmul(ops.transpose(pick), x0);
}
