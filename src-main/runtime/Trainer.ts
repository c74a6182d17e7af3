/**
 * Runs a compiled Program on tfjs: one `round()` runs every objective, in order, for its
 * steps per round, each with its own Adam optimiser over the parameters of the networks
 * it trains. Randomness is derived from (seed, round), so a run resumed from a checkpoint
 * continues exactly as the uninterrupted run would have.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossValue, DistValue } from '../../nodes/core/values';
import type { Program } from '../compile/compile';
import { Runner } from '../compile/execute';
import { Rng } from '../data/rng';
import { ParamStore } from './ParamStore';
import { TfjsOps } from './TfjsOps';

/** what the trainer needs from a dataset */
export interface DataFeed {
  dim: number;
  /** a fresh training batch, drawn with the given stream */
  batch(n: number, rng: Rng): Float32Array;
  /** held-out rows, independent of training draws */
  heldOut(n: number): Float32Array;
}

export type TermValues = Record<string, Record<string, number>>;

export class NonFiniteError extends Error {
  constructor(
    readonly objective: string,
    readonly term: string,
    readonly step: number,
  ) {
    super(`objective "${objective}" produced a non-finite ${term} at step ${step}`);
  }
}

export interface TrainerOptions {
  seed: number;
  batchSize: number;
}

