/**
 * Every loss node is an objective: it names the networks it updates, its optimiser and
 * how many steps it takes per training round. A round runs the objectives in graph order
 * (a GAN: critic k steps, then generator).
 */
import { z } from 'zod';
import type { PortShape } from './ports';
import { InferError } from './defineNode';

export const OptimizerSchema = z
  .object({
    kind: z.literal('adam').default('adam'),
    lr: z.number().positive().max(1).default(1e-3),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.999),
  })
  .default({ kind: 'adam', lr: 1e-3, beta1: 0.9, beta2: 0.999 });
export type OptimizerConfig = z.infer<typeof OptimizerSchema>;

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
