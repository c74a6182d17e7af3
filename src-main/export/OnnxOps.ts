/**
 * The recording interpreter of Ops: every call appends ONNX nodes to a graph instead of
 * computing. Running the same Runner (the same node `apply` functions) with OnnxOps
 * records the trained model as ONNX, so the export is the trained model by construction.
 *
 * - Values carry their static shape with -1 for the symbolic batch dimension N, so
 *   `shape(x)` answers what nodes may ask (non-batch dimensions).
 * - The primitives' rules live in ONNX_RULES, an exhaustive mapped type over the primitive
 *   names (a primitive without an ONNX rule is a compile error); the composites (square,
 *   mean, zerosLike ...) and `grad` come from OpsBase, so a gradient records its backward
 *   graph as ONNX nodes, inside a Loop body when taken there.
 * - `loop(n, carry, body)` records `body` once, into a Loop subgraph; the body reads outer
 *   values by lexical scope; every constant and parameter is a main-graph initializer.
 * - Randomness, two modes:
 *   'internal': RandomNormal(Like) / RandomUniformLike nodes; a draw of shape [N, ...]
 *     takes its shape from the batch source (an `n` input or a batched input);
 *   'inputs': each draw reads a graph input instead; a draw inside loops reads a slice of
 *     an input [steps, ..., N, ...] chosen by the loop counters (Gather), so the same noise
 *     can be given to the tfjs model (parity).
 *   Either way every draw is recorded as a NoiseSlot, in call order.
 */
import { OpsBase, installRules, type DType, type GradOpName, type Ops } from '../../nodes/core/ops';
import type { Primitive, Rule } from '../../nodes/core/primitives';
import { ExportError, OnnxUnsupportedError } from './errors';
import { BATCH_DIM, type Attr, type Dim, type ElemType, type Initializer, Scope, allNodes, prune } from './onnxGraph';

/** the batch dimension in OnnxValue shapes (and the batch size given to the Runner) */
export const BATCH = -1;

export interface OnnxValue {
  readonly name: string;
  /** static shape; -1 = the symbolic batch N */
  readonly shape: readonly number[];
  readonly dtype: ElemType;
  /** the graph (main or Loop body) that defines it */
  readonly scope: Scope;
}

export type NoiseMode = 'internal' | 'inputs';

/** one random draw of the recorded computation, in call order */
export interface NoiseSlot {
  index: number;
  kind: 'normal' | 'uniform';
  /** shape of one draw; -1 = batch */
  shape: number[];
  /** trip counts of the enclosing loops, outermost first (the input has these leading dims) */
  loops: number[];
  /** 'inputs': the graph input that feeds the draw; 'internal': the random node's output */
  name: string;
  /** iteration-counter names of the enclosing Loop bodies (internal mode; for the probe) */
  iters: string[];
  /** the graph node that drew (attribution) */
  nodeId?: string;
  /** whether the finished model still contains the draw (dead draws are pruned) */
  used: boolean;
}

export interface OnnxOpsOptions {
  noise: NoiseMode;
  /** family of a graph node, to name noise inputs (a prior draws `z`, a sampler `x_T`) */
  describeNode?: (nodeId: string) => { family: string; type: string } | undefined;
}

export interface RootInput {
  name: string;
  dtype: ElemType;
  shape: number[];
  doc: string;
  /** user inputs stay even if unused; noise inputs are dropped when pruned away */
  kind: 'user' | 'noise';
}

export interface OutputSpec {
  name: string;
  value: OnnxValue;
  doc: string;
}

export interface Recorded {
  graph: Scope;
  initializers: Initializer[];
  inputs: (RootInput & { dims: Dim[] })[];
  outputs: { name: string; dtype: ElemType; shape: number[]; dims: Dim[]; doc: string }[];
  slots: NoiseSlot[];
  /** how many nodes the model has, Loop bodies included */
  nodeCount: number;
  loopCount: number;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const INT64_MAX = 9223372036854775807n;
const sanitize = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');

export function toDims(shape: readonly number[]): Dim[] {
  return shape.map((d) => (d === BATCH ? BATCH_DIM : d));
}

export class OnnxOps extends OpsBase<OnnxValue> {
  readonly name = 'onnx';
  readonly noise: NoiseMode;
  readonly root = new Scope(undefined, 'genloom');
  /** @internal the scope being recorded into */
  cur: Scope = this.root;
  private readonly inits = new Map<string, Initializer>();
  private readonly constCache = new Map<string, OnnxValue>();
  private readonly names = new Set<string>();
  private counter = 0;
  private readonly nodeStack: string[] = [];
  /** @internal enclosing loops, outermost first */
  readonly loops: { iter: OnnxValue; n: number }[] = [];
  readonly slots: NoiseSlot[] = [];
  private readonly rootInputs: RootInput[] = [];
  private batchSource?: OnnxValue;
  private batchVecValue?: OnnxValue;
  private readonly templates = new Map<string, OnnxValue>();
  private readonly describeNode?: OnnxOpsOptions['describeNode'];
  private finished = false;

  constructor(opts: OnnxOpsOptions) {
    super();
    this.noise = opts.noise;
    this.describeNode = opts.describeNode;
  }

