/**
 * The abstract tensor machine every node's `apply` is written against.
 *
 * Interpreters:
 * - `TfjsOps` (src-main/runtime/) executes eagerly on a tfjs backend: training, sampling, eval.
 * - `OnnxOps` (src-main/export/) records the same calls as ONNX nodes: export.
 *
 * Conventions
 * - Every tensor carries a leading batch dimension unless it is a parameter or a constant.
 * - Binary element-wise ops broadcast with numpy rules.
 * - Randomness only through `randomNormal*` / `randomUniform*`, so an interpreter can
 *   replace draws with named inputs (ONNX "noise as inputs" mode) or seed them.
 * - `shape(x)` returns the static shape where it is known; an interpreter with a symbolic
 *   batch returns -1 for that dimension. Nodes must only use it for non-batch dimensions.
 *
 * Structure: the primitives (primitives.ts) are what an interpreter implements, as one
 * exhaustive rule table installed on a subclass of `OpsBase` (`installRules`); the other
 * ops are composites written once in `OpsBase`. `grad` / `grads` / `vjp` are reverse mode
 * (grad.ts): they work on every interpreter, nest, and in training tfjs's autodiff
 * differentiates through them.
 */
import { Tape, backward, record } from './grad';
import { PRIMITIVES, type PrimSigs, type Primitive, type Rules } from './primitives';

export type DType = 'float32' | 'int32';

export type Init =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  | { kind: 'glorot' }
  | { kind: 'normal'; std: number }
  /**
   * a trained weight of another graph's run (a network.imported node): zeros until the
   * trainer loads `source` (the run folder) `name` (the weight's name in that run)
   */
  | { kind: 'imported'; source: string; name: string };

export interface ParamSpec {
  /** `${nodeId}/${local}` */
  name: string;
  shape: number[];
  init: Init;
}

export interface Ops<T> extends PrimSigs<T> {
  readonly name: string;

  // composites (OpsBase)
  scalar(value: number, dtype?: DType): T;
  /** zeros of x's shape and dtype */
  zerosLike(x: T): T;
  /** ones of x's shape and dtype */
  onesLike(x: T): T;
  square(x: T): T;
  /** x for x > 0, alpha x below */
  leakyRelu(x: T, alpha: number): T;
  /** x sigmoid(x) */
  silu(x: T): T;
  mean(x: T, axes?: number[], keepDims?: boolean): T;

  /** the static shape; -1 for a symbolic batch */
  shape(x: T): number[];

  /**
   * Runs `body` n times; carry is threaded through. `i` is the iteration number (0..n-1)
   * as an int32 scalar. Interpreters may compile this into one loop (ONNX Loop).
   */
  loop(n: number, carry: T[], body: (i: T, carry: T[]) => T[]): T[];

  // reverse mode: values f closes over are constants; a gradient may be taken inside a
  // loop body everywhere, through a loop on tfjs only (the ONNX recorder throws)
  /** d sum(f(x)) / dx, x's shape */
  grad(f: (x: T) => T, x: T): T;
  /** the gradients of sum(f(...xs)) with respect to each of xs */
  grads(f: (...xs: T[]) => T, xs: T[]): T[];
  /** cotangent^T (df/dx): the gradient of sum(f(x) * cotangent) */
  vjp(f: (x: T) => T, x: T, cotangent: T): T;
}

/** the Ops members that came with reverse mode */
export type GradOpName = 'identity' | 'sign' | 'step' | 'conv2dFilterGrad' | 'grad' | 'grads' | 'vjp';

/**
 * The composites and reverse mode, once for every interpreter. A subclass implements
 * `shape`, `loop` and `dtypeOf`, and gets its primitives from a rule table (`installRules`).
 */
export abstract class OpsBase<T> implements Ops<T> {
  abstract readonly name: string;
  /** @internal the innermost active gradient tape */
  tape: Tape<T> | null = null;

  abstract shape(x: T): number[];
  abstract loop(n: number, carry: T[], body: (i: T, carry: T[]) => T[]): T[];
  protected abstract dtypeOf(x: T): DType;

  /** the error for a gradient this interpreter cannot record */
  protected gradError(message: string): never {
    throw new Error(message);
  }

