import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { bernoulli } from '../core/dists';
import { logSoftmax, reduceMax } from '../core/reduce';
import { activate, ActivationSchema } from '../core/mlp';
import { flatSize, tensorShape } from '../core/objective';
import type { DistValue } from '../core/values';
import { permutationOf } from '../flow/permutation';

/**
 * MADE, the masked autoencoder for distribution estimation (Germain et al. 2015), over binary
 * vectors. Symbols: m(d) in 1..D the position of input d in the chosen ordering, m^l(k) the
 * degree of hidden unit k of layer l (the largest input position it may see).
 *   p(x) = prod_d Bern(x_d; sigmoid(a_d(x_<d))),   a = W^L (M^L o) h^{L-1} + b^L
 * Masks (eqs 12-13): hidden M^l[k', k] = 1[m^l(k) >= m^{l-1}(k')], output
 * M^L[k, d] = 1[m(d) > m^{L-1}(k)], so a_d depends only on inputs earlier in the ordering:
 * one pass gives all D conditionals, and the log-likelihood is exact. With `categories` K the
 * coordinates are integer codes (a VQ-VAE's code grid): each position has K one-hot inputs
 * and K output logits, all with the position's degree, and p(x_d | x_<d) = softmax(a_d)[x_d]. Hidden degrees are
 * spread evenly over [min m^{l-1}, D - 1] (k mod, deterministic). Sampling runs D passes in
 * one loop: at pass i the input at ordering position i + 1 is drawn from its conditional.
 */
