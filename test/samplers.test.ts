/**
 * Sampler identities: DDIM with every time step and eta = 1 is DDPM ancestral sampling with
 * the posterior ("small") variance (Song et al. 2021, sec. 4.1), so with the same noise the
 * two samplers must agree; with eta = 0 DDIM is deterministic given x_T.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NodeCtx } from '../nodes/core/defineNode';
import type { FnValue } from '../nodes/core/values';
import { ddimSampler } from '../nodes/diffusion/ddimSampler';
import { ddpmSampler } from '../nodes/diffusion/ddpmSampler';
import { linearSchedule } from '../nodes/diffusion/schedules';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';

beforeAll(async () => {
  await initBackend('cpu');
});

const T = 100;
const n = 64;

function run(spec: typeof ddpmSampler | typeof ddimSampler, params: Record<string, unknown>, seed: number): Float32Array {
  const ops = new TfjsOps({ seed });
  return tf.tidy(() => {
    const w = tf.tensor2d([[0.3, -0.2], [0.1, 0.4], [0.05, -0.1]]);
    // a fixed smooth "noise predictor" of (x, t)
    const fn: FnValue<tf.Tensor> = {
      kind: 'Fn',
      owner: 'f',
      in: [2],
      out: [2],
      timeConditioned: true,
      call: (x, t) => tf.tanh(tf.concat([x, t!.reshape([-1, 1]).div(T)], 1).matMul(w)),
    };
    const schedule = linearSchedule(T, 1e-3, 0.05);
    const none = () => {
      throw new Error('not used by samplers');
    };
    const ctx: NodeCtx<tf.Tensor> = { ops, nodeId: 's', batchSize: n, mode: 'sample', param: none, feed: none };
    const p = spec.params.parse(params) as never;
    const built = spec.build!(ctx, p, {} as never, { schedule } as never);
    const out = spec.apply(ctx, { inputs: { denoiser: fn, schedule } as never, params: p, shapes: {} as never, built: built as never });
    return (out.samples as tf.Tensor).dataSync() as Float32Array;
  });
}

describe('DDPM and DDIM', () => {
  it('DDIM with S = T and eta = 1 equals DDPM with the posterior variance, draw for draw', () => {
    const a = run(ddpmSampler, { variance: 'small' }, 5);
    const b = run(ddimSampler, { steps: T, eta: 1 }, 5);
    let err = 0;
    for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
    expect(err).toBeLessThan(2e-3);
  });
  it('DDIM with eta = 0 is deterministic given x_T; DDPM is not', () => {
    const a = run(ddimSampler, { steps: 20, eta: 0 }, 7);
    const b = run(ddimSampler, { steps: 20, eta: 0 }, 7);
    expect(Array.from(a)).toEqual(Array.from(b));
    const c = run(ddpmSampler, {}, 7);
    const d = run(ddpmSampler, {}, 8);
    expect(Array.from(c)).not.toEqual(Array.from(d));
  });
});