  // ---------------------------------------------------------------- composites
  scalar(value: number, dtype?: DType): T {
    return this.constant([value], [], dtype);
  }
  zerosLike(x: T): T {
    return this.fillAs(x, 0);
  }
  onesLike(x: T): T {
    return this.fillAs(x, 1);
  }
  private fillAs(x: T, v: number): T {
    const z = this.fill(x, v);
    const dt = this.dtypeOf(x);
    return dt === 'float32' ? z : this.cast(z, dt);
  }
  square(x: T): T {
    return this.mul(x, x);
  }
  // alpha <= 1: max(x, alpha x); alpha > 1: min(x, alpha x)
  leakyRelu(x: T, alpha: number): T {
    const ax = this.mul(x, this.scalar(alpha));
    return alpha <= 1 ? this.maximum(x, ax) : this.minimum(x, ax);
  }
  silu(x: T): T {
    return this.mul(x, this.sigmoid(x));
  }
  // sum / count; the count is a constant unless a reduced axis is the symbolic batch
  mean(x: T, axes?: number[], keepDims?: boolean): T {
    const s = this.shape(x);
    const ax = axes === undefined ? s.map((_, i) => i) : axes.map((a) => (a < 0 ? a + s.length : a));
    const total = this.sum(x, axes, keepDims);
    const uniq = [...new Set(ax)];
    if (uniq.some((a) => s[a]! < 0)) return this.div(total, this.sum(this.fill(x, 1), axes, keepDims));
    return this.div(total, this.scalar(uniq.reduce((n, a) => n * s[a]!, 1)));
  }

  // ---------------------------------------------------------------- reverse mode
  grad(f: (x: T) => T, x: T): T {
    return this.reverse((xs) => f(xs[0]!), [x], undefined)[0]!;
  }
  grads(f: (...xs: T[]) => T, xs: T[]): T[] {
    return this.reverse((s) => f(...s), xs, undefined);
  }
  vjp(f: (x: T) => T, x: T, cotangent: T): T {
    return this.reverse((xs) => f(xs[0]!), [x], cotangent)[0]!;
  }

  /**
   * f runs on fresh aliases of xs (so values f closes over, even xs themselves, are
   * constants) with a new tape on top; backward then runs with that tape closed, so its
   * primitive calls are recorded on the enclosing tapes (grad of grad).
   */
  private reverse(f: (xs: T[]) => T, xs: readonly T[], cotangent: T | undefined): T[] {
    const seeds = xs.map((x) => this.identity(x));
    const tape = new Tape<T>(this.tape);
    for (const s of seeds) tape.tracked.add(s);
    this.tape = tape;
    let y: T;
    try {
      y = f(seeds);
    } finally {
      this.tape = tape.outer;
    }
    const gs = tape.tracked.has(y) ? backward<T>(this, tape, y, cotangent ?? this.fill(y, 1), seeds) : [];
    return xs.map((x, k) => gs[k] ?? this.fill(x, 0));
  }

  /**
   * @internal records a call on the active tapes (installRules' dispatch calls it only
   * while a tape is active)
   */
  record(prim: Primitive, y: T, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown): void {
    record(this.tape!, prim, y, a, b, c, d, e, (p) =>
      this.gradError(`${p}: a gradient cannot flow through a loop on the ${this.name} interpreter (take the gradient inside the loop body instead)`),
    );
  }

  /**
   * Runs fn (the recording of a loop body, say) with the active tapes closed: `carry`
   * must not be tracked, and a tracked value used inside fn is an error (gradError).
   */
  protected isolate<R>(carry: readonly T[], fn: () => R): R {
    const closed: Tape<T>[] = [];
    for (let t = this.tape; t !== null; t = t.outer) {
      if (carry.some((c) => t!.tracked.has(c))) {
        this.gradError(`loop: a gradient cannot flow through a loop on the ${this.name} interpreter (take the gradient inside the loop body instead)`);
      }
      if (!t.frozen) closed.push(t);
    }
    for (const t of closed) t.frozen = true;
    try {
      return fn();
    } finally {
      for (const t of closed) t.frozen = false;
    }
  }
}

// the primitives of OpsBase come from the rule table of each subclass
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface OpsBase<T> extends PrimSigs<T> {}

type AnyRule = (self: unknown, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => unknown;

/**
 * Makes the rules the primitives of `cls`: each method calls its rule and, only while a
 * gradient tape is active, records the call.
 */
export function installRules<T, S extends OpsBase<T>>(cls: abstract new (...args: never[]) => S, rules: Rules<T, S>): void {
  for (const k of PRIMITIVES) {
    const rule = rules[k] as unknown as AnyRule;
    if (typeof rule !== 'function') throw new Error(`internal: no rule for the primitive ${k}`);
    const method = function (this: S, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown): unknown {
      const y = rule(this, a, b, c, d, e);
      if (this.tape !== null) this.record(k, y as T, a, b, c, d, e);
      return y;
    };
    Object.defineProperty(method, 'name', { value: k });
    Object.defineProperty(cls.prototype, k, { value: method, writable: true, configurable: true, enumerable: false });
  }
}