export const made = defineNode({
  type: 'ar.made',
  version: 1,
  title: 'MADE (masked autoregressive network)',
  category: 'network',
  role: 'network',
  inputs: { x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'binary vectors or images (they fix D)' } },
  outputs: { p: { type: { kind: 'Dist' }, doc: 'p(x) = prod_d Bern(x_d; sigmoid(a_d(x_<d)))' } },
  params: z.object({
    hidden: z.array(z.number().int().min(1).max(4096)).min(1).max(4).default([500]),
    activation: ActivationSchema.default('relu'),
    ordering: z.enum(['natural', 'random']).default('natural'),
    seed: z.number().int().default(0),
    /** direct input-to-output weights, masked to the ordering (a logistic autoregressive term beside the hidden layers) */
    direct: z.boolean().default(false),
    /** 0: binary x_d (a Bernoulli per coordinate); K >= 2: integer codes x_d in 0..K-1 (one-hot in, a softmax over K out) */
    categories: z.number().int().min(0).max(1024).refine((k) => k !== 1, 'categories must be 0 (binary) or at least 2').default(0),
  }),
  math: {
    latex: 'p(x) = \\prod_{d=1}^{D} \\operatorname{Bern}\\big(x_d; \\sigma(a_d(x_{<d}))\\big),\\quad M^{l}_{k\'k} = \\mathbb{1}[m^{l}(k) \\ge m^{l-1}(k\')],\\quad M^{L}_{kd} = \\mathbb{1}[m(d) > m^{L-1}(k)]',
    explain:
      'An autoencoder whose weights are masked so that output d sees only the inputs that come before d in a chosen ordering. Then its D outputs are the D conditionals of the chain rule, all computed in one pass, and their product is an exact likelihood. Sampling cannot be parallel: the pixels are drawn one at a time, each pass conditioning on the pixels drawn so far.',
  },
  ui: { seed: { advanced: true, showWhen: { ordering: ['random'] } } },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [5] } }, params: { hidden: [8] } },
  exports: [{ kind: 'density', port: 'p', doc: 'log p(x), exact' }],
  describe: (p) => ({ latent: { text: `no latent variable: the chain rule over pixels in ${p.ordering} order, one masked network for all conditionals`, rank: 0 } }),
  infer: (shapes) => ({ p: { kind: 'Dist', event: tensorShape(shapes, 'x') } }),
  build(ctx, p, shapes): { p: DistValue<any> } {
    const event = (shapes.x as { shape: number[] }).shape;
    const D = flatSize(event);
    const { ops } = ctx;
    // C units per position: 1 (a Bernoulli logit, or the bit itself) or K (one-hot in, K logits out)
    const K = p.categories;
    const C = K || 1;
    // m(d): ordering position of input d, 1..D (natural: d + 1); every unit of position d has degree m(d)
    const m0 = Array.from({ length: D }, (_, d) => d + 1);
    if (p.ordering === 'random') permutationOf(D, 'random', p.seed).forEach((d, i) => (m0[d] = i + 1));
    const unitDeg = Array.from({ length: D * C }, (_, u) => m0[Math.floor(u / C)]!);
    const degrees: number[][] = [unitDeg];
    for (const width of p.hidden) {
      const lo = Math.min(...degrees.at(-1)!);
      degrees.push(Array.from({ length: width }, (_, k) => (D > 1 ? lo + (k % Math.max(1, D - lo)) : 1)));
    }
    const sizes = [D * C, ...p.hidden, D * C];
    const layers = sizes.slice(1).map((out, l) => {
      const prev = degrees[l]!;
      const last = l === sizes.length - 2;
      const mask = new Float32Array(sizes[l]! * out);
      for (let a = 0; a < sizes[l]!; a++) {
        for (let k = 0; k < out; k++) mask[a * out + k] = last ? (unitDeg[k]! > prev[a]! ? 1 : 0) : degrees[l + 1]![k]! >= prev[a]! ? 1 : 0;
      }
      return { w: ctx.param(`l${l}.w`, [sizes[l]!, out], { kind: 'glorot' }), b: ctx.param(`l${l}.b`, [out], { kind: 'zeros' }), mask: ops.constant(mask, [sizes[l]!, out]), last };
    });
    // direct connections: out_k += sum_a x_a Wd[a, k] 1[m(k) > m(a)]
    const W = D * C;
    let direct: { w: any; mask: any } | undefined;
    if (p.direct) {
      const mask = new Float32Array(W * W);
      for (let a = 0; a < W; a++) for (let k = 0; k < W; k++) mask[a * W + k] = unitDeg[k]! > unitDeg[a]! ? 1 : 0;
      direct = { w: ctx.param('direct.w', [W, W], { kind: 'zeros' }), mask: ops.constant(mask, [W, W]) };
    }
    // categorical: integer codes [B, D] -> one-hot [B, D, K]
    const classes = K ? ops.constant(Float32Array.from({ length: K }, (_, k) => k), [1, 1, K]) : undefined;
    const oneHot = (x: any) => ops.sub(ops.scalar(1), ops.minimum(ops.abs(ops.sub(ops.reshape(x, [-1, D, 1]), classes!)), ops.scalar(1)));
    const logits = (x: any) => {
      const x2 = K ? ops.reshape(oneHot(x), [-1, W]) : ops.reshape(x, [-1, D]);
      let h = x2;
      for (const l of layers) {
        h = ops.add(ops.matmul(h, ops.mul(l.w, l.mask)), l.b);
        if (!l.last) h = activate(ops, h, p.activation);
      }
      return direct ? ops.add(h, ops.matmul(x2, ops.mul(direct.w, direct.mask))) : h;
    };
    const position = ops.constant(Float32Array.from(m0), [1, D]);
    // the input at ordering position i + 1, as a one-hot row [1, D]
    const hotAt = (i: any) => ops.sub(ops.scalar(1), ops.minimum(ops.abs(ops.sub(position, ops.add(ops.cast(i, 'float32'), ops.scalar(1)))), ops.scalar(1)));
    const logProb = K
      ? (x: any) => ops.sum(ops.mul(oneHot(x), logSoftmax(ops, ops.reshape(logits(x), [-1, D, K]), 2)), [1, 2])
      : (x: any) => bernoulli(ops, logits(x), [D]).logProb(ops.reshape(x, [-1, D]));
    const draw = K
      ? (x: any, hot: any) => {
          // k ~ Cat(softmax(l)) by the Gumbel-max trick: argmax_k l_k - log(-log u_k)
          const l = ops.sum(ops.mul(ops.reshape(logits(x), [-1, D, K]), ops.reshape(hot, [1, D, 1])), [1]); // [B, K]
          const u = ops.randomUniformLike(l);
          const g = ops.sub(l, ops.log(ops.neg(ops.log(ops.add(u, ops.scalar(1e-20))))));
          // g - max g is exactly 0 at the winner (an absolute margin would vanish in float32 for large logits)
          const pick = ops.step(ops.add(ops.sub(g, reduceMax(ops, g, 1)), ops.scalar(1e-30)));
          return ops.sum(ops.mul(pick, ops.reshape(classes!, [1, K])), [1], true); // [B, 1]
        }
      : (x: any, hot: any) => {
          const a = ops.sum(ops.mul(logits(x), hot), [1], true); // [B, 1]
          return ops.step(ops.sub(ops.sigmoid(a), ops.randomUniformLike(a)));
        };
    const dist: DistValue<any> = {
      kind: 'Dist',
      family: 'made',
      event,
      logProb,
      sample: (n) => {
        const x0 = ops.mul(ops.randomNormal([n, D]), ops.scalar(0));
        const [x] = ops.loop(D, [x0], (i, [x]) => {
          const hot = hotAt(i);
          return [ops.add(x!, ops.mul(draw(x!, hot), hot))];
        });
        return ops.stopGradient(ops.reshape(x!, [-1, ...event]));
      },
      params: {},
    };
    return { p: dist };
  },
  staticOutputs: ['p'],
  apply: (_ctx, { built }) => ({ p: built.p }),
});
