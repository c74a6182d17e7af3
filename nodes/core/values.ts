import type { Ops } from './ops';
import type { TimeDomain } from './ports';

/**
 * Runtime values flowing on ports, generic over the tensor handle T of an interpreter.
 * A Tensor port carries a plain T.
 */
export interface DistValue<T> {
  kind: 'Dist';
  /** e.g. 'standardNormal', 'diagNormal', 'bernoulli', 'transformed' */
  family: string;
  event: number[];
  /** draws n samples (unconditional dists) or one per batch row (conditional dists) */
  sample(n: number): T;
  /** reparameterised sample where the family allows it (gradients flow to parameters) */
  rsample?(n: number): T;
  /** log density of x, summed over the event: shape [B] */
  logProb(x: T): T;
  /** the mean, where it is cheap (used by "decode to the mean" samplers) */
  mean?(): T;
  /** tensors that define this dist, for analytic KL rules */
  params: Record<string, T>;
}

export interface FnValue<T> {
  kind: 'Fn';
  /** the network node that owns the weights */
  owner: string;
  in: number[];
  out: number[];
  timeConditioned: boolean;
  /** the time domain of t when time conditioned (default discrete) */
  time?: TimeDomain;
  call(x: T, t?: T): T;
  /** a draw from the conditional p(out | in) where the network defines one (decoders) */
  sample?(x: T): T;
}

export interface BijectorValue<T> {
  kind: 'Bijector';
  event: number[];
  /** latent -> data: y = f(x), logDet = log|det df/dx| per row [B] */
  forward(x: T): { y: T; logDet: T };
  /** data -> latent: x = f^-1(y), logDet = log|det df^-1/dy| per row [B] */
  inverse(y: T): { x: T; logDet: T };
  /** node ids of the layers, latent side first */
  layers: string[];
}

export interface ScheduleValue {
  kind: 'Schedule';
  T: number;
  name: string;
  betas: Float64Array;
  alphas: Float64Array;
  /** alphaBars[t-1] = prod_{s<=t} alpha_s, t = 1..T */
  alphaBars: Float64Array;
}

export interface LossValue<T> {
  kind: 'Loss';
  /** the scalar that is minimised */
  value: T;
  /** named scalar terms reported to the user (e.g. recon, kl) */
  terms: Record<string, T>;
}

export type Value<T> = T | DistValue<T> | FnValue<T> | BijectorValue<T> | ScheduleValue | LossValue<T>;

export function isDist<T>(v: unknown): v is DistValue<T> {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Dist';
}

/** Sum over every axis but the batch axis: [B, ...] -> [B] */
export function sumEvent<T>(ops: Ops<T>, x: T): T {
  const rank = ops.shape(x).length;
  if (rank <= 1) return x;
  return ops.sum(x, Array.from({ length: rank - 1 }, (_, i) => i + 1));
}

/** a [B] tensor of zeros shaped after the batch of x [B, d] */
export function rowZeros<T>(ops: Ops<T>, x: T): T {
  return ops.mul(ops.sum(x, [1]), ops.scalar(0));
}
