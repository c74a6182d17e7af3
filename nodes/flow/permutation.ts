import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import type { BijectorValue } from '../core/values';
import { compose, DIM_UI, FLOW_OUT, layerDim, PREV_IN } from './chain';
import { rowZeros } from '../core/values';

/** y = P x for a fixed permutation matrix P; |det P| = 1 so log|det J| = 0. */
export const permutation = defineNode({
  type: 'flow.permutation',
  version: 1,
  title: 'Permutation',
  category: 'flow',
  role: 'none',
  inputs: PREV_IN,
  outputs: FLOW_OUT,
  params: z.object({
    dim: z.number().int().min(1).max(4096).default(2),
    kind: z.enum(['reverse', 'random']).default('reverse'),
    seed: z.number().int().default(0),
  }),
  math: {
    latex: 'y = P x,\\quad \\log\\lvert\\det J\\rvert = 0',
    explain:
      'Shuffles coordinates between coupling layers so that each coordinate is eventually transformed. A permutation is volume preserving: it adds nothing to the log-likelihood.',
  },
  ui: { ...DIM_UI, seed: { advanced: true } },
  fixture: { inputs: {}, params: { dim: 4, kind: 'random', seed: 3 } },
  infer: (shapes, p) => ({ flow: { kind: 'Bijector', event: [layerDim(shapes.prev, p.dim)] } }),
  build(ctx, p, shapes): { layer: BijectorValue<any> } {
    const { ops } = ctx;
    const d = layerDim(shapes.prev, p.dim);
    const perm = permutationOf(d, p.kind, p.seed);
    // y_j = x_{perm[j]}  <=>  y = x P with P[perm[j], j] = 1; the inverse is P^T
    const m = new Float32Array(d * d);
    const mt = new Float32Array(d * d);
    perm.forEach((src, j) => {
      m[src * d + j] = 1;
      mt[j * d + src] = 1;
    });
    const P = ops.constant(m, [d, d]);
    const PT = ops.constant(mt, [d, d]);
    const layer = {
      forward: (x: any) => ({ y: ops.matmul(x, P), logDet: rowZeros(ops, x) }),
      inverse: (y: any) => ({ x: ops.matmul(y, PT), logDet: rowZeros(ops, y) }),
    };
    return { layer: compose(ops, undefined, layer, ctx.nodeId, [d]) };
  },
  apply: (ctx, { inputs, built }) => ({ flow: compose(ctx.ops, inputs.prev, built.layer, ctx.nodeId, built.layer.event) }),
});

export function permutationOf(d: number, kind: 'reverse' | 'random', seed: number): number[] {
  const perm = Array.from({ length: d }, (_, i) => (kind === 'reverse' ? d - 1 - i : i));
  if (kind === 'random') {
    let s = (seed >>> 0) + 0x9e3779b9;
    for (let i = d - 1; i > 0; i--) {
      s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      const j = s % (i + 1);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
  }
  return perm;
}
