import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { buildMlp, mlpFields } from '../core/mlp';
import type { BijectorValue } from '../core/values';
import { compose, DIM_UI, FLOW_OUT, layerDim, PREV_IN } from './chain';

/**
 * RealNVP affine coupling (Dinh et al. 2017, eqs. 4-6). Split x = (x1, x2):
 *   y1 = x1,  y2 = x2 * exp(s(x1)) + t(x1),   log|det J| = sum_j s(x1)_j
 * inverse: x2 = (y2 - t(y1)) * exp(-s(y1)). s is soft-clamped: s = c tanh(s_raw / c).
 */
export const affineCoupling = defineNode({
  type: 'flow.affineCoupling',
  version: 1,
  title: 'Affine coupling',
  category: 'flow',
  role: 'network',
  inputs: PREV_IN,
  ui: DIM_UI,
  outputs: FLOW_OUT,
  params: z.object({
    ...mlpFields,
    /** event dimension when this is the first layer */
    dim: z.number().int().min(2).max(4096).default(2),
    /** which half conditions the other: false = first half conditions the second */
    swap: z.boolean().default(false),
    /** soft clamp c of the log-scale */
    scaleClamp: z.number().positive().max(20).default(3),
  }),
  math: {
    latex:
      'y_{1} = x_{1},\\quad y_{2} = x_{2} \\odot \\exp\\big(s(x_{1})\\big) + t(x_{1}),\\quad \\log\\lvert\\det J\\rvert = \\textstyle\\sum_j s(x_{1})_j',
    explain:
      'A RealNVP layer: half of the vector passes unchanged and parameterises an elementwise affine map of the other half. The Jacobian is triangular, so its log-determinant is just the sum of the log-scales, and the inverse is as cheap as the forward map. Alternate the halves (swap) so every coordinate gets transformed.',
  },
  fixture: { inputs: { prev: { kind: 'Bijector', event: [3] } }, params: { hidden: [8] } },
  infer(shapes, p) {
    const d = layerDim(shapes.prev, p.dim);
    return { flow: { kind: 'Bijector', event: [d] } };
  },
  build(ctx, p, shapes): { layer: BijectorValue<any> } {
    const { ops } = ctx;
    const d = layerDim(shapes.prev, p.dim);
    const d1 = Math.floor(d / 2);
    const [nc, nt] = p.swap ? [d - d1, d1] : [d1, d - d1]; // conditioning, transformed sizes
    const net = buildMlp(ctx, nc, p.hidden, 2 * nt, p.activation, { lastInit: 'zeros' });
    const c = ops.scalar(p.scaleClamp);
    const invC = ops.scalar(1 / p.scaleClamp);
    const split = (x: any) => {
      const a = ops.sliceAxis(x, 1, 0, d1);
      const b = ops.sliceAxis(x, 1, d1, d - d1);
      return p.swap ? { cond: b, tr: a } : { cond: a, tr: b };
    };
    const join = (cond: any, tr: any) => (p.swap ? ops.concat([tr, cond], 1) : ops.concat([cond, tr], 1));
    const st = (cond: any) => {
      const h = net(cond);
      const s = ops.mul(ops.tanh(ops.mul(ops.sliceAxis(h, 1, 0, nt), invC)), c);
      return { s, t: ops.sliceAxis(h, 1, nt, nt) };
    };
    const layer = {
      forward: (x: any) => {
        const { cond, tr } = split(x);
        const { s, t } = st(cond);
        return { y: join(cond, ops.add(ops.mul(tr, ops.exp(s)), t)), logDet: ops.sum(s, [1]) };
      },
      inverse: (y: any) => {
        const { cond, tr } = split(y);
        const { s, t } = st(cond);
        return { x: join(cond, ops.mul(ops.sub(tr, t), ops.exp(ops.neg(s)))), logDet: ops.neg(ops.sum(s, [1])) };
      },
    };
    return { layer: compose(ops, undefined, layer, ctx.nodeId, [d]) };
  },
  apply: (ctx, { inputs, built }) => ({ flow: compose(ctx.ops, inputs.prev, built.layer, ctx.nodeId, built.layer.event) }),
});
