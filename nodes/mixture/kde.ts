import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { gaussianMixture } from '../core/dists';
import { flatSize, tensorShape } from '../core/objective';
import type { Ops } from '../core/ops';
import { logSumExp, reduceMax } from '../core/reduce';
import type { DistValue } from '../core/values';

/** multiples of Scott's bandwidth the held-out rule chooses among */
export const BANDWIDTH_GRID = [0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1, 1.2, 1.5, 2] as const;

/** points the held-out rule scores by leave-one-out likelihood */
export const LOO_POINTS = 256;

/** per-dimension bandwidth factor times sigma_d for n points in d dimensions (scipy's gaussian_kde) */
export function bandwidthFactor(rule: 'scott' | 'silverman', n: number, d: number): number {
  // Scott (1992): n^(-1/(d+4));  Silverman (1986): (n (d+2) / 4)^(-1/(d+4))
  return rule === 'scott' ? n ** (-1 / (d + 4)) : ((n * (d + 2)) / 4) ** (-1 / (d + 4));
}

/**
 * Kernel density estimation (seed 000 section 12; seed 004): the stored points x_1..x_N and
 * a Gaussian kernel of per-dimension bandwidth h,
 *   p(x) = (1/N) sum_i N(x; x_i, diag h^2)
 *   log p(x) = logsumexp_i log N(x; x_i, h^2) - log N.
 * Bandwidth rules, sigma_d the points' standard deviation in dimension d:
 *   Scott      h_d = N^(-1/(d+4)) sigma_d
 *   Silverman  h_d = (N (d+2) / 4)^(-1/(d+4)) sigma_d
 *   held-out   h = c* h_Scott, c* the multiple in BANDWIDTH_GRID with the largest
 *              leave-one-out log-likelihood sum_i log (1/(M-1)) sum_{j != i} N(x_i; x_j, h^2)
 *              of the first M = min(N, LOO_POINTS) points under h = c h_Scott(M); the
 *              multiple carries over to N because the optimal h shrinks like N^(-1/(d+4))
 *              as Scott's rule does (an M x M kernel matrix instead of N x N)
 *   fixed      h_d = `h`
 * "Training" is closed-form steps (optimiser "update"): each keeps the last N training rows seen
 * (one step when the batch holds at least N) and sets h from them. The density exports to ONNX with the points as an initializer.
 */
