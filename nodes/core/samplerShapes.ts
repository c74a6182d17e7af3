import { InferError } from '../core/defineNode';
import type { PortShape, TimeDomain } from '../core/ports';

/** the Fn a sampler calls, checked: connected, right arity, in = out where it iterates */
export function samplerFn(shapes: Record<string, PortShape | undefined>, port: string, opts: { timed: boolean; square: boolean; time?: TimeDomain }) {
  const f = shapes[port];
  if (!f) throw new InferError(port, `connect a network to "${port}"`, 'bad-input');
  if (f.kind !== 'Fn') throw new InferError(port, `"${port}" must be a network function`, 'bad-input');
  if (opts.timed && !f.timeConditioned) {
    throw new InferError(port, `the network on "${port}" must take the time step t: connect a time input to it`, 'bad-input');
  }
  if (opts.timed && opts.time && (f.time ?? 'discrete') !== opts.time) {
    const say = (d: TimeDomain) => (d === 'continuous' ? 'continuous time t in [0, 1]' : 'discrete time steps t in 0..T-1');
    throw new InferError(port, `the network on "${port}" takes ${say(f.time ?? 'discrete')}, but this sampler needs ${say(opts.time)}: set the network's time domain`, 'bad-input');
  }
  if (opts.square && (f.in.length !== f.out.length || f.in.some((d, i) => d !== f.out[i]))) {
    throw new InferError(port, `the network on "${port}" maps [B, ${f.in.join(', ')}] to [B, ${f.out.join(', ')}]; an iterative sampler needs the same shape in and out`);
  }
  return f;
}

export const SAMPLES_OUT = { samples: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'generated samples' } } as const;
