import { z } from 'zod';
import { defineNode, readState, writeState } from '../core/defineNode';
import { gaussianMixture as mixtureDist, mixtureResponsibilities } from '../core/dists';
import { flatSize, tensorShape } from '../core/objective';
import type { Ops } from '../core/ops';
import { reduceMax } from '../core/reduce';
import type { DistValue } from '../core/values';

/**
 * A Gaussian mixture (seed 000 section 12; Bishop, PRML section 9.2), trained by EM or by
 * gradient. Symbols: pi_k weights (softmax of logits), mu_k means, sigma_k per-dimension
 * scales, r_bk responsibilities, N_k = sum_b r_bk.
 *
 * EM step on a batch x_1..x_B (PRML eqs 9.23-9.27, diagonal covariances):
 *   E:  r_bk = pi_k N(x_b; mu_k, sigma_k^2) / sum_j pi_j N(x_b; mu_j, sigma_j^2)
 *   M:  pi_k = N_k / B,  mu_k = sum_b r_bk x_b / N_k,
 *       sigma_k^2 = max(sum_b r_bk (x_b - mu_k)^2 / N_k, sigma_min^2)
 * Each EM step cannot lower the log-likelihood of the batch it is taken on (the floor is the
 * maximiser of the M-step's objective under the constraint sigma >= sigma_min).
 *
 * Initialisation from data (`init: 'data'`): the first EM step starts from K means picked
 * from the batch by farthest-first traversal (Gonzalez 1985: the first row, then each time
 * the row farthest from those picked), equal weights and the data's per-dimension spread;
 * a state flag records that it was done, so later steps (and a resumed run) start from
 * the current parameters.
 */