  // ---------------------------------------------------------------- Ops (primitives: ONNX_RULES)
  shape(x: OnnxValue): number[] {
    return [...x.shape];
  }

  protected dtypeOf(x: OnnxValue): DType {
    if (x.dtype === 'float32' || x.dtype === 'int32') return x.dtype;
    unsupported('dtype', `a ${x.dtype} value where float32 or int32 is expected`);
  }

  protected override gradError(message: string): never {
    throw new OnnxUnsupportedError('grad', message);
  }

  /**
   * Records `body` once, into a Loop subgraph. A gradient may be taken inside the body (its
   * backward nodes go into the body); a gradient through the loop is an error.
   */
  loop(n: number, carry: OnnxValue[], body: (i: OnnxValue, carry: OnnxValue[]) => OnnxValue[]): OnnxValue[] {
    return this.isolate(carry, () => recordLoop(this, n, carry, body));
  }

  // ---------------------------------------------------------------- graph building

  /** a graph input of the main graph */
  input(name: string, shape: number[], dtype: ElemType, doc: string, kind: RootInput['kind'] = 'user'): OnnxValue {
    this.claim(name);
    this.rootInputs.push({ name, dtype, shape: [...shape], doc, kind });
    return { name, shape: [...shape], dtype, scope: this.root };
  }

  /**
   * Where draws of shape [N, ...] take N from in 'internal' mode: an int64 scalar (the
   * sample count input) or a tensor whose first dimension is the batch.
   */
  setBatchSource(v: OnnxValue): void {
    this.batchSource = v;
    this.batchVecValue = undefined;
  }

  /** a trained parameter, as a named initializer */
  param(name: string, shape: number[], data: Float32Array): OnnxValue {
    const have = this.inits.get(name);
    if (have) return { name, shape: have.dims, dtype: 'float32', scope: this.root };
    if (data.length !== prod(shape)) {
      throw new ExportError('bad-weights', `parameter "${name}" has ${data.length} values, its shape [${shape.join(', ')}] needs ${prod(shape)}`);
    }
    this.claim(name);
    this.inits.set(name, { name, dtype: 'float32', dims: [...shape], data: Float32Array.from(data), doc: 'trained parameter' });
    return { name, shape: [...shape], dtype: 'float32', scope: this.root };
  }

  /**
   * Runs fn with `nodeId` as the node being recorded: ONNX node names get its prefix, and
   * an error becomes an ExportError naming it (the innermost node wins).
   */
  withNode<R>(nodeId: string, fn: () => R): R {
    this.nodeStack.push(nodeId);
    try {
      return fn();
    } catch (e) {
      if (e instanceof ExportError) throw e;
      const info = this.describeNode?.(nodeId);
      const what = `node "${nodeId}"${info ? ` (${info.type})` : ''}`;
      if (e instanceof OnnxUnsupportedError) {
        throw new ExportError('no-onnx-form', `${what} has no ONNX form: ${e.message}`, nodeId);
      }
      throw new ExportError('node-failed', `${what} failed while recording its ONNX form: ${(e as Error).message ?? String(e)}`, nodeId);
    } finally {
      this.nodeStack.pop();
    }
  }

  /** @internal the node being recorded */
  get currentNode(): string | undefined {
    return this.nodeStack[this.nodeStack.length - 1];
  }

  /** @internal a fresh unique name */
  fresh(base: string): string {
    const node = this.currentNode;
    for (;;) {
      const name = `${node ? `${node}/` : ''}${base}_${this.counter++}`;
      if (!this.names.has(name)) {
        this.names.add(name);
        return name;
      }
    }
  }

  /** @internal reserves a given name */
  claim(name: string): void {
    if (this.names.has(name)) throw new Error(`the name "${name}" is already used in this ONNX graph`);
    this.names.add(name);
  }

  /** @internal throws when v is not visible from the scope being recorded */
  use(v: OnnxValue): string {
    if (!this.cur.sees(v.scope)) {
      throw new OnnxUnsupportedError('loop', `value "${v.name}" was computed inside a loop body and used outside it`);
    }
    return v.name;
  }

  /** @internal appends one node with one output */
  emit(op: string, inputs: readonly (OnnxValue | '')[], shape: readonly number[], dtype: ElemType, attrs: Attr[] = [], scope: Scope = this.cur): OnnxValue {
    const prev = this.cur;
    this.cur = scope;
    try {
      const ins = inputs.map((v) => (v === '' ? '' : this.use(v)));
      const name = this.fresh(op);
      scope.nodes.push({ op, name, inputs: ins, outputs: [name], attrs });
      return { name, shape: [...shape], dtype, scope };
    } finally {
      this.cur = prev;
    }
  }

  /** @internal a main-graph initializer; small ones are shared */
  constTensor(data: Initializer['data'], dims: number[], dtype: ElemType): OnnxValue {
    const small = data.length <= 16;
    const key = small ? `${dtype}|${dims.join(',')}|${Array.from(data as ArrayLike<number | bigint>, String).join(',')}` : '';
    if (small) {
      const hit = this.constCache.get(key);
      if (hit) return hit;
    }
    const name = this.fresh(dims.length === 0 ? 'scalar' : 'const');
    this.inits.set(name, { name, dtype, dims: [...dims], data });
    const v: OnnxValue = { name, shape: [...dims], dtype, scope: this.root };
    if (small) this.constCache.set(key, v);
    return v;
  }

