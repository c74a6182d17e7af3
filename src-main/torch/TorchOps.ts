/**
 * The third interpreter of Ops: every call appends one line of PyTorch to the function
 * being recorded. Running the same Runner (the same node `apply` functions) with TorchOps
 * writes the graph as a Python program, so the PyTorch training step is the tfjs one by
 * construction (emitProgram.ts assembles the program; pythonRuntime.ts is the fixed part).
 *
 * - Values are Python expressions with their static shape; -1 is the batch, which the
 *   recorded functions take as their argument `n` (so one program runs at any batch, and
 *   each process of a torchrun job at its own).
 * - The primitives' rules live in TORCH_RULES, an exhaustive mapped type over the
 *   primitive names (a primitive without a rule is a compile error); the composites and
 *   `grad` come from OpsBase, so an inner gradient (WGAN-GP's penalty) is written out as
 *   its backward primitives and torch's autograd differentiates through it like any op.
 * - `loop(n, carry, body)` writes a Python `for` loop; the body is recorded once.
 * - Constants are hoisted: small ones become literals in the program, large ones are
 *   stored in the program's tensor file (`C['c12']`).
 * - Randomness calls the runtime's draw functions (`rnd_normal`, ...), which draw from the
 *   seeded generator or, for parity checks, replay given noise in call order.
 */
import { OpsBase, installRules, type DType } from '../../nodes/core/ops';
import type { Primitive, Rule } from '../../nodes/core/primitives';
import { broadcastShapes as sharedBroadcast, normAxes as sharedNormAxes, normAxis as sharedNormAxis, reduceShape, tfPads, transposeConvGeometry } from '../export/OnnxOps';

/** the batch dimension in TorchValue shapes */
export const TORCH_BATCH = -1;

