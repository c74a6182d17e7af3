import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { expectSame, LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';
import type { Ops } from '../core/ops';
import { sumEvent, type FnValue, type ScheduleValue } from '../core/values';
import { probeNoise } from '../flowmatching/ode';
import { SCORE_FACTS } from './dsmLoss';
import { scoreAt } from './scoreNetwork';
import { levels, scoreFn } from './scoreShapes';
import { levelTables, perturbAtRandomLevel, type LevelTables } from './sigmas';

/**
 * Sliced score matching (Song, Garg, Shi & Ermon 2019, "Sliced score matching", sec. 3:
 * the sliced objective and its variance-reduced form SSM-VR). Hyvarinen's score
 * matching (2005; seed 000, sec. 9)
 *   J(theta) = E_data[ tr(grad_x s_theta(x)) + 1/2 || s_theta(x) ||^2 ]
 * equals the Fisher divergence 1/2 E || s_theta - grad log p_data ||^2 up to a constant, but
 * its trace costs one backward pass per dimension. Projecting on random directions v with
 * E[v v^T] = I (Hutchinson) gives an unbiased estimate from one vector-Jacobian product:
 *   sliced:  J = E_v E_x[ v^T grad_x s_theta(x) v + 1/2 (v^T s_theta(x))^2 ]     (SSM)
 *   reduced: J = E_v E_x[ v^T grad_x s_theta(x) v + 1/2 || s_theta(x) ||^2 ]     (SSM-VR)
 * v^T grad_x s v is v . vjp(s, x, v) (ops.vjp, reverse mode inside the loss; training
 * differentiates through it). Averaged over `projections` independent v per row and over
 * dimensions. With a noise-conditional network and levels connected, the data is first
 * perturbed, x~ = x + sigma z with one level per row, and the terms weighted by
 * lambda(sigma) = sigma^2: sliced score matching of p_sigma at every level (Song & Ermon
 * 2019 train NCSN with DSM or SSM alike). At the optimum on N(0, I) data the per-dimension
 * value is -1/2 / (1 + sigma^2) (-1/2 on clean data): tr = -d / (1 + sigma^2), ||s||^2 / 2 = d / 2 / (1 + sigma^2).
 */
export const ssmLoss = defineNode({
  type: 'loss.slicedScoreMatching',
  version: 1,
  title: 'Sliced score matching',
  category: 'loss',
  role: 'objective',
  inputs: {
    score: { type: { kind: 'Fn' }, doc: 's_theta(x) or s_theta(x, sigma)' },
    data: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'a data batch x' },
    sigmas: { type: { kind: 'Schedule' }, optional: true, doc: 'noise levels (for a noise-conditional network)' },
  },
  outputs: LOSS_OUT,
  params: z.object({
    ...objectiveFields,
    /** sliced: 1/2 (v^T s)^2 (SSM); reduced: 1/2 ||s||^2 in closed form (SSM-VR, lower variance) */
    variance: z.enum(['sliced', 'reduced']).default('sliced'),
    /** M: random projections per data point */
    projections: z.number().int().min(1).max(64).default(1),
    /** the distribution of v: Rademacher (+-1) or standard normal */
    probe: z.enum(['rademacher', 'gaussian']).default('rademacher'),
    /** lambda(sigma) with levels: sigma^2 or 1 */
    weighting: z.enum(['sigma2', 'none']).default('sigma2'),
  }),
  math: {
    latex:
      'J(\\theta) = \\mathbb{E}_{v}\\,\\mathbb{E}_{x \\sim p_{\\text{data}}}\\Big[ v^\\top \\nabla_x s_\\theta(x)\\, v + \\tfrac{1}{2}\\big(v^\\top s_\\theta(x)\\big)^2 \\Big],\\quad \\mathbb{E}[v v^\\top] = I\\quad\\text{(sliced score matching, Song et al. 2019)}',
    explain:
      "Score matching without noise: Hyvarinen's objective, the trace of the score's Jacobian plus half its squared norm, equals the Fisher divergence to the data's score up to a constant, so it needs no density and no target. The trace costs one backward pass per dimension; sliced score matching projects on a random direction v instead, so one vector-Jacobian product (reverse mode) suffices, and the estimate stays unbiased. The 'reduced' variant keeps the squared norm exact and only slices the trace.",
  },
  ui: { ...OBJECTIVE_UI, projections: { units: 'per point' }, probe: { advanced: true }, weighting: { advanced: true } },
  fixture: { inputs: { score: { kind: 'Fn', in: [2], out: [2], timeConditioned: false }, data: { kind: 'Tensor', shape: [2] } }, params: { projections: 2 } },
  describe: () => SCORE_FACTS,
  infer(shapes) {
    const f = scoreFn(shapes, 'score');
    expectSame('data', tensorShape(shapes, 'data'), f.in, 'the score network takes points of this shape');
    if (f.timeConditioned) levels(shapes, 'sigmas', 'the score network is noise conditioned');
    else if (shapes.sigmas !== undefined) levels(shapes, 'sigmas', 'noise levels');
    return { loss: { kind: 'Loss' } };
  },
  build(ctx, _p, shapes, statics): LevelTables<any> | undefined {
    return levelTables(ctx.ops, statics.sigmas as ScheduleValue | undefined, (shapes.data as { shape: number[] }).shape.length);
  },
  apply(ctx, { inputs, params, built }) {
    const { ops } = ctx;
    const f: FnValue<any> = inputs.score;
    let x = inputs.data;
    let sigmaRow: any;
    if (f.timeConditioned || built) {
      if (!built) throw new InferError('sigmas', `${ctx.nodeId}: the noise levels must be known before training`, 'bad-input');
      ({ sigmaRow, xt: x } = perturbAtRandomLevel(ops, built, x));
    }
    const perRow = slicedScoreMatching(ops, (u) => scoreAt(f, u, sigmaRow), x, params);
    const weight = sigmaRow !== undefined && params.weighting === 'sigma2' ? ops.square(sigmaRow) : undefined;
    const value = ops.mean(weight ? ops.mul(perRow.total, weight) : perRow.total);
    return { loss: { kind: 'Loss', value, terms: { ssm: value, trace: ops.mean(perRow.trace), norm: ops.mean(perRow.norm) } } };
  },
});

