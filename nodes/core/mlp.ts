/**
 * The multilayer perceptron every network node builds on, with optional time conditioning
 * by sinusoidal features (Vaswani et al. 2017, eq. 5; used by DDPM for t):
 *   emb(t)_k = sin(t w_k), emb(t)_{k+d/2} = cos(t w_k), w_k = 10000^{-2k/d}
 */
import { z } from 'zod';
import type { NodeCtx } from './defineNode';
import type { Ops } from './ops';

export const ActivationSchema = z.enum(['relu', 'leakyRelu', 'tanh', 'silu']);
export type Activation = z.infer<typeof ActivationSchema>;

/** zod fields shared by network nodes */
export const mlpFields = {
  hidden: z.array(z.number().int().min(1).max(4096)).max(8).default([128, 128]),
  activation: ActivationSchema.default('relu'),
};

/** the activation function a, element-wise */
export function activate<T>(ops: Ops<T>, h: T, a: Activation): T {
  switch (a) {
    case 'relu':
      return ops.relu(h);
    case 'leakyRelu':
      return ops.leakyRelu(h, 0.2);
    case 'tanh':
      return ops.tanh(h);
    case 'silu':
      return ops.silu(h);
  }
}

export interface Mlp<T> {
  (x: T, t?: T): T;
  inDim: number;
  outDim: number;
}

export interface MlpOptions {
  prefix?: string;
  /** width of the sinusoidal time embedding (0 = not time conditioned) */
  timeDim?: number;
  /** t is multiplied by this before the embedding (1000 maps continuous t in [0, 1] onto the step range) */
  timeScale?: number;
  /** scale of the last layer's initial weights (0 starts the output at zero) */
  lastInit?: 'glorot' | 'zeros';
}

export function buildMlp<T>(
  ctx: NodeCtx<T>,
  inDim: number,
  hidden: readonly number[],
  outDim: number,
  activation: Activation,
  opts: MlpOptions = {},
): Mlp<T> {
  const { ops } = ctx;
  const prefix = opts.prefix ? `${opts.prefix}.` : '';
  const timeDim = opts.timeDim ?? 0;
  const sizes = [inDim + timeDim, ...hidden, outDim];
  const layers = sizes.slice(1).map((out, i) => {
    const last = i === sizes.length - 2;
    return {
      w: ctx.param(`${prefix}l${i}.w`, [sizes[i]!, out], last && opts.lastInit === 'zeros' ? { kind: 'zeros' } : { kind: 'glorot' }),
      b: ctx.param(`${prefix}l${i}.b`, [out], { kind: 'zeros' }),
      last,
    };
  });
  const freqs =
    timeDim > 0
      ? ops.constant(
          Array.from({ length: timeDim / 2 }, (_, k) => (opts.timeScale ?? 1) * Math.pow(10000, (-2 * k) / timeDim)),
          [1, timeDim / 2],
        )
      : undefined;
  const act = (h: T): T => activate(ops, h, activation);
  const f = ((x: T, t?: T): T => {
    let h = x;
    if (freqs) {
      if (t === undefined) throw new Error(`${ctx.nodeId}: this network is time conditioned and needs t`);
      const tw = ops.mul(ops.reshape(t, [-1, 1]), freqs);
      h = ops.concat([x, ops.sin(tw), ops.cos(tw)], 1);
    }
    for (const l of layers) {
      h = ops.add(ops.matmul(h, l.w), l.b);
      if (!l.last) h = act(h);
    }
    return h;
  }) as Mlp<T>;
  f.inDim = inDim;
  f.outDim = outDim;
  return f;
}