export const gaussianMixture = defineNode({
  type: 'mixture.gaussian',
  version: 1,
  title: 'Gaussian mixture',
  category: 'prior',
  role: 'network',
  inputs: {
    x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'the data the mixture is fitted to (its shape fixes the dimension; the EM step reads it)' },
  },
  outputs: {
    p: { type: { kind: 'Dist' }, doc: 'p(x) = sum_k pi_k N(x; mu_k, diag sigma_k^2)' },
  },
  params: z.object({
    components: z.number().int().min(1).max(256).default(8),
    /** data: the first EM step seeds the means from the batch; random: N(0, 1) means */
    init: z.enum(['data', 'random']).default('data'),
    /** smallest standard deviation the M-step may set */
    minStd: z.number().positive().max(10).default(1e-3),
  }),
  math: {
    latex:
      'p(x) = \\sum_{k=1}^K \\pi_k\\, \\mathcal{N}(x; \\mu_k, \\operatorname{diag}\\sigma_k^2),\\quad r_{bk} = \\frac{\\pi_k \\mathcal{N}(x_b; \\mu_k, \\sigma_k^2)}{\\sum_j \\pi_j \\mathcal{N}(x_b; \\mu_j, \\sigma_j^2)},\\quad \\mu_k \\leftarrow \\frac{\\sum_b r_{bk} x_b}{\\sum_b r_{bk}}',
    explain:
      'A mixture of K Gaussians: pick a component k with probability pi_k, then draw from its Gaussian. Its log-likelihood is exact (a log-sum-exp over components). It can be trained by gradient like any density, or by expectation-maximisation, which needs no learning rate: the E-step computes how responsible each component is for each point, the M-step refits every weight, mean and variance in closed form from those responsibilities, and no EM step can lower the likelihood. Set the objective\'s optimiser to "update" to train by EM.',
  },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [3] } }, params: { components: 4, init: 'random' } },
  exports: [{ kind: 'density', port: 'p', doc: 'log p(x) of the mixture' }],
  ui: { minStd: { advanced: true } },
  describe: (p) => ({
    latent: { text: `a discrete latent k in 1..${p.components}: which component drew x`, rank: 1 },
  }),
  infer(shapes) {
    const x = tensorShape(shapes, 'x');
    return { p: { kind: 'Dist', event: x } };
  },
  build(ctx, p, shapes): { p: DistValue<any>; logits: any; mu: any; logStd: any } {
    const x = (shapes.x as { shape: number[] }).shape;
    const K = p.components;
    const D = flatSize(x);
    const logits = ctx.param('logits', [K], { kind: 'zeros' });
    const mu = ctx.param('mu', [K, D], { kind: 'normal', std: 1 });
    const logStd = ctx.param('logStd', [K, D], { kind: 'zeros' });
    const { ops } = ctx;
    const tensors = () => ({ logits: ops.reshape(logits, [1, K]), mu: ops.reshape(mu, [1, K, D]), logStd: ops.reshape(logStd, [1, K, D]) });
    return { p: mixtureDist(ops, tensors, x, K), logits, mu, logStd };
  },
  staticOutputs: ['p'],
  apply: (_ctx, { built }) => ({ p: built.p }),
  update(ctx, { inputs, params, built }) {
    const { ops } = ctx;
    const K = params.components;
    const x = inputs.x;
    const D = ops.shape(x)[1]!;
    let dist = built.p;
    if (params.init === 'data') {
      // s = 1 once seeded: (logits, mu, logStd) <- s * current + (1 - s) * seeded from this batch
      const s = readState(ctx, 'seeded', [1], { kind: 'zeros' });
      const blend = (cur: any, seed: any) => ops.add(ops.mul(s, cur), ops.mul(ops.sub(ops.scalar(1), s), seed));
      const spread = ops.mul(ops.log(ops.add(ops.mean(ops.square(ops.sub(x, ops.mean(x, [0], true))), [0], true), ops.scalar(1e-12))), ops.scalar(0.5));
      const mu = blend(ops.reshape(built.mu, [1, K, D]), ops.reshape(farthestFirst(ops, x, K), [1, K, D]));
      const logStd = blend(ops.reshape(built.logStd, [1, K, D]), ops.reshape(spread, [1, 1, D]));
      const logits = ops.mul(s, ops.reshape(built.logits, [1, K]));
      dist = mixtureDist(ops, () => ({ logits, mu, logStd }), [D], K);
      writeState(ctx, 'seeded', ops.onesLike(s));
    }
    const r = mixtureResponsibilities(ops, dist, x); // [B, K]
    const nk = ops.maximum(ops.sum(r, [0]), ops.scalar(1e-8)); // [K]
    const mu = ops.div(ops.matmul(ops.transpose(r), x), ops.reshape(nk, [K, 1])); // [K, D]
    const dev = ops.square(ops.sub(ops.reshape(x, [-1, 1, D]), ops.reshape(mu, [1, K, D]))); // [B, K, D]
    const variance = ops.div(ops.sum(ops.mul(dev, ops.reshape(r, [-1, K, 1])), [0]), ops.reshape(nk, [K, 1]));
    const floor = params.minStd * params.minStd;
    return {
      logits: ops.log(ops.div(nk, ops.sum(nk))),
      mu,
      logStd: ops.mul(ops.log(ops.maximum(variance, ops.scalar(floor))), ops.scalar(0.5)),
    };
  },
});

/**
 * K rows of x [B, D] by farthest-first traversal: row 0, then each time the row whose
 * distance to the nearest row picked so far is largest (ties: their mean). [K, D]
 */
export function farthestFirst<T>(ops: Ops<T>, x: T, K: number): T {
  const picked = [ops.sliceAxis(x, 0, 0, 1)];
  const dist2 = (c: T) => ops.sum(ops.square(ops.sub(x, c)), [1], true); // [B, 1]
  let nearest = dist2(picked[0]!);
  for (let k = 1; k < K; k++) {
    const far = reduceMax(ops, nearest, 0); // [1, 1]
    // 1 on the row(s) at the largest distance (a relative margin keeps exact ties; all rows when every distance is 0)
    const hit = ops.step(ops.add(ops.sub(nearest, ops.mul(far, ops.scalar(1 - 1e-6))), ops.scalar(1e-30)));
    const c = ops.div(ops.matmul(ops.transpose(hit), x), ops.sum(hit));
    picked.push(c);
    nearest = ops.minimum(nearest, dist2(c));
  }
  return ops.concat(picked, 0);
}
