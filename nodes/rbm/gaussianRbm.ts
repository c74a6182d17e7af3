import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { gaussianMixture } from '../core/dists';
import { flatSize, tensorShape } from '../core/objective';
import type { Ops } from '../core/ops';
import type { DistValue } from '../core/values';
import { freeEnergy, type RbmFn } from './rbmOps';

/**
 * A Gaussian-Bernoulli RBM (rbmOps.ts) over real-valued vectors, with a learned sigma per
 * visible dimension, trained like the binary RBM by contrastive divergence. With few hidden
 * units (H <= 16) its density is exact: completing the square in v,
 *   p(v) = sum_h pi_h N(v; b + sigma o (W h), diag sigma^2),
 *   log pi_h = c.h + sum_i (b_i m_i / sigma_i + m_i^2 / 2) - log Z',  m = W h,
 * a mixture of 2^H Gaussians with one shared covariance, whose means are sums of the
 * columns of sigma o W: a distributed code, one component per on/off pattern of the hidden
 * units. Its output `p` is that mixture (exact log-likelihood, exact ancestral samples).
 */
export const rbmGaussian = defineNode({
  type: 'rbm.gaussianBernoulli',
  version: 1,
  title: 'Gaussian-Bernoulli RBM',
  category: 'network',
  role: 'network',
  inputs: { x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'real-valued data (fixes the number of visible units); F(v) is reported on it' } },
  outputs: {
    freeEnergy: { type: { kind: 'Tensor' }, doc: 'F(v) on the input, one scalar per row' },
    fn: { type: { kind: 'Fn' }, doc: 'the RBM: F(v) as a function, with W, b, c and sigma for Gibbs sampling' },
    p: { type: { kind: 'Dist' }, doc: 'p(v), exact: a mixture of 2^H Gaussians' },
  },
  params: z.object({
    /** H: binary hidden units (2^H mixture components) */
    hidden: z.number().int().min(1).max(16).default(12),
    /** standard deviation of the initial weights */
    initStd: z.number().positive().max(1).default(0.1),
    /** learn sigma (else sigma = 1: standardise the data first) */
    learnSigma: z.boolean().default(true),
  }),
  math: {
    latex:
      'E(v, h) = \\sum_i \\frac{(v_i - b_i)^2}{2\\sigma_i^2} - c^\\top h - \\Big(\\frac{v}{\\sigma}\\Big)^{\\!\\top} W h,\\qquad p(v) = \\sum_{h \\in \\{0,1\\}^H} \\pi_h\\, \\mathcal{N}\\big(v;\\ b + \\sigma \\odot W h,\\ \\operatorname{diag}\\sigma^2\\big)',
    explain:
      'An RBM whose visible units are real numbers: given the hidden units, each visible unit is a Gaussian around b + sigma W h. Summing out the hidden units shows what it is: a mixture of 2^H Gaussians sharing one covariance, whose centres are all the sums of subsets of the columns of W, each weighted through the biases. H hidden units give 2^H components from only H weight vectors, a distributed representation. It trains by contrastive divergence like the binary RBM; with a handful of hidden units its likelihood can be computed exactly by enumerating the patterns.',
  },
  ui: { hidden: { units: 'units' }, initStd: { advanced: true }, learnSigma: { advanced: true } },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [2] } }, params: { hidden: 3 } },
  exports: [
    { kind: 'energy', port: 'fn', doc: 'the free energy F(v) and -grad_v F' },
    { kind: 'density', port: 'p', doc: 'log p(v), exact (2^H components)' },
  ],
  evaluators: [{ kind: 'nll', dist: 'p' }],
  describe: (p) => ({ latent: { text: `${p.hidden} binary hidden units over real-valued data: a mixture of 2^${p.hidden} Gaussians, summed out in closed form`, rank: 1 } }),
  infer(shapes) {
    const x = tensorShape(shapes, 'x');
    if (x.length !== 1) throw new InferError('x', `a Gaussian-Bernoulli RBM takes flat vectors [B, D], got [B, ${x.join(', ')}]`);
    return { freeEnergy: { kind: 'Tensor', shape: [1] }, fn: { kind: 'Fn', in: x, out: [1], timeConditioned: false }, p: { kind: 'Dist', event: x } };
  },
  build(ctx, p, shapes): { fn: RbmFn<any>; p: DistValue<any> } {
    const { ops } = ctx;
    const x = (shapes.x as { shape: number[] }).shape;
    const D = flatSize(x);
    const H = p.hidden;
    const W = ctx.param('W', [D, H], { kind: 'normal', std: p.initStd });
    const b = ctx.param('b', [D], { kind: 'zeros' });
    const c = ctx.param('c', [H], { kind: 'zeros' });
    const logSigma = p.learnSigma ? ctx.param('logSigma', [D], { kind: 'zeros' }) : ops.constant(new Array(D).fill(0), [D]);
    const fn: RbmFn<any> = {
      kind: 'Fn',
      owner: ctx.nodeId,
      in: x,
      out: [1],
      timeConditioned: false,
      visible: D,
      hidden: H,
      W,
      b,
      c,
      logSigma,
      call: (v) => ops.reshape(freeEnergy(ops, fn, v), [-1, 1]),
    };
    return { fn, p: gaussianRbmMixture(ops, fn, x) };
  },
  staticOutputs: ['fn', 'p'],
  apply: (_ctx, { inputs, built }) => ({ freeEnergy: built.fn.call(inputs.x), fn: built.fn, p: built.p }),
});

/** p(v) of a Gaussian-Bernoulli RBM as the mixture over its 2^H hidden patterns (see rbmGaussian) */
export function gaussianRbmMixture<T>(ops: Ops<T>, r: RbmFn<T> & { logSigma?: T }, event: number[]): DistValue<T> {
  const D = r.visible;
  const H = r.hidden;
  const K = 2 ** H;
  // every pattern h as a row [K, H] (bit j of k)
  const patterns = Float32Array.from({ length: K * H }, (_, i) => (Math.floor(i / H) >> i % H) & 1);
  const h = ops.constant(patterns, [K, H]);
  return gaussianMixture(
    ops,
    () => {
      const logSigma = r.logSigma!;
      const m = ops.matmul(h, ops.transpose(r.W)); // W h per pattern [K, D]
      const sigma = ops.exp(logSigma);
      const logits = ops.add(ops.sum(ops.mul(h, r.c), [1]), ops.sum(ops.add(ops.mul(ops.div(r.b, sigma), m), ops.mul(ops.square(m), ops.scalar(0.5))), [1]));
      return {
        logits: ops.reshape(logits, [1, K]),
        mu: ops.reshape(ops.add(r.b, ops.mul(sigma, m)), [1, K, D]),
        logStd: ops.reshape(logSigma, [1, 1, D]),
      };
    },
    event,
    K,
  );
}