/**
 * Per row [B], averaged over dimensions and over M projections:
 * trace = v^T grad_x s(x) v, norm = 1/2 (v^T s)^2 (sliced) or 1/2 ||s||^2 (reduced).
 */
export function slicedScoreMatching<T>(
  ops: Ops<T>,
  s: (x: T) => T,
  x: T,
  o: { variance: 'sliced' | 'reduced'; projections: number; probe: 'rademacher' | 'gaussian' },
): { total: T; trace: T; norm: T } {
  const dims = ops.shape(x).slice(1).reduce((a, b) => a * b, 1);
  const sx = s(x);
  const scale = ops.scalar(1 / (dims * o.projections));
  let trace: T | undefined;
  let norm: T | undefined;
  const acc = (a: T | undefined, b: T) => (a === undefined ? b : ops.add(a, b));
  for (let m = 0; m < o.projections; m++) {
    const v = probeNoise(ops, x, o.probe);
    // v^T (d s / d x) v: the gradient of sum(s(x) * v) is v^T (ds/dx), dotted with v
    trace = acc(trace, sumEvent(ops, ops.mul(ops.vjp(s, x, v), v)));
    if (o.variance === 'sliced') norm = acc(norm, ops.mul(ops.square(sumEvent(ops, ops.mul(v, sx))), ops.scalar(0.5)));
  }
  const tr = ops.mul(trace!, scale);
  const nm = o.variance === 'sliced' ? ops.mul(norm!, scale) : ops.mul(sumEvent(ops, ops.square(sx)), ops.scalar(0.5 / dims));
  return { total: ops.add(tr, nm), trace: tr, norm: nm };
}
