/**
 * A small in-memory ONNX graph (nodes, nested Loop bodies, initializers) that OnnxOps
 * records into, dead-code elimination across subgraphs, and serialisation to a
 * ModelProto with onnx-proto (protobufjs).
 *
 * Conventions of the models we write: IR 8, default-domain opset 17, every tensor's
 * data little-endian in raw_data, initializers only in the main graph (Loop bodies read
 * them, and other outer values, by lexical scope), symbolic batch dimension "N".
 */
import onnxPkg from 'onnx-proto';
import type { onnx as OnnxNs } from 'onnx-proto';

// onnx-proto is CommonJS: its namespace is a property of the default export.
export const onnx: typeof OnnxNs = (onnxPkg as unknown as { onnx: typeof OnnxNs }).onnx;

export const IR_VERSION = 8;
export const OPSET = 17;
/** the symbolic batch dimension of inputs and outputs */
export const BATCH_DIM = 'N';

export type ElemType = 'float32' | 'int32' | 'int64' | 'bool';
export const ELEM_CODE: Record<ElemType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

/** a dimension: a size, or a symbolic name (dim_param) */
export type Dim = number | string;

export interface TensorInfo {
  name: string;
  dtype: ElemType;
  shape: Dim[];
  doc?: string;
}

export type Attr =
  | { name: string; type: 'int'; value: number }
  | { name: string; type: 'float'; value: number }
  | { name: string; type: 'ints'; value: number[] }
  | { name: string; type: 'floats'; value: number[] }
  | { name: string; type: 'string'; value: string }
  | { name: string; type: 'tensor'; value: Initializer }
  | { name: string; type: 'graph'; value: Scope };

export interface NodeRec {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Attr[];
  doc?: string;
}

export interface Initializer {
  name: string;
  dtype: ElemType;
  dims: number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
  doc?: string;
}

/** a graph: the main graph or a Loop body */
export class Scope {
  nodes: NodeRec[] = [];
  inputs: TensorInfo[] = [];
  outputs: TensorInfo[] = [];
  constructor(
    readonly parent: Scope | undefined,
    readonly name: string,
  ) {}

  /** true when values of `outer` are visible here (same scope or an enclosing one) */
  sees(outer: Scope): boolean {
    for (let s: Scope | undefined = this; s; s = s.parent) if (s === outer) return true;
    return false;
  }

  get depth(): number {
    let d = 0;
    for (let s = this.parent; s; s = s.parent) d++;
    return d;
  }
}

/**
 * Removes the nodes no output depends on, recursively into Loop bodies (whose outputs
 * are all kept: they are positional). Returns the names this scope reads from outside
 * itself (outer values, initializers, main-graph inputs).
 */
export function prune(scope: Scope, roots: Iterable<string>): Set<string> {
  const need = new Set(roots);
  const kept: NodeRec[] = [];
  for (let k = scope.nodes.length - 1; k >= 0; k--) {
    const n = scope.nodes[k]!;
    if (!n.outputs.some((o) => need.has(o))) continue;
    kept.push(n);
    for (const i of n.inputs) if (i) need.add(i);
    for (const a of n.attrs) {
      if (a.type !== 'graph') continue;
      for (const f of prune(a.value, a.value.outputs.map((o) => o.name))) need.add(f);
    }
  }
  scope.nodes = kept.reverse();
  const defined = new Set<string>(scope.inputs.map((i) => i.name));
  for (const n of scope.nodes) for (const o of n.outputs) defined.add(o);
  return new Set([...need].filter((x) => !defined.has(x)));
}

/** every node of a scope and its subgraphs */
export function* allNodes(scope: Scope): Generator<NodeRec> {
  for (const n of scope.nodes) {
    yield n;
    for (const a of n.attrs) if (a.type === 'graph') yield* allNodes(a.value);
  }
}

function bytesOf(data: Initializer['data']): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function tensorProto(t: Initializer): OnnxNs.ITensorProto {
  return { name: t.name, dataType: ELEM_CODE[t.dtype], dims: t.dims, rawData: bytesOf(t.data), ...(t.doc && { docString: t.doc }) };
}

export function valueInfo(t: TensorInfo): OnnxNs.IValueInfoProto {
  return {
    name: t.name,
    ...(t.doc && { docString: t.doc }),
    type: {
      tensorType: {
        elemType: ELEM_CODE[t.dtype],
        shape: { dim: t.shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

const A = onnx.AttributeProto.AttributeType;

function attrProto(a: Attr): OnnxNs.IAttributeProto {
  switch (a.type) {
    case 'int':
      return { name: a.name, type: A.INT, i: a.value };
    case 'float':
      return { name: a.name, type: A.FLOAT, f: a.value };
    case 'ints':
      return { name: a.name, type: A.INTS, ints: a.value };
    case 'floats':
      return { name: a.name, type: A.FLOATS, floats: a.value };
    case 'string':
      return { name: a.name, type: A.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name: a.name, type: A.TENSOR, t: tensorProto(a.value) };
    case 'graph':
      return { name: a.name, type: A.GRAPH, g: graphProto(a.value, []) };
  }
}

export function graphProto(scope: Scope, initializers: readonly Initializer[], doc?: string): OnnxNs.IGraphProto {
  return {
    name: scope.name,
    ...(doc && { docString: doc }),
    node: scope.nodes.map((n) => ({
      opType: n.op,
      name: n.name,
      input: n.inputs,
      output: n.outputs,
      domain: '',
      attribute: n.attrs.map(attrProto),
      ...(n.doc && { docString: n.doc }),
    })),
    input: scope.inputs.map(valueInfo),
    output: scope.outputs.map(valueInfo),
    initializer: initializers.map(tensorProto),
  };
}

export interface ModelSpec {
  graph: Scope;
  initializers: readonly Initializer[];
  doc: string;
  graphDoc?: string;
  producerVersion: string;
  metadata: Record<string, string>;
}

export function encodeModel(m: ModelSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'genloom',
    producerVersion: m.producerVersion,
    docString: m.doc,
    opsetImport: [{ domain: '', version: OPSET }],
    graph: graphProto(m.graph, m.initializers, m.graphDoc),
    metadataProps: Object.entries(m.metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

export function decodeModel(bytes: Uint8Array): OnnxNs.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** metadata_props of an encoded model as a plain record */
export function readMetadata(bytes: Uint8Array): Record<string, string> {
  const m = decodeModel(bytes);
  return Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}
