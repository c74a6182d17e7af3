/**
 * Iterative samplers are steppers: a state carried through `steps` iterations. The loop
 * is written once here, on `ops.loop` (a JS loop on tfjs, one ONNX Loop in export), so a
 * sampler node only says how to start and how to take step i.
 */
import type { Ops } from './ops';

export interface Stepper<T> {
  /** iterations (network evaluations are steps x calls per step) */
  steps: number;
  /** the carried state at iteration 0 (e.g. [x_T]) */
  init(): T[];
  /** the state after iteration i (i: the int32 iteration counter, 0..steps-1) */
  step(i: T, carry: T[]): T[];
  /** what the sampler returns from the final state (default: its first entry) */
  result?(carry: T[]): T;
}

export function runStepper<T>(ops: Ops<T>, s: Stepper<T>): T {
  const final = ops.loop(s.steps, s.init(), (i, carry) => s.step(i, carry));
  return s.result ? s.result(final) : final[0]!;
}
