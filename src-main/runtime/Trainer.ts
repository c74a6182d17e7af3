/**
 * Runs a compiled Program on tfjs: one `round()` runs every objective, in order, for its
 * steps per round, each with its own optimiser (adam, sgd, rmsprop) over the parameters of
 * the networks it trains, or with those networks' own update rules (`kind: 'update'`).
 * Randomness is derived from (seed, round), so a run resumed from a checkpoint continues
 * exactly as the uninterrupted run would have.
 *
 * One step of an objective:
 *   1. the detached nodes upstream of it (NodeSpec.detached: Langevin negatives) are
 *      evaluated outside the gradient tape; their outputs and the data batch are shared
 *      with the step;
 *   2. the loss is minimised by the optimiser (or evaluated, and the update rules of the
 *      trained networks assign their parameters);
 *   3. node states set during the step (ctx.setState) are assigned;
 *   4. weights are clipped to [-c, c] (optimizer.clipWeights);
 *   5. every EMA shadow of a parameter this objective trains takes its step
 *      theta_ema <- decay theta_ema + (1 - decay) theta.
 * None of this reads back from the backend: a round without `read` never synchronises.
 */
import * as tf from '@tensorflow/tfjs';
import type { StateInit } from '../../nodes/core/defineNode';
import type { OptimizerConfig } from '../../nodes/core/objective';
import type { Init } from '../../nodes/core/ops';
import type { LossValue, DistValue } from '../../nodes/core/values';
import type { ObjectiveProgram, Program } from '../compile/compile';
import { Runner, stepInputs, type EvalOptions, type Memo } from '../compile/execute';
import type { PortRef } from '../graph/validate';
import { Rng } from '../data/rng';
import { ParamStore } from './ParamStore';
import { TfjsOps } from './TfjsOps';

/** what the trainer needs from a dataset */
export interface DataFeed {
  dim: number;
  /** a fresh training batch, drawn with the given stream */
  batch(n: number, rng: Rng): Float32Array;
  /** held-out rows, independent of training draws (a finite split may give fewer: all it holds out) */
  heldOut(n: number): Float32Array;
  /** the sizes of a finite split (MNIST, CSV); absent for sets drawn fresh (toy sets) */
  size?: { train: number; test: number };
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

/** the tf.Optimizer of a gradient objective; undefined for closed-form updates */
export function makeOptimizer(c: OptimizerConfig): tf.Optimizer | undefined {
  switch (c.kind) {
    case 'adam':
      return tf.train.adam(c.lr, c.beta1, c.beta2);
    case 'sgd':
      return c.momentum > 0 ? tf.train.momentum(c.lr, c.momentum) : tf.train.sgd(c.lr);
    case 'rmsprop':
      return tf.train.rmsprop(c.lr, c.decay, c.momentum, c.epsilon);
    case 'update':
      return undefined;
  }
}

/** one EMA shadow: shadow <- decay shadow + (1 - decay) source after each step training source */
interface EmaLink {
  name: string;
  source: string;
  decay: number;
  shadow: tf.Variable;
  from: tf.Variable;
}

/** what one step of an objective does, worked out once */
interface StepPlan {
  objective: ObjectiveProgram;
  /** gradient objectives */
  optimizer?: tf.Optimizer;
  vars: tf.Variable[];
  /** update objectives: the trained networks with an update rule */
  updaters: string[];
  /** one output of each detached node upstream, evaluated before the step off the tape */
  detached: PortRef[];
  /** nodes whose outputs computed before the step are shared with it (detached and data nodes) */
  shared: Set<string>;
  emas: EmaLink[];
  clip?: number;
}

export class Trainer {
  readonly ops: TfjsOps;
  readonly store: ParamStore;
  readonly runner: Runner<tf.Tensor>;
  /** the optimiser of each gradient objective (objectives with update rules have none) */
  readonly optimizers = new Map<string, tf.Optimizer>();
  private readonly plans: StepPlan[] = [];
  /** every EMA shadow, in declaration order */
  readonly emas: EmaLink[] = [];
  /** state values set during the current training step (null outside one) */
  private pending: Map<string, tf.Tensor> | null = null;
  /** constants created by the nodes' build (schedules, embeddings), freed by dispose() */
  private readonly constants: tf.Tensor[] = [];
  /** completed rounds */
  step = 0;
  /**
   * weights of other graphs' trained networks (network.imported) not loaded yet
   * (loadImportedWeights, or a resumed checkpoint); no round runs while any is missing
   */
  readonly importsPending: Set<string>;

  constructor(
    readonly program: Program,
    private readonly feeds: Map<string, DataFeed>,
    readonly opts: TrainerOptions,
  ) {
    this.ops = new TfjsOps({ seed: opts.seed });
    this.store = new ParamStore(opts.seed);
    this.store.createAll(program.params);
    this.importsPending = new Set(program.params.filter((p) => p.init.kind === 'imported').map((p) => p.name));
    this.ops.collect = this.constants;
    try {
      this.runner = new Runner(program.graph, this.ops, {
        param: (n, s, i) => this.store.get(n, s, i),
        state: (n, s, i: StateInit) => this.store.state(n, s, i),
        setState: (n, v) => this.setState(n, v),
        ema: (n, source, decay, s, i: Init) => this.emaShadow(n, source, decay, s, i),
      });
    } finally {
      this.ops.collect = null;
    }
    const g = program.graph;
    for (const o of program.objectives) {
      const optimizer = makeOptimizer(o.optimizer);
      if (optimizer) this.optimizers.set(o.nodeId, optimizer);
      const updaters = optimizer ? [] : o.trains;
      for (const id of updaters) {
        if (!g.nodes.get(id)?.spec.update) {
          throw new Error(`objective "${o.nodeId}" uses the networks' update rules (optimizer kind "update"), but network "${id}" declares none`);
        }
      }
      const { detached, shared } = stepInputs(g, o.nodeId);
      const params = new Set(o.paramNames);
      const clip = o.optimizer.clipWeights;
      this.plans.push({
        objective: o,
        optimizer,
        vars: this.store.list(o.paramNames),
        updaters,
        detached,
        shared,
        emas: this.emas.filter((e) => params.has(e.source)),
        ...(clip !== undefined && { clip }),
      });
    }
    for (const d of program.data) {
      if (!feeds.has(d.nodeId)) throw new Error(`no data for node "${d.nodeId}"`);
    }
  }