  /** @internal an int64 1-D constant (shapes, axes, starts...) */
  i64(values: readonly (number | bigint)[], dims: number[] = [values.length]): OnnxValue {
    return this.constTensor(BigInt64Array.from(values, (v) => BigInt(v)), dims, 'int64');
  }

  /** @internal the batch size as an int64 [1] tensor of the main graph (internal noise mode) */
  batchVec(): OnnxValue {
    if (this.batchVecValue) return this.batchVecValue;
    const src = this.batchSource;
    if (!src) {
      throw new OnnxUnsupportedError('random', 'a draw of [N, ...] needs the batch size, and this model has no input that gives it');
    }
    const v =
      src.shape.length === 0
        ? this.emit('Reshape', [src, this.i64([1])], [1], 'int64', [], this.root)
        : (() => {
            const axis = src.shape.indexOf(BATCH);
            if (axis < 0) throw new OnnxUnsupportedError('random', `the batch source "${src.name}" has no batch dimension`);
            return this.emit('Shape', [src], [1], 'int64', [int('start', axis), int('end', axis + 1)], this.root);
          })();
    this.batchVecValue = v;
    return v;
  }

  /** @internal zeros of shape [N, ...rest], in the main graph, as the template of a *Like draw */
  batchTemplate(shape: readonly number[]): OnnxValue {
    if (shape[0] !== BATCH || shape.slice(1).some((d) => d < 0)) {
      throw new OnnxUnsupportedError('random', `cannot draw a tensor of shape [${shape.join(', ')}]: only the first dimension may be the batch`);
    }
    const key = shape.join(',');
    const hit = this.templates.get(key);
    if (hit) return hit;
    const n = this.batchVec();
    const rest = shape.slice(1);
    const vec = rest.length ? this.emit('Concat', [n, this.i64(rest)], [rest.length + 1], 'int64', [int('axis', 0)], this.root) : n;
    const t = this.emit('ConstantOfShape', [vec], shape, 'float32', [{ name: 'value', type: 'tensor', value: { name: 'value', dtype: 'float32', dims: [1], data: new Float32Array([0]) } }], this.root);
    this.templates.set(key, t);
    return t;
  }

  /** @internal the name of a new noise input ('inputs' mode) */
  private noiseName(kind: 'normal' | 'uniform'): string {
    const node = this.currentNode;
    let base: string;
    if (this.loops.length) base = kind === 'normal' ? 'noise' : 'noise_u';
    else {
      const fam = node ? this.describeNode?.(node)?.family : undefined;
      if (kind === 'normal' && fam === 'prior') base = 'z';
      else if (kind === 'normal' && fam === 'sampler') base = 'x_T';
      else base = `${kind === 'normal' ? 'eps' : 'u'}_${sanitize(node ?? 'draw')}`;
    }
    let name = base;
    for (let k = 2; this.names.has(name); k++) name = `${base}_${k}`;
    return name;
  }

  /**
   * @internal one random draw of `shape` (-1 = batch). `like` is the tensor a *Like op
   * would copy its shape from (internal mode), if there is one.
   */
  draw(kind: 'normal' | 'uniform', shape: readonly number[], like?: () => OnnxValue): OnnxValue {
    const loops = this.loops.map((l) => l.n);
    const slot: NoiseSlot = { index: this.slots.length, kind, shape: [...shape], loops, name: '', iters: [], nodeId: this.currentNode, used: false };
    let v: OnnxValue;
    if (this.noise === 'inputs') {
      const name = this.noiseName(kind);
      const what = kind === 'normal' ? 'standard normal noise N(0, 1)' : 'uniform noise U[0, 1)';
      const doc = loops.length
        ? `${what} for the draw of "${slot.nodeId ?? '?'}" at every loop iteration: row k feeds iteration k`
        : `${what} for the draw of "${slot.nodeId ?? '?'}"`;
      v = this.input(name, [...loops, ...shape], 'float32', doc, 'noise');
      for (const l of this.loops) v = this.emit('Gather', [v, l.iter], v.shape.slice(1), 'float32', [int('axis', 0)]);
      slot.name = name;
    } else {
      const op = kind === 'normal' ? 'RandomNormal' : 'RandomUniform';
      const attrs: Attr[] = kind === 'normal' ? [int('dtype', 1), flt('mean', 0), flt('scale', 1)] : [int('dtype', 1), flt('low', 0), flt('high', 1)];
      if (like) {
        v = this.emit(`${op}Like`, [like()], shape, 'float32', attrs);
      } else if (shape.every((d) => d >= 0)) {
        v = this.emit(op, [], shape, 'float32', [...attrs, ints('shape', [...shape])]);
      } else {
        v = this.emit(`${op}Like`, [this.batchTemplate(shape)], shape, 'float32', attrs);
      }
      slot.name = v.name;
      slot.iters = this.loops.map((l) => l.iter.name);
    }
    this.slots.push(slot);
    return v;
  }