export interface TorchValue {
  /** a Python expression (a variable name, `P['enc/l0.w']`, `C['c3']`) */
  readonly expr: string;
  /** static shape; -1 = the batch `n` */
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** a constant of the program: small ones are written as literals, large ones go to the tensor file */
export interface TorchConstant {
  key: string;
  shape: number[];
  dtype: DType;
  data: Float32Array | Int32Array;
}

export class TorchUnsupportedError extends Error {}

/** constants with more values than this are stored in the tensor file */
const INLINE_LIMIT = 64;

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const fmt = (s: readonly number[]) => `[${s.map((d) => (d === TORCH_BATCH ? 'N' : d < 0 ? `${-d}N` : String(d))).join(', ')}]`;

/** a Python float literal that reads back as the same float32 */
export function pyNumber(v: number): string {
  if (Number.isNaN(v)) return "float('nan')";
  if (v === Infinity) return "float('inf')";
  if (v === -Infinity) return "-float('inf')";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return `${v}.0`;
  return String(v);
}

/** a shape as a Python tuple, the batch as `n` */
export function pyShape(shape: readonly number[]): string {
  const parts = shape.map((d) => (d === TORCH_BATCH ? 'n' : d < 0 ? `${-d} * n` : String(d)));
  return parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(', ')})`;
}

/** FLOAT: the program's float type (float32; float64 with --dtype float64, to measure rounding) */
const TORCH_DTYPE: Record<DType, string> = { float32: 'FLOAT', int32: 'torch.int32' };

interface Block {
  lines: string[];
}

export class TorchOps extends OpsBase<TorchValue> {
  readonly name = 'torch';
  readonly constants: TorchConstant[] = [];
  private readonly constCache = new Map<string, TorchValue>();
  private counter = 0;
  private indent = 1;
  private block: Block = { lines: [] };
  /** the node being recorded (for comments), innermost last */
  private readonly nodeStack: string[] = [];
  private lastNode: string | undefined;
  /** describes a node for its heading comment: type and equation */
  describeNode?: (nodeId: string) => { type: string; math?: string } | undefined;

  // ---------------------------------------------------------------- Ops (primitives: TORCH_RULES)
  shape(x: TorchValue): number[] {
    return [...x.shape];
  }

  protected dtypeOf(x: TorchValue): DType {
    return x.dtype;
  }

  /** `for` loop; a gradient through the loop is an error (inside the body it is fine) */
  loop(n: number, carry: TorchValue[], body: (i: TorchValue, carry: TorchValue[]) => TorchValue[]): TorchValue[] {
    if (!Number.isInteger(n) || n < 0) throw new TorchUnsupportedError(`loop: bad trip count ${n}`);
    return this.isolate(carry, () => {
      const names = carry.map(() => this.fresh('c'));
      if (names.length) this.line(`${names.join(', ')} = ${carry.map((c) => c.expr).join(', ')}`);
      const k = this.fresh('k');
      this.line(`for ${k} in range(${n}):`);
      this.indent++;
      try {
        const i = this.emit(`torch.tensor(${k}, dtype=torch.int32, device=DEV)`, [], 'int32');
        const carried = carry.map((c, j) => ({ expr: names[j]!, shape: [...c.shape], dtype: c.dtype }));
        const outs = body(i, carried);
        if (outs.length !== carry.length) throw new TorchUnsupportedError(`loop: the body returns ${outs.length} values for ${carry.length} carried`);
        if (names.length) this.line(`${names.join(', ')} = ${outs.map((o) => o.expr).join(', ')}`);
        else this.line('pass');
        return carry.map((c, j) => ({ expr: names[j]!, shape: [...c.shape], dtype: outs[j]!.dtype }));
      } finally {
        this.indent--;
      }
    });
  }

  // ---------------------------------------------------------------- fused composites
  // Outside a gradient tape (an inner ops.grad needs the primitives, which have VJP rules)
  // the composites are one torch op each: torch's autograd differentiates them, and a step
  // runs fewer, fused kernels.
  override silu(x: TorchValue): TorchValue {
    return this.tape ? super.silu(x) : this.emit(`F.silu(${x.expr})`, x.shape, x.dtype);
  }
  /** F.leaky_relu(x, a) = x for x > 0, a x below: OpsBase's max(x, a x) for a <= 1 and min(x, a x) above */
  override leakyRelu(x: TorchValue, alpha: number): TorchValue {
    return this.tape ? super.leakyRelu(x, alpha) : this.emit(`F.leaky_relu(${x.expr}, ${pyNumber(alpha)})`, x.shape, x.dtype);
  }
  override square(x: TorchValue): TorchValue {
    return this.tape ? super.square(x) : this.emit(`torch.square(${x.expr})`, x.shape, x.dtype);
  }
  override mean(x: TorchValue, axes?: number[], keepDims = false): TorchValue {
    if (this.tape || x.dtype !== 'float32') return super.mean(x, axes, keepDims);
    const ax = normAxes('mean', axes, x.shape.length);
    if (ax.length === 0) return { ...x };
    return this.emit(`torch.mean(${x.expr}, dim=(${ax.join(', ')},), keepdim=${keepDims ? 'True' : 'False'})`, reduceShape(x.shape, ax, keepDims), x.dtype);
  }

  // ---------------------------------------------------------------- recording

  /** records fn into a fresh block; returns its lines (indented one level) and fn's result */
  recordBlock<R>(fn: () => R): { lines: string[]; result: R } {
    const prev = this.block;
    const prevIndent = this.indent;
    const prevNode = this.lastNode;
    this.block = { lines: [] };
    this.indent = 1;
    this.lastNode = undefined;
    try {
      const result = fn();
      return { lines: this.block.lines, result };
    } finally {
      this.block = prev;
      this.indent = prevIndent;
      this.lastNode = prevNode;
    }
  }

  /** runs fn with the lines it writes one level deeper (under a `with` or `if` already written) */
  nested<R>(fn: () => R): R {
    this.indent++;
    try {
      return fn();
    } finally {
      this.indent--;
    }
  }

  /**
   * Runs fn with `nodeId` as the node being recorded: its lines follow a heading comment
   * naming it, and an error names it.
   */
  withNode<R>(nodeId: string, fn: () => R): R {
    this.nodeStack.push(nodeId);
    try {
      return fn();
    } catch (e) {
      if (e instanceof TorchUnsupportedError && !(e as Error).message.startsWith('node "')) {
        const info = this.describeNode?.(nodeId);
        throw new TorchUnsupportedError(`node "${nodeId}"${info ? ` (${info.type})` : ''} has no PyTorch form: ${e.message}`);
      }
      throw e;
    } finally {
      this.nodeStack.pop();
    }
  }

  /** writes one line at the current indentation */
  line(text: string): void {
    const node = this.nodeStack[this.nodeStack.length - 1];
    if (node !== undefined && node !== this.lastNode) {
      this.lastNode = node;
      const info = this.describeNode?.(node);
      const pad = '    '.repeat(this.indent);
      this.block.lines.push(`${pad}# --- ${node}${info ? ` (${info.type})` : ''}`);
      if (info?.math) for (const m of info.math.split('\n')) this.block.lines.push(`${pad}#     ${m}`);
    }
    this.block.lines.push(`${'    '.repeat(this.indent)}${text}`);
  }

  /** @internal a fresh Python name, after the node being recorded (`encoder_v12`) */
  fresh(base: string): string {
    const node = this.nodeStack[this.nodeStack.length - 1];
    const prefix = node === undefined ? '' : `${/^[0-9]/.test(node) ? 'n' : ''}${node.replace(/[^A-Za-z0-9_]/g, '_')}_`;
    return `${prefix}${base}${this.counter++}`;
  }

  /** @internal assigns `code` to a fresh variable */
  emit(code: string, shape: readonly number[], dtype: DType): TorchValue {
    const name = this.fresh('v');
    this.line(`${name} = ${code}`);
    return { expr: name, shape: [...shape], dtype };
  }

  /** a value the program provides (a parameter, a feed, an argument) */
  external(expr: string, shape: readonly number[], dtype: DType = 'float32'): TorchValue {
    return { expr, shape: [...shape], dtype };
  }

  /** @internal a hoisted constant */
  constTensor(values: ArrayLike<number>, shape: number[], dtype: DType): TorchValue {
    const data = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    const small = data.length <= INLINE_LIMIT;
    const key = small ? `${dtype}|${shape.join(',')}|${Array.from(data).join(',')}` : '';
    if (small) {
      const hit = this.constCache.get(key);
      if (hit) return hit;
    }
    const c: TorchConstant = { key: `c${this.constants.length}`, shape: [...shape], dtype, data };
    this.constants.push(c);
    const v = { expr: `C['${c.key}']`, shape: [...shape], dtype };
    if (small) this.constCache.set(key, v);
    return v;
  }
}