  private setState(name: string, value: tf.Tensor): void {
    if (!this.pending) return; // sampling, evaluation: state is read, never written
    const target = this.store.vars.get(name);
    if (!target) throw new Error(`state "${name}" was set before it was declared`);
    if (value.shape.join() !== target.shape.join()) {
      throw new Error(`state "${name}" has shape [${target.shape.join(', ')}], its new value [${value.shape.join(', ')}]`);
    }
    this.pending.get(name)?.dispose();
    // kept: a value computed inside the optimiser's closure outlives that closure's tidy
    this.pending.set(name, tf.keep(value));
  }

  private emaShadow(name: string, source: string, decay: number, shape: number[], init: Init): tf.Variable {
    const from = this.store.get(source, shape, init);
    const existing = this.emas.find((e) => e.name === name);
    if (existing) return existing.shadow;
    const shadow = this.store.shadow(name, from);
    this.emas.push({ name, source, decay, shadow, from });
    return shadow;
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
    if (this.importsPending.size) {
      throw new Error(`the trained weights of other graphs' networks were never loaded (${[...this.importsPending].slice(0, 3).join(', ')}${this.importsPending.size > 3 ? ', ...' : ''}): call loadImportedWeights before training`);
    }
    const r = this.step;
    const { batchSize, seed } = this.opts;
    this.ops.reseed(roundSeed(seed, r));
    const rng = new Rng(roundSeed(seed, r, 1));
    const out: TermValues = {};
    for (const plan of this.plans) {
      const o = plan.objective;
      for (let k = 0; k < o.stepsPerRound; k++) {
        const readNow = read && k === o.stepsPerRound - 1;
        const terms = this.stepOnce(plan, { batchSize, mode: 'train', feed: this.feedFn(rng, batchSize) }, readNow);
        if (terms) out[o.nodeId] = terms;
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

  /** one step of one objective (see the module comment); its terms when `read` */
  private stepOnce(plan: StepPlan, eo: EvalOptions<tf.Tensor>, read: boolean): Record<string, number> | undefined {
    const lossRef = { node: plan.objective.nodeId, port: 'loss' };
    let kept: Record<string, tf.Tensor> | undefined;
    let terms: Record<string, number> | undefined;
    this.pending = new Map();
    try {
      tf.tidy(() => {
        let memo: Memo<tf.Tensor> = new Map();
        if (plan.detached.length) {
          const before: Memo<tf.Tensor> = new Map();
          this.runner.evaluate(plan.detached, eo, before);
          memo = new Map([...before].filter(([id]) => plan.shared.has(id)));
        }
        const evalLoss = () => {
          const [v] = this.runner.evaluate([lossRef], eo, memo);
          const loss = v as LossValue<tf.Tensor>;
          if (read) kept = Object.fromEntries(Object.entries(loss.terms).map(([n, t]) => [n, tf.keep(t)]));
          return loss.value as tf.Scalar;
        };
        let cost: tf.Scalar | null;
        if (plan.optimizer) cost = plan.optimizer.minimize(evalLoss, read, plan.vars);
        else {
          cost = evalLoss();
          for (const [name, v] of this.runner.updates(plan.updaters, eo, memo)) {
            const target = this.store.vars.get(name);
            if (!target || !this.store.isTrainable(name)) throw new Error(`update rule of "${name.slice(0, name.indexOf('/'))}" sets "${name}", which is not one of its parameters`);
            target.assign(v);
          }
        }
        for (const [name, v] of this.pending!) this.store.vars.get(name)!.assign(v);
        if (plan.clip !== undefined) for (const v of plan.vars) v.assign(tf.clipByValue(v, -plan.clip, plan.clip));
        for (const e of plan.emas) e.shadow.assign(tf.add(tf.mul(e.shadow, e.decay), tf.mul(e.from, 1 - e.decay)));
        if (read && cost) {
          terms = { loss: cost.dataSync()[0]! };
          for (const [n, t] of Object.entries(kept ?? {})) terms[n] = t.dataSync()[0]!;
        }
      });
    } finally {
      for (const t of this.pending!.values()) t.dispose();
      this.pending = null;
      if (kept) for (const t of Object.values(kept)) t.dispose();
    }
    return terms;
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

  /**
   * an objective's terms on held-out data (e.g. a VAE's negative ELBO), over n rows or all
   * the rows a finite split holds out when it holds fewer (a small CSV file)
   */
  heldOutTerms(objective: string, n: number): Record<string, number> {
    for (const f of this.feeds.values()) if (f.size) n = Math.min(n, f.size.test);
    if (n < 1) throw new RangeError(`heldOutTerms: the data hold out no rows to evaluate ${objective} on`);
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
    this.store.dispose(); // parameters, state and EMA shadows
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
