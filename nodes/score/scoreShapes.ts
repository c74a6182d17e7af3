/** Input checks shared by the score-matching losses and the Langevin samplers. */
import { InferError } from '../core/defineNode';
import type { PortShape } from '../core/ports';
import { samplerFn } from '../core/samplerShapes';

type FnShape = Extract<PortShape, { kind: 'Fn' }>;

/** the score Fn on `port`: a network mapping points to vectors of the same shape */
export function scoreFn(shapes: Record<string, PortShape | undefined>, port: string, opts: { conditioned?: boolean } = {}): FnShape {
  const f = samplerFn(shapes, port, { timed: false, square: true });
  if (opts.conditioned && !f.timeConditioned) {
    throw new InferError(port, `the score network on "${port}" must be noise conditioned, s(x, sigma): turn on its noiseConditioned`, 'bad-input');
  }
  return f;
}

/** the Schedule on `port` (its T is the number of noise levels) */
export function levels(shapes: Record<string, PortShape | undefined>, port: string, why: string): number {
  const s = shapes[port];
  if (!s) throw new InferError(port, `connect the noise levels (a Schedule) to "${port}": ${why}`, 'bad-input');
  if (s.kind !== 'Schedule') throw new InferError(port, `"${port}" must be a Schedule (noise levels), got ${s.kind}`, 'bad-input');
  return s.T;
}
