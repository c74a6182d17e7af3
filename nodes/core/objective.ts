/**
 * Every loss node is an objective: it names the networks it updates, its optimiser and
 * how many steps it takes per training round. A round runs the objectives in graph order
 * (a GAN: critic k steps, then generator).
 */
import { z } from 'zod';
import type { PortShape } from './ports';
import { InferError } from './defineNode';

export const OPTIMIZER_KINDS = ['adam', 'sgd', 'rmsprop', 'update'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/** c: after each step, every weight of the trained networks is clipped to [-c, c] (WGAN) */
type Clip = { clipWeights?: number };

/**
 * The optimiser of an objective, a union on `kind`:
 * - adam (Kingma & Ba 2015): lr, beta1, beta2 (the default);
 * - sgd: w <- w - lr v, v <- momentum v + g (plain w - lr g when momentum = 0);
 * - rmsprop (tfjs form): ms <- decay ms + (1 - decay) g^2, mom <- momentum mom + lr g / sqrt(ms + epsilon),
 *   w <- w - mom (WGAN with weight clipping uses it);
 * - update: no gradient step: each trained network's own closed-form update rule
 *   (`NodeSpec.update`, e.g. an EM step) sets its parameters.
 * The document form is one flat object (what the inspector edits); fields of other kinds
 * are ignored.
 */
export type OptimizerConfig = Clip &
  (
    | { kind: 'adam'; lr: number; beta1: number; beta2: number }
    | { kind: 'sgd'; lr: number; momentum: number }
    | { kind: 'rmsprop'; lr: number; decay: number; momentum: number; epsilon: number }
    | { kind: 'update' }
  );

const OptimizerFields = z.object({
  kind: z.enum(OPTIMIZER_KINDS).default('adam'),
  lr: z.number().positive().max(1).default(1e-3),
  /** adam */
  beta1: z.number().min(0).max(1).default(0.9),
  beta2: z.number().min(0).max(1).default(0.999),
  /** sgd, rmsprop */
  momentum: z.number().min(0).lt(1).default(0),
  /** rmsprop: the moving average's decay (rho) */
  decay: z.number().min(0).lt(1).default(0.9),
  /** rmsprop */
  epsilon: z.number().positive().max(1).default(1e-7),
  clipWeights: z.number().positive().optional(),
});

export const OptimizerSchema = OptimizerFields.transform((o): OptimizerConfig => {
  const clip: Clip = o.clipWeights !== undefined ? { clipWeights: o.clipWeights } : {};
  switch (o.kind) {
    case 'adam':
      return { kind: 'adam', lr: o.lr, beta1: o.beta1, beta2: o.beta2, ...clip };
    case 'sgd':
      return { kind: 'sgd', lr: o.lr, momentum: o.momentum, ...clip };
    case 'rmsprop':
      return { kind: 'rmsprop', lr: o.lr, decay: o.decay, momentum: o.momentum, epsilon: o.epsilon, ...clip };
    case 'update':
      return { kind: 'update', ...clip };
  }
}).default({ kind: 'adam', lr: 1e-3, beta1: 0.9, beta2: 0.999 });

export const objectiveFields = {
  optimizer: OptimizerSchema,
  /** optimiser steps of this objective per round */
  stepsPerRound: z.number().int().min(1).max(100).default(1),
  /** network node ids this objective updates; empty = every network upstream of it */
  trains: z.array(z.string()).default([]),
  /** order of this objective within a round (lower first; ties by graph order) */
  order: z.number().int().default(0),
};

/** inspector hints for the objective fields: the optimiser and the order are advanced */
export const OBJECTIVE_UI = {
  optimizer: { advanced: true },
  order: { advanced: true },
  stepsPerRound: { units: 'steps / round' },
} as const;

export const LOSS_OUT = { loss: { type: { kind: 'Loss' }, doc: 'the scalar this objective minimises' } } as const;

export function tensorShape(shapes: Record<string, PortShape | undefined>, port: string): number[] {
  const s = shapes[port];
  if (!s) throw new InferError(port, `input "${port}" is not connected`, 'bad-input');
  if (s.kind !== 'Tensor') throw new InferError(port, `input "${port}" must be a Tensor, got ${s.kind}`, 'bad-input');
  return s.shape;
}

export function distEvent(shapes: Record<string, PortShape | undefined>, port: string): number[] {
  const s = shapes[port];
  if (!s) throw new InferError(port, `input "${port}" is not connected`, 'bad-input');
  if (s.kind !== 'Dist') throw new InferError(port, `input "${port}" must be a Dist, got ${s.kind}`, 'bad-input');
  return s.event;
}

const fmt = (d: number[]) => `[B${d.map((x) => `, ${x}`).join('')}]`;

/** throws a shape-mismatch on `port` naming both shapes */
export function expectSame(port: string, got: number[], want: number[], what: string): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new InferError(port, `shape mismatch on "${port}": got ${fmt(got)}, expected ${fmt(want)} (${what})`);
  }
}

export function flatSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