function unsupported(op: string, msg: string): never {
  throw new TorchUnsupportedError(`${op}: ${msg}`);
}

const normAxis = (op: string, axis: number, rank: number) => sharedNormAxis(op, axis, rank, unsupported);
const normAxes = (op: string, axes: number[] | undefined, rank: number) => sharedNormAxes(op, axes, rank, unsupported);
const broadcastShapes = (op: string, a: readonly number[], b: readonly number[]) => sharedBroadcast(op, a, b, unsupported);

/** tfjs upcasts mixed int/float arithmetic to float32, as torch's type promotion does */
const joinType = (a: TorchValue, b: TorchValue): DType => (a.dtype === 'float32' || b.dtype === 'float32' ? 'float32' : 'int32');

function binary(fn: string, op: string) {
  return (o: TorchOps, a: TorchValue, b: TorchValue): TorchValue => {
    const shape = broadcastShapes(op, a.shape, b.shape);
    const dt = joinType(a, b);
    // torch keeps int32 / int32 as a float: tfjs floors it
    if (op === 'div' && dt === 'int32') return o.emit(`torch.div(${a.expr}, ${b.expr}, rounding_mode='floor')`, shape, dt);
    return o.emit(`${fn}(${a.expr}, ${b.expr})`, shape, dt);
  };
}

function unary(fn: string) {
  return (o: TorchOps, x: TorchValue): TorchValue => o.emit(`${fn}(${x.expr})`, x.shape, x.dtype);
}

