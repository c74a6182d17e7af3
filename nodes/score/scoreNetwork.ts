import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { buildMlp, mlpFields, type Mlp } from '../core/mlp';
import { flatSize, tensorShape } from '../core/objective';
import type { FnValue } from '../core/values';
import { asColumn } from './sigmas';

/** the floor on sigma inside the network (log sigma and 1 / sigma stay finite) */
export const SIGMA_FLOOR = 1e-5;

/** log sigma is multiplied by this before the sinusoidal features: frequencies 4 .. 4e-4 per unit of log sigma */
const LOG_SIGMA_SCALE = 4;

/**
 * A noise-conditional score network s_theta(x, sigma) ~ grad_x log p_sigma(x), with
 * p_sigma = p_data * N(0, sigma^2 I) (Song & Ermon 2019, sec. 4.1), as an MLP:
 *   s_theta(x, sigma) = f_theta([c_in(sigma) x, emb(log sigma)]) / sigma,   c_in = 1 / sqrt(sigma^2 + sigma_data^2)
 * - emb: the sinusoidal features of core/mlp.ts applied to 4 log sigma: the levels of a
 *   geometric schedule are evenly spaced in log sigma, so every level gets its own code;
 * - c_in: the input preconditioning of Karras et al. 2022 (EDM, table 1): x + sigma z has
 *   variance sigma_data^2 + sigma^2 for data of variance sigma_data^2, so the network sees
 *   unit-scale inputs at every level (the same scale DDPM's x_t has);
 * - the division by sigma is technique 3 of Song & Ermon 2020 ("Improved techniques for
 *   training score-based generative models"): the true score grows like 1 / sigma, so the
 *   network only has to produce unit-scale outputs; with lambda(sigma) = sigma^2 the DSM
 *   loss becomes || f_theta + z ||^2, the same scale at every level (f_theta is then a
 *   noise predictor, -eps of DDPM).
 * With `noiseConditioned` off it is a plain score model s_theta(x) = f_theta(x) (for
 * sliced score matching on clean data, or DSM at one level; Vincent 2011).
 * Its Fn takes sigma itself (not a step index or a time in [0, 1]) as its time input, one
 * value per row.
 */
export const scoreMlp = defineNode({
  type: 'score.mlp',
  version: 1,
  title: 'Score network s(x, sigma)',
  category: 'network',
  role: 'network',
  inputs: { x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'data points (they fix the input shape)' } },
  outputs: { fn: { type: { kind: 'Fn' }, doc: 's_theta(x, sigma) as a function, for the score-matching losses and the Langevin samplers' } },
  params: z.object({
    ...mlpFields,
    hidden: mlpFields.hidden.default([128, 128, 128]),
    activation: mlpFields.activation.default('silu'),
    /** take the noise level sigma as a second input (NCSN); off: s_theta(x) */
    noiseConditioned: z.boolean().default(true),
    /** width of the sinusoidal features of log sigma */
    embedding: z.number().int().min(2).max(512).multipleOf(2).default(32),
    /** sigma_data: the input is scaled by 1 / sqrt(sigma^2 + sigma_data^2), unit variance at every level (Karras et al. 2022) */
    dataScale: z.number().positive().max(1e4).default(1),
    /** divide the output by sigma (Song & Ermon 2020, technique 3) */
    scaleBySigma: z.boolean().default(true),
  }),
  math: {
    latex: 's_\\theta(x, \\sigma) = \\frac{1}{\\sigma}\\, f_\\theta\\Big(\\Big[\\frac{x}{\\sqrt{\\sigma^2 + \\sigma_{\\text{data}}^2}}, \\operatorname{emb}(\\log\\sigma)\\Big]\\Big) \\approx \\nabla_x \\log p_\\sigma(x),\\qquad p_\\sigma = p_{\\text{data}} * \\mathcal{N}(0, \\sigma^2 I)',
    explain:
      'A score network does not model a density: it outputs a vector field, the gradient of the log-density of the data blurred with Gaussian noise of scale sigma. One network serves every noise level because sigma is an input (through features of log sigma); the input is rescaled to unit variance at every level. The true score of blurred data grows like 1/sigma, so the network output is divided by sigma and the network itself only produces unit-scale numbers. Its Fn takes sigma itself as the time input.',
  },
  ui: { embedding: { advanced: true, showWhen: { noiseConditioned: [true] } }, dataScale: { advanced: true, showWhen: { noiseConditioned: [true] } }, scaleBySigma: { advanced: true, showWhen: { noiseConditioned: [true] } } },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [2] } }, params: { hidden: [8], embedding: 4 } },
  describe: () => ({ latent: { text: 'no latent variable: a score field grad_x log p_sigma(x) over data space', rank: 0 } }),
  infer(shapes, p) {
    const x = tensorShape(shapes, 'x');
    return { fn: { kind: 'Fn', in: x, out: x, timeConditioned: p.noiseConditioned, ...(p.noiseConditioned && { time: 'continuous' as const }) } };
  },
  build(ctx, p, shapes): { fn: FnValue<any> } {
    const { ops } = ctx;
    const x = (shapes.x as { shape: number[] }).shape;
    const d = flatSize(x);
    const net: Mlp<any> = buildMlp(ctx, d, p.hidden, d, p.activation, p.noiseConditioned ? { timeDim: p.embedding, timeScale: LOG_SIGMA_SCALE } : {});
    const flat = (v: any) => ops.reshape(v, [-1, d]);
    const shaped = (v: any) => ops.reshape(v, [-1, ...x]);
    const call = p.noiseConditioned
      ? (v: any, sigma?: any) => {
          if (sigma === undefined) throw new Error(`${ctx.nodeId}: this score network is noise conditioned and needs sigma`);
          const s = ops.maximum(sigma, ops.scalar(SIGMA_FLOOR));
          const cIn = ops.reshape(ops.div(ops.scalar(1), ops.sqrt(ops.add(ops.square(s), ops.scalar(p.dataScale * p.dataScale)))), [-1, 1]);
          const out = shaped(net(ops.mul(flat(v), cIn), ops.log(s)));
          return p.scaleBySigma ? ops.div(out, asColumn(ops, s, x.length + 1)) : out;
        }
      : (v: any) => shaped(net(flat(v)));
    return { fn: { kind: 'Fn', owner: ctx.nodeId, in: x, out: x, timeConditioned: p.noiseConditioned, ...(p.noiseConditioned && { time: 'continuous' as const }), call } };
  },
  staticOutputs: ['fn'],
  apply: (_ctx, { built }) => ({ fn: built.fn }),
});

/** the score Fn at one noise level (conditioned networks) or as it is */
export function scoreAt<T>(f: FnValue<T>, x: T, sigmaRow: T | undefined): T {
  return f.timeConditioned ? f.call(x, sigmaRow) : f.call(x);
}