/** 32-bit mix of (seed, round) for per-round streams */
export function roundSeed(seed: number, round: number, salt = 0): number {
  let h = Math.imul((seed | 0) ^ 0x85ebca6b, 0xc2b2ae35) ^ Math.imul(round + 1, 0x27d4eb2f) ^ Math.imul(salt + 7, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

export class Trainer {
  readonly ops: TfjsOps;
  readonly store: ParamStore;
  readonly runner: Runner<tf.Tensor>;
  readonly optimizers = new Map<string, tf.Optimizer>();
  private readonly varLists = new Map<string, tf.Variable[]>();
  /** constants created by the nodes' build (schedules, embeddings), freed by dispose() */
  private readonly constants: tf.Tensor[] = [];
  /** completed rounds */
  step = 0;

  constructor(
    readonly program: Program,
    private readonly feeds: Map<string, DataFeed>,
    readonly opts: TrainerOptions,
  ) {
    this.ops = new TfjsOps({ seed: opts.seed });
    this.store = new ParamStore(opts.seed);
    this.store.createAll(program.params);
    this.ops.collect = this.constants;
    try {
      this.runner = new Runner(program.graph, this.ops, { param: (n, s, i) => this.store.get(n, s, i) });
    } finally {
      this.ops.collect = null;
    }
    for (const o of program.objectives) {
      this.optimizers.set(o.nodeId, tf.train.adam(o.optimizer.lr, o.optimizer.beta1, o.optimizer.beta2));
      this.varLists.set(o.nodeId, this.store.list(o.paramNames));
    }
    for (const d of program.data) {
      if (!feeds.has(d.nodeId)) throw new Error(`no data for node "${d.nodeId}"`);
    }
  }

  private feedFn(rng: Rng, batch: number, held = false): (id: string) => tf.Tensor {
    return (id) => {
      const f = this.feeds.get(id)!;
      return tf.tensor2d(held ? f.heldOut(batch) : f.batch(batch, rng), [batch, f.dim]);
    };
  }

  /**
   * One training round. With `read`, returns every objective's loss and terms (this
   * synchronises with the backend; without it the round runs without reading back).
   */
  round(read: boolean): TermValues | undefined {
    const r = this.step;
    const { batchSize, seed } = this.opts;
    this.ops.reseed(roundSeed(seed, r));
    const rng = new Rng(roundSeed(seed, r, 1));
    const out: TermValues = {};
    for (const o of this.program.objectives) {
      const opt = this.optimizers.get(o.nodeId)!;
      const vars = this.varLists.get(o.nodeId)!;
      for (let k = 0; k < o.stepsPerRound; k++) {
        const feed = this.feedFn(rng, batchSize);
        let kept: Record<string, tf.Tensor> | undefined;
        tf.tidy(() => {
          const cost = opt.minimize(
            () => {
              const [v] = this.runner.evaluate([{ node: o.nodeId, port: 'loss' }], { batchSize, mode: 'train', feed });
              const loss = v as LossValue<tf.Tensor>;
              if (read && k === o.stepsPerRound - 1) kept = Object.fromEntries(Object.entries(loss.terms).map(([n, t]) => [n, tf.keep(t)]));
              return loss.value as tf.Scalar;
            },
            read,
            vars,
          );
          if (read && k === o.stepsPerRound - 1 && cost) {
            const terms: Record<string, number> = { loss: cost.dataSync()[0]! };
            for (const [n, t] of Object.entries(kept ?? {})) terms[n] = t.dataSync()[0]!;
            out[o.nodeId] = terms;
          }
        });
        if (kept) for (const t of Object.values(kept)) t.dispose();
        kept = undefined;
      }
    }
    this.step = r + 1;
    if (read) {
      for (const [obj, terms] of Object.entries(out)) {
        for (const [term, v] of Object.entries(terms)) if (!Number.isFinite(v)) throw new NonFiniteError(obj, term, this.step);
      }
      return out;
    }
    return undefined;
  }

  /** true when every parameter is finite (checked per tensor, so large sums cannot overflow) */
  weightsFinite(): boolean {
    for (const v of this.store.vars.values()) {
      const ok = tf.tidy(() => Number.isFinite(v.abs().max().dataSync()[0]!));
      if (!ok) return false;
    }
    return true;
  }

  /** n samples from a sampler node, reproducible for a given seed */
  sample(samplerId: string, n: number, seed = this.opts.seed + 1): { data: Float32Array; shape: number[] } {
    this.ops.reseed(roundSeed(seed, this.step, 2));
    return tf.tidy(() => {
      const [v] = this.runner.evaluate([{ node: samplerId, port: 'samples' }], { batchSize: n, mode: 'sample' });
      const t = v as tf.Tensor;
      return { data: t.dataSync() as Float32Array, shape: t.shape };
    });
  }

  /** mean -log p(x) over held-out rows of a density model (nats per example) */
  heldOutNll(dist: { node: string; port: string }, data: string, n: number, chunk = 1000): number {
    const f = this.feeds.get(data)!;
    const rows = f.heldOut(n);
    const count = rows.length / f.dim;
    let total = 0;
    for (let i = 0; i < count; i += chunk) {
      const m = Math.min(chunk, count - i);
      total += tf.tidy(() => {
        const [v] = this.runner.evaluate([dist], { batchSize: m, mode: 'sample' });
        const x = tf.tensor2d(rows.subarray(i * f.dim, (i + m) * f.dim), [m, f.dim]);
        return -(v as DistValue<tf.Tensor>).logProb(x).sum().dataSync()[0]!;
      });
    }
    return total / count;
  }

  /** an objective's terms on held-out data (e.g. a VAE's negative ELBO) */
  heldOutTerms(objective: string, n: number): Record<string, number> {
    this.ops.reseed(roundSeed(this.opts.seed, this.step, 3));
    return tf.tidy(() => {
      const [v] = this.runner.evaluate([{ node: objective, port: 'loss' }], { batchSize: n, mode: 'train', feed: this.feedFn(new Rng(0), n, true) });
      const loss = v as LossValue<tf.Tensor>;
      const out: Record<string, number> = { loss: loss.value.dataSync()[0]! };
      for (const [k, t] of Object.entries(loss.terms)) out[k] = t.dataSync()[0]!;
      return out;
    });
  }

  async optimizerState(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [obj, opt] of this.optimizers) {
      for (const w of await opt.getWeights()) {
        const name = w.name.startsWith(this.store.prefix) ? w.name.slice(this.store.prefix.length) : w.name;
        out.set(`${obj}::${name}`, { shape: w.tensor.shape, data: w.tensor.dataSync() as Float32Array });
        // getWeights returns the live moment variables, but a fresh scalar for `iter`
        if (w.name === 'iter') w.tensor.dispose();
      }
    }
    return out;
  }

  async loadOptimizerState(state: Map<string, { shape: number[]; data: Float32Array }>): Promise<void> {
    for (const [obj, opt] of this.optimizers) {
      const prefix = `${obj}::`;
      const ws = [...state]
        .filter(([k]) => k.startsWith(prefix))
        .map(([k, v]) => {
          const name = k.slice(prefix.length);
          return { name: name === 'iter' ? name : this.store.prefix + name, tensor: tf.tensor(v.data, v.shape) };
        });
      if (!ws.length) continue;
      await opt.setWeights(ws);
      for (const w of ws) w.tensor.dispose();
      const iter = state.get(`${prefix}iter`)?.data[0];
      if (iter !== undefined) restoreAdamBetaPowers(opt, iter);
    }
  }

  dispose(): void {
    for (const o of this.optimizers.values()) o.dispose();
    this.store.dispose();
    for (const t of this.constants) t.dispose();
    this.constants.length = 0;
  }
}

/**
 * tfjs's Adam.setWeights() sets beta^t with pow(beta, t + 1), whereas training builds it
 * by repeated float32 multiplication (accBeta <- accBeta * beta): the two differ in the last
 * bits, and a resumed run would drift from the uninterrupted one. This recomputes it the
 * way training does (float32 products are correctly rounded on every backend, so
 * Math.fround reproduces them exactly).
 */
export function restoreAdamBetaPowers(optimizer: tf.Optimizer, iterations: number): void {
  const o = optimizer as unknown as { beta1?: number; beta2?: number; accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  if (typeof o.beta1 !== 'number' || typeof o.beta2 !== 'number' || !o.accBeta1 || !o.accBeta2) return; // not Adam
  const power = (beta: number) => {
    const b = Math.fround(beta);
    let acc = b;
    for (let i = 0; i < iterations; i++) acc = Math.fround(acc * b);
    return acc;
  };
  tf.tidy(() => {
    o.accBeta1!.assign(tf.scalar(power(o.beta1!)));
    o.accBeta2!.assign(tf.scalar(power(o.beta2!)));
  });
}
