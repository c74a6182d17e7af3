import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import type { BijectorValue } from '../core/values';
import { compose, FLOW_OUT, layerDim, PREV_IN } from './chain';
import { rowZeros } from '../core/values';

/** ActNorm (Glow, Kingma & Dhariwal 2018, table 1): y = x * exp(s) + b, log|det J| = sum s. */
export const actnorm = defineNode({
  type: 'flow.actnorm',
  version: 1,
  title: 'ActNorm',
  category: 'flow',
  role: 'network',
  inputs: PREV_IN,
  outputs: FLOW_OUT,
  params: z.object({ dim: z.number().int().min(1).max(4096).default(2) }),
  math: {
    latex: 'y = x \\odot \\exp(s) + b,\\quad \\log\\lvert\\det J\\rvert = \\textstyle\\sum_j s_j',
    explain:
      'A learned per-dimension scale and shift (Glow). It keeps activations well scaled between coupling layers; its log-determinant is the sum of the log-scales, the same for every input.',
  },
  fixture: { inputs: { prev: { kind: 'Bijector', event: [3] } } },
  infer: (shapes, p) => ({ flow: { kind: 'Bijector', event: [layerDim(shapes.prev, p.dim)] } }),
  build(ctx, p, shapes): { layer: BijectorValue<any> } {
    const { ops } = ctx;
    const d = layerDim(shapes.prev, p.dim);
    const s = ctx.param('logScale', [d], { kind: 'zeros' });
    const b = ctx.param('bias', [d], { kind: 'zeros' });
    const layer = {
      forward: (x: any) => ({ y: ops.add(ops.mul(x, ops.exp(s)), b), logDet: ops.add(rowZeros(ops, x), ops.sum(s)) }),
      inverse: (y: any) => ({
        x: ops.mul(ops.sub(y, b), ops.exp(ops.neg(s))),
        logDet: ops.sub(rowZeros(ops, y), ops.sum(s)),
      }),
    };
    return { layer: compose(ops, undefined, layer, ctx.nodeId, [d]) };
  },
  apply: (ctx, { inputs, built }) => ({ flow: compose(ctx.ops, inputs.prev, built.layer, ctx.nodeId, built.layer.event) }),
});