type TorchRule<K extends Primitive> = Rule<TorchValue, TorchOps, K>;

/**
 * The PyTorch form of each primitive, one rule per primitive. An exhaustive mapped type:
 * adding a primitive without adding its rule here does not compile.
 */
export const TORCH_RULES: { readonly [K in Primitive]: TorchRule<K> } = {
  constant(o, values, shape, dtype = 'float32') {
    if (shape.some((d) => d < 0 || !Number.isInteger(d))) unsupported('constant', `a constant of shape ${fmt(shape)} depends on the batch size; build per-row values from the inputs instead`);
    if (values.length !== prod(shape)) unsupported('constant', `${values.length} values do not fill shape ${fmt(shape)}`);
    return o.constTensor(values, [...shape], dtype);
  },
  fill: (o, x, value) => o.emit(`torch.full_like(${x.expr}, ${pyNumber(value)}, dtype=FLOAT)`, x.shape, 'float32'),
  cast: (o, x, dtype) => (x.dtype === dtype ? { ...x } : o.emit(`${x.expr}.to(${TORCH_DTYPE[dtype]})`, x.shape, dtype)),
  identity: (_o, x) => ({ ...x }),

  add: binary('torch.add', 'add'),
  sub: binary('torch.sub', 'sub'),
  mul: binary('torch.mul', 'mul'),
  div: binary('torch.div', 'div'),
  maximum: binary('torch.maximum', 'maximum'),
  minimum: binary('torch.minimum', 'minimum'),

  neg: unary('torch.neg'),
  exp: unary('torch.exp'),
  log: unary('torch.log'),
  sqrt: unary('torch.sqrt'),
  abs: unary('torch.abs'),
  sign: unary('torch.sign'),
  step: (o, x) => o.emit(`(${x.expr} > 0).to(FLOAT)`, x.shape, 'float32'),
  tanh: unary('torch.tanh'),
  sigmoid: unary('torch.sigmoid'),
  softplus: unary('F.softplus'),
  relu: unary('torch.relu'),
  sin: unary('torch.sin'),
  cos: unary('torch.cos'),
  clip: (o, x, lo, hi) => o.emit(`torch.clamp(${x.expr}, ${pyNumber(lo)}, ${pyNumber(hi)})`, x.shape, x.dtype),

  sum(o, x, axes, keepDims = false) {
    const ax = normAxes('sum', axes, x.shape.length);
    if (ax.length === 0) return { ...x };
    const cast = x.dtype === 'int32' ? '.to(torch.int32)' : '';
    return o.emit(`torch.sum(${x.expr}, dim=(${ax.join(', ')},), keepdim=${keepDims ? 'True' : 'False'})${cast}`, reduceShape(x.shape, ax, keepDims), x.dtype);
  },

  matmul(o, a, b) {
    if (a.shape.length < 2 || b.shape.length < 2) unsupported('matmul', `needs rank >= 2, got ${fmt(a.shape)} x ${fmt(b.shape)}`);
    const k1 = a.shape[a.shape.length - 1]!;
    const k2 = b.shape[b.shape.length - 2]!;
    if (k1 !== k2 && k1 !== TORCH_BATCH && k2 !== TORCH_BATCH) unsupported('matmul', `inner dimensions differ: ${fmt(a.shape)} x ${fmt(b.shape)}`);
    const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
    return o.emit(`torch.matmul(${a.expr}, ${b.expr})`, [...batch, a.shape[a.shape.length - 2]!, b.shape[b.shape.length - 1]!], joinType(a, b));
  },
  /**
   * A dimension -k (k > 1) is k times the batch: reshaping [N, 5, 2] to [-1, 2] gives
   * [5N, 2], and back to [-1, 5, 2] gives [N, 5, 2] (torch resolves the -1 itself).
   */
  reshape(o, x, shape) {
    const target = [...shape];
    if (target.filter((d) => d === -1).length > 1 || target.some((d) => d < -1 || !Number.isInteger(d))) unsupported('reshape', `bad target shape [${target.join(', ')}]`);
    const batchDims = x.shape.filter((d) => d < 0);
    if (batchDims.length > 1) unsupported('reshape', `${fmt(x.shape)} has more than one batch dimension`);
    const rest = prod(x.shape.map((d) => (d < 0 ? -d : d)));
    const known = prod(target.filter((d) => d !== -1));
    let out: number[];
    if (!target.includes(-1)) {
      if (batchDims.length) unsupported('reshape', `reshaping ${fmt(x.shape)} to the fixed shape [${target.join(', ')}] would fix the batch size`);
      if (known !== rest) unsupported('reshape', `cannot reshape ${fmt(x.shape)} to [${target.join(', ')}]`);
      out = target;
    } else {
      if (known === 0 || rest % known !== 0) unsupported('reshape', `cannot reshape ${fmt(x.shape)} to [${target.join(', ')}]`);
      const k = rest / known;
      out = target.map((d) => (d === -1 ? (batchDims.length ? -k : k) : d));
    }
    if (out.length === x.shape.length && out.every((d, i) => d === x.shape[i])) return { ...x };
    return o.emit(`torch.reshape(${x.expr}, (${target.join(', ')}${target.length === 1 ? ',' : ''}))`, out, x.dtype);
  },
  transpose(o, x, perm) {
    const r = x.shape.length;
    const p = perm ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    if (p.length !== r) unsupported('transpose', `perm [${p.join(', ')}] does not fit rank ${r}`);
    const pn = p.map((a) => normAxis('transpose', a, r));
    return o.emit(`${x.expr}.permute(${pn.join(', ')})`, pn.map((a) => x.shape[a]!), x.dtype);
  },
  concat(o, xs, axis) {
    if (xs.length === 0) unsupported('concat', 'nothing to concatenate');
    if (xs.length === 1) return { ...xs[0]! };
    const r = xs[0]!.shape.length;
    if (xs.some((y) => y.shape.length !== r)) unsupported('concat', `ranks differ: ${xs.map((y) => fmt(y.shape)).join(', ')}`);
    const ax = normAxis('concat', axis, r);
    if (xs.some((y) => y.shape[ax] === TORCH_BATCH)) unsupported('concat', 'concatenation along the batch dimension');
    const out = xs[0]!.shape.map((d, i) => (i === ax ? xs.reduce((a, y) => a + y.shape[ax]!, 0) : xs.some((y) => y.shape[i] === TORCH_BATCH) ? TORCH_BATCH : d));
    const dt = xs.some((y) => y.dtype === 'float32') ? 'float32' : 'int32';
    return o.emit(`torch.cat([${xs.map((y) => y.expr).join(', ')}], dim=${ax})`, out, dt);
  },
  sliceAxis(o, x, axis, begin, size) {
    const ax = normAxis('sliceAxis', axis, x.shape.length);
    const dim = x.shape[ax]!;
    if (begin < 0 || !Number.isInteger(begin) || size < -1) unsupported('sliceAxis', `bad slice begin ${begin} size ${size}`);
    if (size === -1 && dim === TORCH_BATCH && begin !== 0) unsupported('sliceAxis', 'slicing the batch dimension to an unknown size');
    if (size !== -1 && dim !== TORCH_BATCH && begin + size > dim) unsupported('sliceAxis', `slice [${begin}, ${begin + size}) is out of range for ${dim}`);
    if (begin === 0 && (size === -1 || size === dim)) return { ...x };
    const outDim = size === -1 ? dim - begin : size;
    const lead = ':, '.repeat(ax);
    const stop = size === -1 ? '' : String(begin + size);
    return o.emit(`${x.expr}[${lead}${begin}:${stop}]`, x.shape.map((d, i) => (i === ax ? outDim : d)), x.dtype);
  },
  gather: (o, table, indices) => o.emit(`${table.expr}[${indices.expr}.long()]`, [...indices.shape, ...table.shape.slice(1)], table.dtype),
  conv2d(o, x, filter, stride, pad) {
    if (x.shape.length !== 4 || filter.shape.length !== 4) unsupported('conv2d', `needs NHWC x and [kh, kw, in, out] filter, got ${fmt(x.shape)}, ${fmt(filter.shape)}`);
    const [, H, W] = x.shape as [number, number, number, number];
    const [kh, kw, , outC] = filter.shape as [number, number, number, number];
    const ph = tfPads(H, kh, stride, pad);
    const pw = tfPads(W, kw, stride, pad);
    // TF pads 'same' unevenly (more after): pad explicitly, then a 'valid' NCHW convolution
    const xp = `F.pad(${x.expr}.permute(0, 3, 1, 2), (${pw.before}, ${pw.after}, ${ph.before}, ${ph.after}))`;
    return o.emit(`F.conv2d(${xp}, ${filter.expr}.permute(3, 2, 0, 1), stride=${stride}).permute(0, 2, 3, 1)`, [x.shape[0]!, ph.out, pw.out, outC], x.dtype);
  },
  conv2dTranspose(o, x, filter, outShape, stride, pad) {
    // the full transposed convolution, then cropped (TF's 'same' crop) or zero-extended
    const { H, W, C, dims } = transposeConvGeometry(x.shape, filter.shape, outShape, stride, pad, unsupported);
    const [ch, cw] = dims;
    const y = o.fresh('t');
    o.line(`${y} = F.conv_transpose2d(${x.expr}.permute(0, 3, 1, 2), ${filter.expr}.permute(3, 2, 0, 1), stride=${stride})`);
    const padded = ch.extra || cw.extra ? `F.pad(${y}, (0, ${cw.extra}, 0, ${ch.extra}))` : y;
    return o.emit(`${padded}[:, :, ${ch.before}:${ch.before + H}, ${cw.before}:${cw.before + W}].permute(0, 2, 3, 1)`, [x.shape[0]!, H, W, C], x.dtype);
  },
  /** dW[kh, kw, ci, co] = sum_{n, oh, ow} xPad[n, oh s + kh, ow s + kw, ci] dy[n, oh, ow, co], as one dilated convolution */
  conv2dFilterGrad(o, x, dy, filterShape, stride, pad) {
    if (x.shape.length !== 4 || dy.shape.length !== 4 || filterShape.length !== 4) unsupported('conv2dFilterGrad', `needs NHWC x and dy, got ${fmt(x.shape)}, ${fmt(dy.shape)}`);
    const [kh, kw] = filterShape as [number, number, number, number];
    const [, H, W] = x.shape as [number, number, number, number];
    const [, oh, ow] = dy.shape as [number, number, number, number];
    const top = tfPads(H, kh, stride, pad).before;
    const left = tfPads(W, kw, stride, pad).before;
    const bottom = (oh - 1) * stride + kh - H - top;
    const right = (ow - 1) * stride + kw - W - left;
    const xs = `${x.expr}[:, :${H + Math.min(bottom, 0)}, :${W + Math.min(right, 0)}, :]`;
    const xt = `F.pad(${xs}.permute(3, 0, 1, 2), (${left}, ${Math.max(right, 0)}, ${top}, ${Math.max(bottom, 0)}))`;
    return o.emit(`F.conv2d(${xt}, ${dy.expr}.permute(3, 0, 1, 2), dilation=${stride}).permute(2, 3, 0, 1)`, [...filterShape], x.dtype);
  },

  randomNormal: (o, shape) => o.emit(`rnd_normal(${pyShape(shape)})`, shape, 'float32'),
  randomNormalLike: (o, x) => o.emit(`rnd_normal(${x.expr}.shape)`, x.shape, 'float32'),
  randomUniformLike: (o, x) => o.emit(`rnd_uniform(${x.expr}.shape)`, x.shape, 'float32'),
  randomIntLike(o, x, n) {
    if (x.shape.length === 0) unsupported('randomIntLike', 'needs a batched tensor');
    return o.emit(`rnd_int(${x.expr}.shape[0], ${n})`, [x.shape[0]!], 'float32');
  },

  stopGradient: (o, x) => o.emit(`${x.expr}.detach()`, x.shape, x.dtype),
};

installRules(TorchOps, TORCH_RULES);