export const kde = defineNode({
  type: 'mixture.kde',
  version: 1,
  title: 'Kernel density estimate',
  category: 'prior',
  role: 'network',
  inputs: {
    x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'the data (the last `points` training rows seen are stored)' },
  },
  outputs: { p: { type: { kind: 'Dist' }, doc: 'p(x) = (1/N) sum_i N(x; x_i, diag h^2)' } },
  params: z.object({
    /** N: training rows stored (one step stores them all when the batch holds at least N) */
    points: z.number().int().min(2).max(20000).default(2000),
    bandwidth: z.enum(['scott', 'silverman', 'heldout', 'fixed']).default('heldout'),
    /** the bandwidth when `bandwidth` is fixed */
    h: z.number().positive().max(100).default(0.1),
  }),
  math: {
    latex: 'p(x) = \\frac{1}{N} \\sum_{i=1}^N \\mathcal{N}(x; x_i, \\operatorname{diag} h^2),\\qquad h_d^{\\text{Scott}} = N^{-1/(d+4)}\\, \\sigma_d',
    explain:
      'Kernel density estimation puts a small Gaussian on every stored data point and averages them. It has no weights to learn: fitting it means storing the points and choosing the bandwidth h, by Scott\'s or Silverman\'s rule of thumb (h shrinks like N^(-1/(d+4)) times the data\'s spread) or by picking the h under which each point is most likely given all the others (leave-one-out likelihood). Too small an h memorises the points; too large an h blurs the modes.',
  },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [3] } }, params: { points: 16 } },
  exports: [{ kind: 'density', port: 'p', doc: 'log p(x), the stored points as an initializer' }],
  ui: { h: { showWhen: { bandwidth: ['fixed'] } } },
  describe: (p) => ({
    latent: { text: `no learned latent: a mixture of ${p.points} kernels, one per stored point`, rank: 0 },
  }),
  infer(shapes) {
    const x = tensorShape(shapes, 'x');
    if (x.length !== 1) throw new InferError('x', `x must be vectors [B, D], got [B, ${x.join(', ')}]`, 'bad-input');
    return { p: { kind: 'Dist', event: x } };
  },
  build(ctx, p, shapes): { p: DistValue<any>; D: number; points: any } {
    const x = (shapes.x as { shape: number[] }).shape;
    const D = flatSize(x);
    const N = p.points;
    const { ops } = ctx;
    const points = ctx.param('points', [N, D], { kind: 'zeros' });
    const logH = ctx.param('logH', [D], { kind: 'constant', value: Math.log(p.h) });
    const tensors = () => {
      const mu = ops.reshape(points, [1, N, D]);
      // every component has the same scales: logStd [1, N, D]
      return { logits: ops.reshape(ops.fill(ops.sliceAxis(mu, 2, 0, 1), 0), [1, N]), mu, logStd: ops.add(ops.mul(mu, ops.scalar(0)), ops.reshape(logH, [1, 1, D])) };
    };
    return { p: gaussianMixture(ops, tensors, x, N), D, points };
  },
  staticOutputs: ['p'],
  apply: (_ctx, { built }) => ({ p: built.p }),
  update(ctx, { inputs, params, built }) {
    const { ops } = ctx;
    const N = params.points;
    const D = built.D;
    const rows = ops.shape(inputs.x)[0]!;
    // the last N rows seen: the batch first, then the newest of those stored before
    const pts = rows >= N ? ops.sliceAxis(inputs.x, 0, 0, N) : ops.concat([inputs.x, ops.sliceAxis(built.points, 0, 0, N - rows)], 0);
    if (params.bandwidth === 'fixed') return { points: pts, logH: ops.fill(ops.reshape(ops.sliceAxis(pts, 0, 0, 1), [D]), Math.log(params.h)) };
    const centred = ops.sub(pts, ops.mean(pts, [0], true));
    const logSigma = ops.mul(ops.log(ops.add(ops.div(ops.sum(ops.square(centred), [0]), ops.scalar(N - 1)), ops.scalar(1e-12))), ops.scalar(0.5)); // [D]
    const rule = params.bandwidth === 'silverman' ? 'silverman' : 'scott';
    const logScott = ops.add(logSigma, ops.scalar(Math.log(bandwidthFactor(rule, N, D))));
    if (params.bandwidth !== 'heldout') return { points: pts, logH: logScott };
    const M = Math.min(N, LOO_POINTS);
    const logScottM = ops.add(logSigma, ops.scalar(Math.log(bandwidthFactor('scott', M, D))));
    return { points: pts, logH: ops.add(logScott, heldOutLogMultiple(ops, ops.sliceAxis(pts, 0, 0, M), logScottM)) };
  },
});

/**
 * log c* for the held-out rule: the multiple c of the base bandwidth exp(logH) in
 * BANDWIDTH_GRID that maximises the leave-one-out log-likelihood of the points [N, D]
 * (scalar; ties: the mean of the tied log c).
 */
export function heldOutLogMultiple<T>(ops: Ops<T>, pts: T, logH: T): T {
  const [N, D] = ops.shape(pts) as [number, number];
  // squared scaled distances |(x_i - x_j) / h|^2: [N, N]
  const scaled = ops.mul(pts, ops.exp(ops.neg(logH)));
  const sq = ops.sum(ops.square(scaled), [1], true);
  const d2 = ops.maximum(ops.sub(ops.add(sq, ops.transpose(sq)), ops.mul(ops.matmul(scaled, ops.transpose(scaled)), ops.scalar(2))), ops.scalar(0));
  const offDiag = ops.constant(Float32Array.from({ length: N * N }, (_, i) => (i % (N + 1) === 0 ? -1e30 : 0)), [N, N]);
  const sumLogH = ops.sum(logH);
  const scores = BANDWIDTH_GRID.map((c) => {
    // sum_i [logsumexp_{j != i} log N(x_i; x_j, c^2 h^2)] - N log(N - 1)
    const logK = ops.add(ops.mul(d2, ops.scalar(-0.5 / (c * c))), offDiag);
    const perRow = logSumExp(ops, logK, 1);
    const norm = ops.add(ops.mul(ops.add(sumLogH, ops.scalar(D * Math.log(c))), ops.scalar(-1)), ops.scalar(-0.5 * D * Math.log(2 * Math.PI) - Math.log(N - 1)));
    return ops.reshape(ops.add(ops.mean(perRow), norm), [1]);
  });
  const all = ops.concat(scores, 0); // [G]
  const best = ops.step(ops.add(ops.sub(all, reduceMax(ops, all, 0)), ops.scalar(1e-6)));
  const logGrid = ops.constant(Float32Array.from(BANDWIDTH_GRID, (c) => Math.log(c)), [BANDWIDTH_GRID.length]);
  return ops.div(ops.sum(ops.mul(best, logGrid)), ops.sum(best));
}
