import type { z } from 'zod';
import type { Init, Ops } from './ops';
import type { PortDecl, PortShape } from './ports';
import type { BijectorValue, DistValue, FnValue, LossValue, ScheduleValue } from './values';

/** Families group the palette and colour the canvas. */
export const FAMILIES = [
  'data',
  'prior',
  'network',
  'encoder',
  'decoder',
  'flow',
  'critic',
  'schedule',
  'diffusion',
  'sampler',
  'loss',
] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * What the compiler needs to know about a node's part in training:
 * - network: owns trainable parameters;
 * - objective: produces a Loss that an optimiser minimises;
 * - sampler: turns a trained graph into samples;
 * - data: feeds batches.
 */
export type Role = 'network' | 'objective' | 'sampler' | 'data' | 'none';

export interface NodeCtx<T> {
  ops: Ops<T>;
  nodeId: string;
  /** creates (first call) or returns the trainable parameter `${nodeId}/${local}` */
  param(local: string, shape: number[], init: Init): T;
  /** rows per training batch: data and prior nodes draw this many */
  batchSize: number;
  /** the current batch of a data node */
  feed(nodeId: string): T;
  /** hyper-parameter of an objective or sampler chosen at run time (e.g. sampler steps) */
  mode: 'train' | 'sample';
}

type ValueOfKind<K, T> = K extends 'Tensor'
  ? T
  : K extends 'Dist'
    ? DistValue<T>
    : K extends 'Fn'
      ? FnValue<T>
      : K extends 'Bijector'
        ? BijectorValue<T>
        : K extends 'Schedule'
          ? ScheduleValue
          : K extends 'Loss'
            ? LossValue<T>
            : never;

export type PortValues<P extends Record<string, PortDecl>, T> = {
  [K in keyof P]: P[K]['optional'] extends true
    ? ValueOfKind<P[K]['type']['kind'], T> | undefined
    : ValueOfKind<P[K]['type']['kind'], T>;
};

export type PortShapes<P extends Record<string, PortDecl>> = {
  [K in keyof P]: P[K]['optional'] extends true ? PortShape | undefined : PortShape;
};

export type OutShapes<P extends Record<string, PortDecl>> = { [K in keyof P]: PortShape };

/** Thrown by `infer` when inputs do not fit; becomes a diagnostic on that port. */
export class InferError extends Error {
  constructor(
    readonly port: string,
    message: string,
    readonly code: 'shape-mismatch' | 'bad-input' = 'shape-mismatch',
  ) {
    super(message);
  }
}

export interface ApplyArgs<I extends Record<string, PortDecl>, P, T, B> {
  inputs: PortValues<I, T>;
  params: P;
  /** inferred shapes of this node's inputs */
  shapes: PortShapes<I>;
  /** what `build` returned */
  built: B;
}

export interface NodeMath {
  /** KaTeX-renderable LaTeX of what the node computes */
  latex: string;
  /** one paragraph for learners */
  explain: string;
}

export interface NodeSpec<
  I extends Record<string, PortDecl> = Record<string, PortDecl>,
  O extends Record<string, PortDecl> = Record<string, PortDecl>,
  S extends z.ZodType = z.ZodType,
  B = unknown,
> {
  /** stable, namespaced id, e.g. `flow.affineCoupling` */
  type: string;
  version: number;
  title: string;
  family: Family;
  role: Role;
  inputs: I;
  outputs: O;
  /** zod schema with a default for every field: `params.parse({})` gives the defaults */
  params: S;
  /** upgrades params written by an older version, one version at a time */
  migrate?: (params: Record<string, unknown>, fromVersion: number) => Record<string, unknown>;
  math: NodeMath;
  /** output shapes from input shapes and params; throws InferError naming the port */
  infer(shapes: PortShapes<I>, params: z.output<S>): OutShapes<O>;
  /**
   * Creates parameters, constants and the outputs that do not depend on per-batch inputs
   * (a network's Fn, a prior's Dist, a Schedule). Called once per runner, outside any
   * training step. `statics` holds the inputs whose upstream outputs are static.
   */
  build?<T>(ctx: NodeCtx<T>, params: z.output<S>, shapes: PortShapes<I>, statics: Partial<PortValues<I, T>>): B;
  /** outputs of `build` under output port names (these need no inputs) */
  staticOutputs?: readonly (keyof O & string)[];
  /** the computation, written against Ops */
  apply<T>(ctx: NodeCtx<T>, args: ApplyArgs<I, z.output<S>, T, B>): Partial<PortValues<O, T>>;
}

export type AnyNodeSpec = NodeSpec<Record<string, PortDecl>, Record<string, PortDecl>, z.ZodType, any>;

export function defineNode<
  const I extends Record<string, PortDecl>,
  const O extends Record<string, PortDecl>,
  S extends z.ZodType,
  B = undefined,
>(spec: NodeSpec<I, O, S, B>): NodeSpec<I, O, S, B> {
  return spec;
}