  /**
   * Declares the outputs, prunes everything they do not depend on (dead draws included)
   * and returns the recorded graph. The OnnxOps cannot record afterwards.
   */
  finish(outputs: readonly OutputSpec[]): Recorded {
    if (this.finished) throw new Error('OnnxOps.finish called twice');
    this.finished = true;
    if (this.cur !== this.root) throw new Error('finish() inside a loop body');
    const outs: Recorded['outputs'] = [];
    for (const o of outputs) {
      if (this.names.has(o.name)) throw new Error(`internal: the output name "${o.name}" is already used in this ONNX graph`);
      this.claim(o.name);
      this.use(o.value);
      this.root.nodes.push({ op: 'Identity', name: `output/${o.name}`, inputs: [o.value.name], outputs: [o.name], attrs: [] });
      this.root.outputs.push({ name: o.name, dtype: o.value.dtype, shape: toDims(o.value.shape), doc: o.doc });
      outs.push({ name: o.name, dtype: o.value.dtype, shape: [...o.value.shape], dims: toDims(o.value.shape), doc: o.doc });
    }
    const free = prune(this.root, outs.map((o) => o.name));
    const inputs = this.rootInputs.filter((i) => i.kind === 'user' || free.has(i.name));
    this.root.inputs = inputs.map((i) => ({ name: i.name, dtype: i.dtype, shape: toDims(i.shape), doc: i.doc }));
    const initializers = [...this.inits.values()].filter((i) => free.has(i.name));
    for (const f of free) {
      if (!this.inits.has(f) && !this.rootInputs.some((i) => i.name === f)) throw new Error(`internal: "${f}" is read but never defined`);
    }
    const live = new Set<string>();
    let nodeCount = 0;
    let loopCount = 0;
    for (const n of allNodes(this.root)) {
      nodeCount++;
      if (n.op === 'Loop') loopCount++;
      for (const o of n.outputs) live.add(o);
    }
    for (const s of this.slots) s.used = this.noise === 'inputs' ? inputs.some((i) => i.name === s.name) : live.has(s.name);
    return {
      graph: this.root,
      initializers,
      inputs: inputs.map((i) => ({ ...i, dims: toDims(i.shape) })),
      outputs: outs,
      slots: this.slots,
      nodeCount,
      loopCount,
    };
  }
}

// ------------------------------------------------------------------ attribute helpers
function int(name: string, value: number): Attr {
  return { name, type: 'int', value };
}
function flt(name: string, value: number): Attr {
  return { name, type: 'float', value };
}
function ints(name: string, value: number[]): Attr {
  return { name, type: 'ints', value };
}
const ELEM: Record<ElemType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

// ------------------------------------------------------------------ shape helpers
function unsupported(op: string, msg: string): never {
  throw new OnnxUnsupportedError(op, msg);
}

const fmt = (s: readonly number[]) => `[${s.map((d) => (d === BATCH ? 'N' : String(d))).join(', ')}]`;

export function broadcastShapes(op: string, a: readonly number[], b: readonly number[], fail: (op: string, msg: string) => never = unsupported): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else if (da === BATCH) out.push(db);
    else if (db === BATCH) out.push(da);
    else fail(op, `shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
  }
  return out;
}

/** an axis made non-negative; `fail` (default: this interpreter's error) when out of range */
export function normAxis(op: string, axis: number, rank: number, fail: (op: string, msg: string) => never = unsupported): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank || !Number.isInteger(a)) fail(op, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** reduction axes, non-negative, sorted, once each; all axes when undefined */
export function normAxes(op: string, axes: number[] | undefined, rank: number, fail: (op: string, msg: string) => never = unsupported): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  return [...new Set(axes.map((a) => normAxis(op, a, rank, fail)))].sort((a, b) => a - b);
}

function toElem(dtype: DType | undefined): ElemType {
  return dtype ?? 'float32';
}

function castTo(o: OnnxOps, x: OnnxValue, dtype: ElemType): OnnxValue {
  return x.dtype === dtype ? x : o.emit('Cast', [x], x.shape, dtype, [int('to', ELEM[dtype])]);
}

/** tfjs upcasts mixed int/float arithmetic to float32; ONNX needs equal types */
function unify(o: OnnxOps, xs: OnnxValue[]): OnnxValue[] {
  if (xs.every((x) => x.dtype === xs[0]!.dtype)) return xs;
  const to: ElemType = xs.some((x) => x.dtype === 'float32') ? 'float32' : xs.some((x) => x.dtype === 'int64') ? 'int64' : 'int32';
  return xs.map((x) => castTo(o, x, to));
}

function binary(op: string, onnxOp: string) {
  return (o: OnnxOps, a: OnnxValue, b: OnnxValue): OnnxValue => {
    const [x, y] = unify(o, [a, b]) as [OnnxValue, OnnxValue];
    return o.emit(onnxOp, [x, y], broadcastShapes(op, x.shape, y.shape), x.dtype);
  };
}

function unary(onnxOp: string, attrs: (...a: number[]) => Attr[] = () => []) {
  return (o: OnnxOps, x: OnnxValue, ...a: number[]): OnnxValue => o.emit(onnxOp, [x], x.shape, x.dtype, attrs(...a));
}

function fillLike(o: OnnxOps, x: OnnxValue, value: number, dtype: ElemType): OnnxValue {
  const shape = o.emit('Shape', [x], [x.shape.length], 'int64');
  const data = dtype === 'float32' ? new Float32Array([value]) : dtype === 'int32' ? new Int32Array([value]) : dtype === 'int64' ? new BigInt64Array([BigInt(value)]) : new Uint8Array([value]);
  return o.emit('ConstantOfShape', [shape], x.shape, dtype, [{ name: 'value', type: 'tensor', value: { name: 'value', dtype, dims: [1], data } }]);
}

export function reduceShape(shape: readonly number[], axes: number[], keep: boolean): number[] {
  return keep ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** [before, after] padding of one spatial dim, as TF computes it */
export function tfPads(inSize: number, k: number, s: number, pad: 'same' | 'valid'): { out: number; before: number; after: number } {
  if (pad === 'valid') return { out: Math.floor((inSize - k) / s) + 1, before: 0, after: 0 };
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}

/**
 * The geometry of conv2dTranspose(x, filter, outShape, stride, pad) as TF computes it: the
 * full transposed convolution ((h - 1) s + k rows) cropped to the output ('same': the
 * smaller half before) or, short of it by less than the stride, extended at the end.
 */
export function transposeConvGeometry(xShape: readonly number[], filterShape: readonly number[], outShape: readonly number[], stride: number, pad: 'same' | 'valid', fail: (op: string, msg: string) => never) {
  if (xShape.length !== 4 || filterShape.length !== 4) fail('conv2dTranspose', `needs NHWC x and [kh, kw, out, in] filter, got ${fmt(xShape)}, ${fmt(filterShape)}`);
  const n = outShape.length;
  const [H, W, C] = [outShape[n - 3]!, outShape[n - 2]!, outShape[n - 1]!];
  const [, h, w] = xShape as [number, number, number, number];
  const [kh, kw, outC] = filterShape as [number, number, number, number];
  if (outC !== C) fail('conv2dTranspose', `filter makes ${outC} channels, outShape asks for ${C}`);
  const dims = [
    { full: (h - 1) * stride + kh, want: H },
    { full: (w - 1) * stride + kw, want: W },
  ].map(({ full, want }) => {
    const diff = full - want;
    if (diff >= 0) {
      const before = pad === 'same' ? Math.floor(diff / 2) : 0;
      return { before, after: diff - before, extra: 0 };
    }
    if (-diff >= stride) fail('conv2dTranspose', `output size ${want} cannot be reached from ${full}`);
    return { before: 0, after: 0, extra: -diff };
  }) as [{ before: number; after: number; extra: number }, { before: number; after: number; extra: number }];
  return { H, W, C, h, w, kh, kw, outC, dims };
}

// ------------------------------------------------------------------ the rules
type OpsOf = Ops<OnnxValue>;
/** the Ops methods with a per-op ONNX parity case (test/exportConformance.test.ts) */
export type OpName = Exclude<keyof OpsOf, 'name' | GradOpName>;
/** the ONNX rule of one primitive: its signature, with the recorder first */
export type OnnxRule<K extends Primitive> = Rule<OnnxValue, OnnxOps, K>;

/**
 * Primitives -> ONNX, one rule per primitive. An exhaustive mapped type: adding a primitive
 * without adding its rule here does not compile.
 */
export const ONNX_RULES: { readonly [K in Primitive]: OnnxRule<K> } = {
  constant(o, values, shape, dtype) {
    if (shape.some((d) => d < 0 || !Number.isInteger(d))) {
      unsupported('constant', `a constant of shape [${shape.join(', ')}] depends on the batch size, which is symbolic (N) in ONNX; build per-row values from the inputs instead of from shape(x)[0]`);
    }
    if (values.length !== prod(shape)) unsupported('constant', `${values.length} values do not fill shape [${shape.join(', ')}]`);
    const dt = toElem(dtype);
    const data = dt === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    return o.constTensor(data, [...shape], dt);
  },
  fill: (o, x, value) => fillLike(o, x, value, 'float32'),
  cast: (o, x, dtype) => castTo(o, x, dtype),
  // the same ONNX value under a new identity (no node)
  identity: (_o, x) => ({ ...x }),

  add: binary('add', 'Add'),
  sub: binary('sub', 'Sub'),
  mul: binary('mul', 'Mul'),
  div: binary('div', 'Div'),
  maximum: binary('maximum', 'Max'),
  minimum: binary('minimum', 'Min'),

  neg: unary('Neg'),
  exp: unary('Exp'),
  log: unary('Log'),
  sqrt: unary('Sqrt'),
  abs: unary('Abs'),
  sign: unary('Sign'),
  step: (o, x) => o.emit('Cast', [o.emit('Greater', [x, o.constTensor(new Float32Array([0]), [], 'float32')], x.shape, 'bool')], x.shape, 'float32', [int('to', ELEM.float32)]),
  tanh: unary('Tanh'),
  sigmoid: unary('Sigmoid'),
  softplus: unary('Softplus'),
  relu: unary('Relu'),
  sin: unary('Sin'),
  cos: unary('Cos'),
  clip(o, x, lo, hi) {
    const c = (v: number) => (x.dtype === 'float32' ? o.constTensor(new Float32Array([v]), [], 'float32') : o.constTensor(new Int32Array([v]), [], 'int32'));
    if (x.dtype !== 'float32' && x.dtype !== 'int32') unsupported('clip', `clip of ${x.dtype}`);
    return o.emit('Clip', [x, c(lo), c(hi)], x.shape, x.dtype);
  },

  sum(o, x, axes, keepDims = false) {
    const ax = normAxes('sum', axes, x.shape.length);
    if (ax.length === 0) return x;
    return o.emit('ReduceSum', [x, o.i64(ax)], reduceShape(x.shape, ax, keepDims), x.dtype, [int('keepdims', keepDims ? 1 : 0)]);
  },

  matmul(o, a, b) {
    if (a.shape.length < 2 || b.shape.length < 2) unsupported('matmul', `needs rank >= 2, got ${fmt(a.shape)} x ${fmt(b.shape)}`);
    const [x, y] = unify(o, [a, b]) as [OnnxValue, OnnxValue];
    const k1 = x.shape[x.shape.length - 1]!;
    const k2 = y.shape[y.shape.length - 2]!;
    if (k1 !== k2 && k1 !== BATCH && k2 !== BATCH) unsupported('matmul', `inner dimensions differ: ${fmt(a.shape)} x ${fmt(b.shape)}`);
    const batch = broadcastShapes('matmul', x.shape.slice(0, -2), y.shape.slice(0, -2));
    return o.emit('MatMul', [x, y], [...batch, x.shape[x.shape.length - 2]!, y.shape[y.shape.length - 1]!], x.dtype);
  },
  reshape(o, x, shape) {
    const target = [...shape];
    if (target.filter((d) => d === -1).length > 1 || target.some((d) => d < -1 || !Number.isInteger(d))) {
      unsupported('reshape', `bad target shape [${target.join(', ')}]`);
    }
    const hasBatch = x.shape.includes(BATCH);
    const rest = prod(x.shape.filter((d) => d !== BATCH));
    const known = prod(target.filter((d) => d !== -1));
    let out: number[];
    if (!target.includes(-1)) {
      if (hasBatch) unsupported('reshape', `reshaping ${fmt(x.shape)} to the fixed shape [${target.join(', ')}] would fix the batch size, which is symbolic in ONNX`);
      if (known !== rest) unsupported('reshape', `cannot reshape ${fmt(x.shape)} to [${target.join(', ')}]`);
      out = target;
    } else if (hasBatch) {
      if (known !== rest) unsupported('reshape', `reshaping ${fmt(x.shape)} to [${target.join(', ')}] would merge the batch dimension with others`);
      out = target;
    } else {
      if (known === 0 || rest % known !== 0) unsupported('reshape', `cannot reshape ${fmt(x.shape)} to [${target.join(', ')}]`);
      out = target.map((d) => (d === -1 ? rest / known : d));
    }
    if (out.length === x.shape.length && out.every((d, i) => d === x.shape[i])) return x;
    return o.emit('Reshape', [x, o.i64(hasBatch ? target : out)], out, x.dtype);
  },
  transpose(o, x, perm) {
    const r = x.shape.length;
    const p = perm ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    if (p.length !== r) unsupported('transpose', `perm [${p.join(', ')}] does not fit rank ${r}`);
    const pn = p.map((a) => normAxis('transpose', a, r));
    return o.emit('Transpose', [x], pn.map((a) => x.shape[a]!), x.dtype, [ints('perm', pn)]);
  },
  concat(o, xs, axis) {
    if (xs.length === 0) unsupported('concat', 'nothing to concatenate');
    if (xs.length === 1) return xs[0]!;
    const ys = unify(o, xs);
    const r = ys[0]!.shape.length;
    if (ys.some((y) => y.shape.length !== r)) unsupported('concat', `ranks differ: ${ys.map((y) => fmt(y.shape)).join(', ')}`);
    const ax = normAxis('concat', axis, r);
    if (ys.some((y) => y.shape[ax] === BATCH)) unsupported('concat', 'concatenation along the batch dimension');
    const out = ys[0]!.shape.map((d, i) => (i === ax ? ys.reduce((a, y) => a + y.shape[ax]!, 0) : ys.some((y) => y.shape[i] === BATCH) ? BATCH : d));
    return o.emit('Concat', ys, out, ys[0]!.dtype, [int('axis', ax)]);
  },
  sliceAxis(o, x, axis, begin, size) {
    const ax = normAxis('sliceAxis', axis, x.shape.length);
    const dim = x.shape[ax]!;
    if (begin < 0 || !Number.isInteger(begin) || size < -1) unsupported('sliceAxis', `bad slice begin ${begin} size ${size}`);
    let outDim: number;
    let end: number | bigint;
    if (size === -1) {
      if (dim === BATCH && begin !== 0) unsupported('sliceAxis', 'slicing the batch dimension to an unknown size');
      outDim = dim === BATCH ? BATCH : dim - begin;
      end = INT64_MAX;
    } else {
      if (dim !== BATCH && begin + size > dim) unsupported('sliceAxis', `slice [${begin}, ${begin + size}) is out of range for ${dim}`);
      outDim = size;
      end = begin + size;
    }
    if (begin === 0 && (size === -1 || size === dim)) return x;
    return o.emit('Slice', [x, o.i64([begin]), o.i64([end]), o.i64([ax])], x.shape.map((d, i) => (i === ax ? outDim : d)), x.dtype);
  },
  gather(o, table, indices) {
    const idx = indices.dtype === 'int32' || indices.dtype === 'int64' ? indices : castTo(o, indices, 'int64');
    return o.emit('Gather', [table, idx], [...indices.shape, ...table.shape.slice(1)], table.dtype, [int('axis', 0)]);
  },
  conv2d(o, x, filter, stride, pad) {
    if (x.shape.length !== 4 || filter.shape.length !== 4) unsupported('conv2d', `needs NHWC x and [kh, kw, in, out] filter, got ${fmt(x.shape)}, ${fmt(filter.shape)}`);
    const [, H, W] = x.shape as [number, number, number, number];
    const [kh, kw, , outC] = filter.shape as [number, number, number, number];
    if ([H, W, kh, kw].some((d) => d < 0)) unsupported('conv2d', 'spatial sizes must be static');
    const ph = tfPads(H, kh, stride, pad);
    const pw = tfPads(W, kw, stride, pad);
    const xt = o.emit('Transpose', [x], [x.shape[0]!, x.shape[3]!, H, W], x.dtype, [ints('perm', [0, 3, 1, 2])]);
    const wt = o.emit('Transpose', [filter], [outC, filter.shape[2]!, kh, kw], filter.dtype, [ints('perm', [3, 2, 0, 1])]);
    const y = o.emit('Conv', [xt, wt], [x.shape[0]!, outC, ph.out, pw.out], x.dtype, [
      ints('kernel_shape', [kh, kw]),
      ints('strides', [stride, stride]),
      ints('pads', [ph.before, pw.before, ph.after, pw.after]),
    ]);
    return o.emit('Transpose', [y], [x.shape[0]!, ph.out, pw.out, outC], x.dtype, [ints('perm', [0, 2, 3, 1])]);
  },
  conv2dTranspose(o, x, filter, outShape, stride, pad) {
    const { H, W, C, h, w, kh, kw, outC, dims } = transposeConvGeometry(x.shape, filter.shape, outShape, stride, pad, unsupported);
    const xt = o.emit('Transpose', [x], [x.shape[0]!, x.shape[3]!, h, w], x.dtype, [ints('perm', [0, 3, 1, 2])]);
    const wt = o.emit('Transpose', [filter], [filter.shape[3]!, outC, kh, kw], filter.dtype, [ints('perm', [3, 2, 0, 1])]);
    const y = o.emit('ConvTranspose', [xt, wt], [x.shape[0]!, C, H, W], x.dtype, [
      ints('kernel_shape', [kh, kw]),
      ints('strides', [stride, stride]),
      ints('pads', [dims[0]!.before, dims[1]!.before, dims[0]!.after, dims[1]!.after]),
      ints('output_padding', [dims[0]!.extra, dims[1]!.extra]),
    ]);
    return o.emit('Transpose', [y], [x.shape[0]!, H, W, C], x.dtype, [ints('perm', [0, 2, 3, 1])]);
  },
  /**
   * dW = one Conv over transposed tensors: batch ci, channels N (the batch), input x as
   * [ci, N, H, W], weight dy as [co, N, OH, OW], dilated by the stride; [ci, co, KH, KW]
   * transposed back to [KH, KW, ci, co].
   */
  conv2dFilterGrad(o, x, dy, filterShape, stride, pad) {
    if (x.shape.length !== 4 || dy.shape.length !== 4 || filterShape.length !== 4) unsupported('conv2dFilterGrad', `needs NHWC x and dy, got ${fmt(x.shape)}, ${fmt(dy.shape)}`);
    const [kh, kw, ci, co] = filterShape as [number, number, number, number];
    const [, H, W] = x.shape as [number, number, number, number];
    const [, oh, ow] = dy.shape as [number, number, number, number];
    if ([H, W, oh, ow].some((d) => d < 0)) unsupported('conv2dFilterGrad', 'spatial sizes must be static');
    const top = tfPads(H, kh, stride, pad).before;
    const left = tfPads(W, kw, stride, pad).before;
    // far-side padding that makes the correlation exactly KH x KW; negative: rows never read
    const bottom = (oh - 1) * stride + kh - H - top;
    const right = (ow - 1) * stride + kw - W - left;
    let xs = x;
    if (bottom < 0) xs = ONNX_RULES.sliceAxis(o, xs, 1, 0, H + bottom);
    if (right < 0) xs = ONNX_RULES.sliceAxis(o, xs, 2, 0, W + right);
    const [, h2, w2] = xs.shape as [number, number, number, number];
    const n = x.shape[0]!;
    const xt = o.emit('Transpose', [xs], [ci, n, h2, w2], x.dtype, [ints('perm', [3, 0, 1, 2])]);
    const dt = o.emit('Transpose', [dy], [co, dy.shape[0]!, oh, ow], dy.dtype, [ints('perm', [3, 0, 1, 2])]);
    const g = o.emit('Conv', [xt, dt], [ci, co, kh, kw], x.dtype, [
      ints('kernel_shape', [oh, ow]),
      ints('strides', [1, 1]),
      ints('dilations', [stride, stride]),
      ints('pads', [top, left, Math.max(bottom, 0), Math.max(right, 0)]),
    ]);
    return o.emit('Transpose', [g], [kh, kw, ci, co], x.dtype, [ints('perm', [2, 3, 0, 1])]);
  },

  randomNormal: (o, shape) => o.draw('normal', shape),
  randomNormalLike: (o, x) => o.draw('normal', x.shape, () => x),
  randomUniformLike: (o, x) => o.draw('uniform', x.shape, () => x),
  randomIntLike(o, x, n) {
    if (x.shape.length === 0) unsupported('randomIntLike', 'needs a batched tensor');
    // one draw per row of x: the template is x summed over its other axes
    const rows = () => (x.shape.length === 1 ? x : ONNX_RULES.sum(o, x, Array.from({ length: x.shape.length - 1 }, (_, i) => i + 1)));
    const u = o.draw('uniform', [x.shape[0]!], rows);
    // min(floor(u n), n - 1): u < 1, but u n may round up to n in float32
    const f = o.emit('Floor', [o.emit('Mul', [u, o.constTensor(new Float32Array([n]), [], 'float32')], u.shape, 'float32')], u.shape, 'float32');
    return o.emit('Min', [f, o.constTensor(new Float32Array([n - 1]), [], 'float32')], u.shape, 'float32');
  },

  // a new identity for the same value: the gradient tape must not track it
  stopGradient: (_o, x) => ({ ...x }),
};

/** the Loop node of OnnxOps.loop: `body` recorded once into its subgraph */
function recordLoop(o: OnnxOps, n: number, carry: OnnxValue[], body: (i: OnnxValue, carry: OnnxValue[]) => OnnxValue[]): OnnxValue[] {
  if (!Number.isInteger(n) || n < 0) unsupported('loop', `bad trip count ${n}`);
  for (const c of carry) o.use(c);
  const outer = o.cur;
  const scope = new Scope(outer, o.fresh('loop_body'));
  const iterName = o.fresh('iter');
  const condName = o.fresh('cond');
  scope.inputs.push({ name: iterName, dtype: 'int64', shape: [] }, { name: condName, dtype: 'bool', shape: [] });
  const carried = carry.map((c) => {
    const name = o.fresh('carry_in');
    scope.inputs.push({ name, dtype: c.dtype, shape: toDims(c.shape) });
    return { name, shape: [...c.shape], dtype: c.dtype, scope } as OnnxValue;
  });
  const iter: OnnxValue = { name: iterName, shape: [], dtype: 'int64', scope };
  o.cur = scope;
  o.loops.push({ iter, n });
  try {
    const i = o.emit('Cast', [iter], [], 'int32', [int('to', ELEM.int32)]);
    const outs = body(i, carried);
    if (outs.length !== carry.length) unsupported('loop', `the body returns ${outs.length} values for ${carry.length} carried`);
    const condOut = o.emit('Identity', [{ name: condName, shape: [], dtype: 'bool', scope }], [], 'bool');
    scope.outputs.push({ name: condOut.name, dtype: 'bool', shape: [] });
    outs.forEach((v, k) => {
      const c = carry[k]!;
      if (v.dtype !== c.dtype) unsupported('loop', `carried value ${k} changes type from ${c.dtype} to ${v.dtype}`);
      if (v.shape.length !== c.shape.length || v.shape.some((d, j) => d !== c.shape[j] && d !== BATCH && c.shape[j] !== BATCH)) {
        unsupported('loop', `carried value ${k} changes shape from ${fmt(c.shape)} to ${fmt(v.shape)}`);
      }
      const id = o.emit('Identity', [v], c.shape, c.dtype);
      scope.outputs.push({ name: id.name, dtype: c.dtype, shape: toDims(c.shape) });
    });
  } finally {
    o.loops.pop();
    o.cur = outer;
  }
  const trip = o.i64([n], []);
  const outNames = carry.map(() => o.fresh('loop_out'));
  outer.nodes.push({
    op: 'Loop',
    name: o.fresh('Loop'),
    inputs: [o.use(trip), '', ...carry.map((c) => o.use(c))],
    outputs: outNames,
    attrs: [{ name: 'body', type: 'graph', value: scope }],
  });
  return carry.map((c, k) => ({ name: outNames[k]!, shape: [...c.shape], dtype: c.dtype, scope: outer }));
}

installRules(OnnxOps, ONNX_RULES);
