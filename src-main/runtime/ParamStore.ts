/**
 * Trainable parameters as tf.Variables, initialised from a seeded JS stream so that the
 * same seed gives the same initial weights on every backend.
 * Glorot uniform (Glorot & Bengio 2010, eq. 16): U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
 *
 * The store also keeps the non-trainable persistent tensors: node state (`state/...`, a
 * replay buffer) and EMA shadows (`ema/...`). They live in `vars` beside the parameters,
 * so snapshots (checkpoint weights, export) and `load` (resume) carry them by name; state
 * draws its initial values from its own stream, so adding a state never changes the
 * parameters' initial values.
 */
import * as tf from '@tensorflow/tfjs';
import type { StateInit } from '../../nodes/core/defineNode';
import type { Init, ParamSpec } from '../../nodes/core/ops';
import { Rng } from '../data/rng';

export function initialValues(spec: { shape: number[]; init: StateInit }, rng: Rng): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(size);
  const init = spec.init;
  switch (init.kind) {
    case 'zeros':
    case 'imported': // loaded from the source run before training (loadImportedWeights)
      break;
    case 'ones':
      v.fill(1);
      break;
    case 'constant':
      v.fill(init.value);
      break;
    case 'normal':
      for (let i = 0; i < size; i++) v[i] = rng.normal() * init.std;
      break;
    case 'uniform':
      for (let i = 0; i < size; i++) v[i] = init.low + (init.high - init.low) * rng.uniform();
      break;
    case 'glorot': {
      const fanIn = spec.shape.length >= 2 ? spec.shape.slice(0, -1).reduce((a, b) => a * b, 1) : spec.shape[0]!;
      const fanOut = spec.shape[spec.shape.length - 1]!;
      const a = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) v[i] = (2 * rng.uniform() - 1) * a;
      break;
    }
  }
  return v;
}

let storeCount = 0;

export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();
  private readonly rng: Rng;
  private readonly stateRng: Rng;
  /** names of the non-trainable tensors (state, EMA shadows) */
  private readonly nonTrainable = new Set<string>();
  /** tfjs registers variable names globally: each store prefixes its own */
  readonly prefix = `s${storeCount++}:`;

  constructor(seed: number) {
    this.rng = new Rng(seed).fork(0x9a7a);
    this.stateRng = new Rng(seed).fork(0x57a7e);
  }

  /** creates (first use) or returns the non-trainable state `name` */
  state(name: string, shape: number[], init: StateInit): tf.Variable {
    let v = this.vars.get(name);
    if (!v) {
      const init0 = tf.tensor(initialValues({ shape, init }, this.stateRng), shape);
      v = tf.variable(init0, false, this.prefix + name);
      init0.dispose();
      this.vars.set(name, v);
      this.nonTrainable.add(name);
    } else if (v.shape.join() !== shape.join()) {
      throw new Error(`state "${name}" is declared with shapes [${v.shape.join(', ')}] and [${shape.join(', ')}]`);
    }
    return v;
  }

  /** creates (first use, as a copy of `source`) or returns the non-trainable shadow `name` */
  shadow(name: string, source: tf.Variable): tf.Variable {
    let v = this.vars.get(name);
    if (!v) {
      const copy = source.clone();
      v = tf.variable(copy, false, this.prefix + name);
      copy.dispose();
      this.vars.set(name, v);
      this.nonTrainable.add(name);
    }
    return v;
  }

  /** true for parameters, false for state and EMA shadows */
  isTrainable(name: string): boolean {
    return this.vars.has(name) && !this.nonTrainable.has(name);
  }

  /** creates the variable on first use (declaration order is topological, so deterministic) */
  get(name: string, shape: number[], init: Init): tf.Variable {
    let v = this.vars.get(name);
    if (!v) {
      const init0 = tf.tensor(initialValues({ shape, init }, this.rng), shape);
      v = tf.variable(init0, true, this.prefix + name);
      init0.dispose(); // the variable holds its own reference to the data
      this.vars.set(name, v);
    }
    return v;
  }

  /** creates every parameter of a compiled program up front */
  createAll(specs: readonly ParamSpec[]): void {
    for (const s of specs) this.get(s.name, s.shape, s.init);
  }

  list(names: readonly string[]): tf.Variable[] {
    return names.map((n) => {
      const v = this.vars.get(n);
      if (!v) throw new Error(`parameter ${n} does not exist`);
      return v;
    });
  }

  /** name -> values, for checkpoints and export */
  snapshot(): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, v] of this.vars) out.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
    return out;
  }

  load(values: Map<string, { shape: number[]; data: Float32Array }>): void {
    for (const [name, v] of this.vars) {
      const src = values.get(name);
      if (!src) throw new Error(`the checkpoint has no tensor "${name}"`);
      if (src.shape.join() !== v.shape.join()) {
        throw new Error(`the checkpoint's "${name}" has shape [${src.shape.join(', ')}], the graph expects [${v.shape.join(', ')}]`);
      }
      tf.tidy(() => v.assign(tf.tensor(src.data, src.shape)));
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
