import { z } from 'zod';
import { defineNode, readState, writeState, type NodeCtx } from '../core/defineNode';
import { compose, DIM_UI, FLOW_OUT, layerDim, PREV_IN } from './chain';
import { rowZeros } from '../core/values';

/**
 * ActNorm (Glow, Kingma & Dhariwal 2018, table 1): y = x * exp(s) + b, log|det J| = sum s.
 * Data-dependent initialisation (Glow, sec. 3.1): on the first training batch, s and b are
 * set so that the layer's output in the normalising direction, x = (y - b) exp(-s), has zero
 * mean and unit variance per dimension on that batch: b = mean(y), s = log std(y).
 * The initial values are node state (`init.logScale`, `init.bias`, and the flag
 * `initialised`), written by the first training step; the trainable parameters are offsets
 * from them that start at zero: s = s0 + logScale, b = b0 + bias. Until that step
 * s0 = b0 = 0, so the layer starts as the identity. Hosts that keep no state (the
 * conformance harnesses, export) read s0 and b0 as parameters of those names, and the layer
 * never initialises itself there.
 */
export const actnorm = defineNode({
  type: 'flow.actnorm',
  version: 1,
  title: 'ActNorm',
  category: 'flow',
  role: 'network',
  inputs: PREV_IN,
  ui: DIM_UI,
  outputs: FLOW_OUT,
  params: z.object({ dim: z.number().int().min(1).max(4096).default(2) }),
  math: {
    latex: 'y = x \\odot \\exp(s) + b,\\quad \\log\\lvert\\det J\\rvert = \\textstyle\\sum_j s_j',
    explain:
      'A learned per-dimension scale and shift (Glow). It keeps activations well scaled between coupling layers; its log-determinant is the sum of the log-scales, the same for every input. On the first training batch it initialises itself from the data, so that its output starts with zero mean and unit variance per dimension.',
  },
  fixture: { inputs: { prev: { kind: 'Bijector', event: [3] } } },
  infer: (shapes, p) => ({ flow: { kind: 'Bijector', event: [layerDim(shapes.prev, p.dim)] } }),
  build(ctx, p, shapes): { d: number } {
    const d = layerDim(shapes.prev, p.dim);
    ctx.param('logScale', [d], { kind: 'zeros' });
    ctx.param('bias', [d], { kind: 'zeros' });
    // declared here so they exist (and are checkpointed) from step 0
    readState(ctx, 'init.logScale', [d], { kind: 'zeros' });
    readState(ctx, 'init.bias', [d], { kind: 'zeros' });
    readState(ctx, 'initialised', [1], { kind: 'zeros' });
    return { d };
  },
  apply: (ctx, { inputs, built }) => ({ flow: compose(ctx.ops, inputs.prev, actnormLayer(ctx, built.d), ctx.nodeId, [built.d]) }),
});

/**
 * The layer with the current parameters and initial values. In a training step of a host
 * that keeps state, while `initialised` is 0 the inverse takes s0, b0 from the batch it is
 * given (outside the gradient) and stores them; the blend by the flag avoids a read-back.
 */
function actnormLayer<T>(ctx: NodeCtx<T>, d: number) {
  const { ops } = ctx;
  const ds = ctx.param('logScale', [d], { kind: 'zeros' });
  const db = ctx.param('bias', [d], { kind: 'zeros' });
  const s0 = readState(ctx, 'init.logScale', [d], { kind: 'zeros' });
  const b0 = readState(ctx, 'init.bias', [d], { kind: 'zeros' });
  const dataInit = ctx.mode === 'train' && ctx.state !== undefined && ctx.setState !== undefined;
  const stored = () => ({ s: ops.add(s0, ds), b: ops.add(b0, db) });
  const fromBatch = (y: T) => {
    if (!dataInit) return stored();
    const done = readState(ctx, 'initialised', [1], { kind: 'zeros' });
    const fresh = ops.sub(ops.scalar(1), done);
    const m = ops.stopGradient(ops.mean(y, [0]));
    const v = ops.stopGradient(ops.mean(ops.square(ops.sub(y, m)), [0]));
    const logStd = ops.mul(ops.log(ops.add(v, ops.scalar(1e-6))), ops.scalar(0.5));
    const sInit = ops.add(ops.mul(done, s0), ops.mul(fresh, logStd));
    const bInit = ops.add(ops.mul(done, b0), ops.mul(fresh, m));
    writeState(ctx, 'init.logScale', sInit);
    writeState(ctx, 'init.bias', bInit);
    writeState(ctx, 'initialised', ops.onesLike(done));
    return { s: ops.add(sInit, ds), b: ops.add(bInit, db) };
  };
  return {
    forward: (x: T) => {
      const { s, b } = stored();
      return { y: ops.add(ops.mul(x, ops.exp(s)), b), logDet: ops.add(rowZeros(ops, x), ops.sum(s)) };
    },
    inverse: (y: T) => {
      const { s, b } = fromBatch(y);
      return { x: ops.mul(ops.sub(y, b), ops.exp(ops.neg(s))), logDet: ops.sub(rowZeros(ops, y), ops.sum(s)) };
    },
  };
}
