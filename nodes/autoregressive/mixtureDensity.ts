import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { gaussianMixture } from '../core/dists';
import { buildMlp, mlpFields, type Mlp } from '../core/mlp';
import { flatSize, tensorShape } from '../core/objective';
import type { Ops } from '../core/ops';
import type { DistValue } from '../core/values';

/**
 * An autoregressive density with mixture-density conditionals (seed 000 section 1; seed 001
 * section 3; Bishop 1994 for the mixture density network):
 *   p(x) = prod_{j=1}^D p(x_j | x_<j),
 *   p(x_j | x_<j) = sum_k pi_jk(x_<j) N(x_j; mu_jk(x_<j), sigma_jk(x_<j)^2)
 * The first conditional has no inputs: its K weights, means and scales are parameters; each
 * later one is an MLP of x_<j with 3K outputs (logits, means, log-scales; log-scales clipped
 * to [-7, 3]). The likelihood is exact: a sum of D one-dimensional log-mixtures. Sampling
 * is sequential: x_1 first, then each x_j given the ones drawn before it.
 */
export const mixtureDensity = defineNode({
  type: 'ar.mixtureDensity',
  version: 1,
  title: 'Autoregressive mixture density',
  category: 'network',
  role: 'network',
  inputs: { x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'data vectors (they fix the dimension D)' } },
  outputs: { p: { type: { kind: 'Dist' }, doc: 'p(x) = prod_j p(x_j | x_<j), each a Gaussian mixture' } },
  params: z.object({ components: z.number().int().min(1).max(64).default(10), ...mlpFields, hidden: mlpFields.hidden.default([64, 64]) }),
  math: {
    latex: 'p(x) = \\prod_{j=1}^{D} p(x_j \\mid x_{<j}),\\qquad p(x_j \\mid x_{<j}) = \\sum_{k=1}^{K} \\pi_{jk}(x_{<j})\\, \\mathcal{N}\\big(x_j; \\mu_{jk}(x_{<j}), \\sigma_{jk}^2(x_{<j})\\big)',
    explain:
      'The chain rule of probability turns one hard D-dimensional density into D one-dimensional ones: the first coordinate on its own, then each coordinate given those before it. A small network reads the earlier coordinates and outputs the weights, means and widths of a mixture of Gaussians for the next one (a mixture density network), so each conditional can have several modes. The likelihood is exact; sampling draws one coordinate at a time.',
  },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [3] } }, params: { components: 3, hidden: [8] } },
  exports: [{ kind: 'density', port: 'p', doc: 'log p(x), the D conditionals summed' }],
  describe: (p) => ({ latent: { text: `no latent variable: the chain rule over coordinates, each conditional a ${p.components}-component mixture`, rank: 0 } }),
  infer(shapes) {
    return { p: { kind: 'Dist', event: tensorShape(shapes, 'x') } };
  },
  build(ctx, p, shapes): { p: DistValue<any> } {
    const event = (shapes.x as { shape: number[] }).shape;
    const D = flatSize(event);
    const K = p.components;
    const { ops } = ctx;
    const first = {
      logits: ctx.param('first.logits', [K], { kind: 'zeros' }),
      mu: ctx.param('first.mu', [K], { kind: 'normal', std: 1 }),
      logStd: ctx.param('first.logStd', [K], { kind: 'zeros' }),
    };
    const nets: Mlp<any>[] = Array.from({ length: D - 1 }, (_, j) => buildMlp(ctx, j + 1, p.hidden, 3 * K, p.activation, { prefix: `c${j + 1}` }));
    /** the mixture over x_j given x_<j (j = 0: the parameters) */
    const conditional = (j: number, before: any): DistValue<any> => {
      if (j === 0) return gaussianMixture(ops, () => ({ logits: ops.reshape(first.logits, [1, K]), mu: ops.reshape(first.mu, [1, K, 1]), logStd: ops.reshape(first.logStd, [1, K, 1]) }), [1], K);
      const out = nets[j - 1]!(before);
      return gaussianMixture(ops, () => splitMixture(ops, out, K), [1], K);
    };
    const dist: DistValue<any> = {
      kind: 'Dist',
      family: 'autoregressive',
      event,
      // log p(x) = sum_j log p(x_j | x_<j)
      logProb: (x) => {
        const flat = ops.reshape(x, [-1, D]);
        let total: any;
        for (let j = 0; j < D; j++) {
          const lp = conditional(j, j ? ops.sliceAxis(flat, 1, 0, j) : undefined).logProb(ops.sliceAxis(flat, 1, j, 1));
          total = total === undefined ? lp : ops.add(total, lp);
        }
        return total;
      },
      sample: (n) => {
        let drawn = conditional(0, undefined).sample(n);
        for (let j = 1; j < D; j++) drawn = ops.concat([drawn, conditional(j, drawn).sample(n)], 1);
        return ops.stopGradient(ops.reshape(drawn, [-1, ...event]));
      },
      params: {},
    };
    return { p: dist };
  },
  staticOutputs: ['p'],
  apply: (_ctx, { built }) => ({ p: built.p }),
});

/** an MDN head's 3K outputs [B, 3K] as mixture tensors over one dimension: logits [B, K], mu and logStd [B, K, 1] */
function splitMixture<T>(ops: Ops<T>, out: T, K: number) {
  return {
    logits: ops.sliceAxis(out, 1, 0, K),
    mu: ops.reshape(ops.sliceAxis(out, 1, K, K), [-1, K, 1]),
    logStd: ops.reshape(ops.clip(ops.sliceAxis(out, 1, 2 * K, K), -7, 3), [-1, K, 1]),
  };
}
