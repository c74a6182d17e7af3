import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { tensorShape } from '../core/objective';
import type { ScheduleValue } from '../core/values';

/**
 * Forward process q(x_t | x_0) in closed form (Ho et al. 2020, eq. 4):
 *   x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps,  eps ~ N(0, I),  t ~ U{1..T}
 * The time output is the 0-based index t - 1, the convention every sampler shares.
 */
export const forwardDiffusion = defineNode({
  type: 'diffusion.forward',
  version: 1,
  title: 'Forward diffusion q(x_t | x_0)',
  category: 'diffusion',
  role: 'none',
  inputs: {
    x0: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'clean data x_0' },
    schedule: { type: { kind: 'Schedule' }, doc: 'the noise schedule' },
  },
  outputs: {
    xt: { type: { kind: 'Tensor' }, doc: 'noised data x_t' },
    t: { type: { kind: 'Tensor', semantic: 'time' }, doc: 'the step index t - 1 in [0, T)' },
    eps: { type: { kind: 'Tensor', semantic: 'noise' }, doc: 'the noise eps that was added' },
  },
  params: z.object({}),
  math: {
    latex: 'q(x_t \\mid x_0) = \\mathcal{N}\\big(x_t; \\sqrt{\\bar\\alpha_t}\\,x_0, (1-\\bar\\alpha_t) I\\big),\\quad x_t = \\sqrt{\\bar\\alpha_t}\\,x_0 + \\sqrt{1-\\bar\\alpha_t}\\,\\epsilon',
    explain:
      'Diffusion corrupts data with Gaussian noise over T steps. Because each step is Gaussian, x_t can be drawn from x_0 in one shot for a uniformly random t; the network then learns to predict the noise that was added.',
  },
  fixture: { inputs: { x0: { kind: 'Tensor', shape: [3] }, schedule: { kind: 'Schedule', T: 10 } } },
  infer(shapes) {
    const x = tensorShape(shapes, 'x0');
    if (shapes.schedule?.kind !== 'Schedule') throw new InferError('schedule', 'connect a noise schedule', 'bad-input');
    return { xt: { kind: 'Tensor', shape: x }, t: { kind: 'Tensor', shape: [] }, eps: { kind: 'Tensor', shape: x } };
  },
  build(ctx, _p, _shapes, statics): { T: number; sqrtAb: any; sqrt1mAb: any } | undefined {
    const s = statics.schedule as ScheduleValue | undefined;
    if (!s) return undefined;
    const { ops } = ctx;
    return {
      T: s.T,
      sqrtAb: ops.constant(s.alphaBars.map(Math.sqrt), [s.T, 1]),
      sqrt1mAb: ops.constant(s.alphaBars.map((a) => Math.sqrt(1 - a)), [s.T, 1]),
    };
  },
  apply(ctx, { inputs, built }) {
    const { ops } = ctx;
    if (!built) throw new Error(`${ctx.nodeId}: the schedule must be known before training`);
    const x0 = inputs.x0;
    const t = ops.randomIntLike(x0, built.T);
    const eps = ops.randomNormalLike(x0);
    const xt = ops.add(ops.mul(ops.gather(built.sqrtAb, t), x0), ops.mul(ops.gather(built.sqrt1mAb, t), eps));
    return { xt, t, eps };
  },
});
