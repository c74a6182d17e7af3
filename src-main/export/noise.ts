/**
 * The same noise on both sides of a parity check.
 *
 * - `drawNoise` makes one array per NoiseSlot (the draws OnnxOps recorded, in call order):
 *   [loops..., draw shape with N], standard normal or uniform, from a seeded stream.
 * - `FedNoiseTfjsOps` is TfjsOps whose random draws read those arrays, in the same order;
 *   a draw inside `loop` reads the slice of the current iteration(s).
 * - `probeModel` turns an internal-noise model into one whose random nodes read inputs
 *   (`__probe_k`), everything else byte-for-byte the exported model, so the internal model
 *   itself is checked against tfjs given the same noise.
 */
import * as tf from '@tensorflow/tfjs';
import type { onnx as OnnxNs } from 'onnx-proto';
import { Rng } from '../data/rng';
import { TfjsOps } from '../runtime/TfjsOps';
import { BATCH, type NoiseSlot } from './OnnxOps';
import { decodeModel, onnx, valueInfo } from './onnxGraph';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** the concrete shape of a slot's input: loop trip counts, then the draw with N rows */
export function slotShape(slot: NoiseSlot, n: number): number[] {
  return [...slot.loops, ...slot.shape.map((d) => (d === BATCH ? n : d))];
}

export function drawNoise(slots: readonly NoiseSlot[], n: number, seed: number): HostTensor[] {
  const rng = new Rng(seed);
  return slots.map((s) => {
    const shape = slotShape(s, n);
    const data = new Float32Array(prod(shape));
    if (s.kind === 'normal') for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    else for (let i = 0; i < data.length; i++) data[i] = rng.uniform();
    return { shape, data };
  });
}

/** TfjsOps whose randomness is read from given arrays, draw by draw */
export class FedNoiseTfjsOps extends TfjsOps {
  private cursor = 0;
  /** iteration index of each enclosing loop */
  private readonly iters: { k: number; n: number }[] = [];

  constructor(
    private readonly noise: readonly HostTensor[],
    private readonly slots: readonly NoiseSlot[],
  ) {
    super({ seed: 0 });
  }

  /** how many draws were made */
  get draws(): number {
    return this.cursor;
  }

  private next(kind: 'normal' | 'uniform', shape: readonly number[]): tf.Tensor {
    const k = this.cursor++;
    const slot = this.slots[k];
    const src = this.noise[k];
    if (!slot || !src) throw new Error(`noise stream mismatch: draw ${k} was not recorded in the ONNX model`);
    if (slot.kind !== kind) throw new Error(`noise stream mismatch: draw ${k} is ${kind} here, ${slot.kind} in the ONNX model`);
    const depth = this.iters.length;
    if (slot.loops.length !== depth) throw new Error(`noise stream mismatch: draw ${k} is inside ${depth} loop(s) here, ${slot.loops.length} in the ONNX model`);
    const size = prod(shape);
    if (src.shape.length !== depth + shape.length || src.shape.slice(depth).some((d, i) => d !== shape[i])) {
      throw new Error(`noise stream mismatch: draw ${k} has shape [${shape.join(', ')}] here, noise [${src.shape.join(', ')}]`);
    }
    let off = 0;
    for (const it of this.iters) off = off * it.n + it.k;
    return tf.tensor(src.data.subarray(off * size, (off + 1) * size), [...shape], 'float32');
  }

  override randomNormal(shape: number[]): tf.Tensor {
    return this.next('normal', shape);
  }
  override randomNormalLike(x: tf.Tensor): tf.Tensor {
    return this.next('normal', x.shape);
  }
  override randomUniformLike(x: tf.Tensor): tf.Tensor {
    return this.next('uniform', x.shape);
  }
  override randomIntLike(x: tf.Tensor, n: number): tf.Tensor {
    const u = this.next('uniform', [x.shape[0]!]);
    // the ONNX rule, op for op: min(floor(u n), n - 1) in float32
    return tf.tidy(() => tf.minimum(tf.floor(tf.mul(u, tf.scalar(n))), tf.scalar(n - 1)));
  }
  override loop(n: number, carry: tf.Tensor[], body: (i: tf.Tensor, carry: tf.Tensor[]) => tf.Tensor[]): tf.Tensor[] {
    const start = this.cursor;
    let end = start;
    const it = { k: 0, n };
    this.iters.push(it);
    try {
      let k = 0;
      return super.loop(n, carry, (i, c) => {
        it.k = k++;
        this.cursor = start;
        const out = body(i, c);
        end = this.cursor;
        return out;
      });
    } finally {
      this.iters.pop();
      if (n === 0) {
        // the body never ran: skip the draws it would have made (recorded consecutively)
        end = start;
        while (end < this.slots.length && this.slots[end]!.loops.length > this.iters.length) end++;
      }
      this.cursor = end;
    }
  }
}

/**
 * An internal-noise model with every surviving random node replaced by a read of an
 * input `__probe_<slot>` (through the loop counters inside Loop bodies). Returns the
 * model and the probe inputs' slot indices.
 */
export function probeModel(bytes: Uint8Array, slots: readonly NoiseSlot[], n: number): { bytes: Uint8Array; probes: { name: string; slot: number; shape: number[] }[] } {
  const model = decodeModel(bytes);
  const bySlotOutput = new Map(slots.filter((s) => s.used).map((s) => [s.name, s]));
  const probes: { name: string; slot: number; shape: number[] }[] = [];
  const visit = (g: OnnxNs.IGraphProto) => {
    const nodes: OnnxNs.INodeProto[] = [];
    for (const node of g.node ?? []) {
      for (const a of node.attribute ?? []) if (a.g) visit(a.g);
      const out = node.output?.[0] ?? '';
      const slot = bySlotOutput.get(out);
      if (!slot || !/^Random(Normal|Uniform)(Like)?$/.test(node.opType ?? '')) {
        nodes.push(node);
        continue;
      }
      const name = `__probe_${slot.index}`;
      probes.push({ name, slot: slot.index, shape: [...slot.loops, ...slot.shape.map((d) => (d === BATCH ? n : d))] });
      let cur = name;
      slot.iters.forEach((iter, j) => {
        const o = j === slot.iters.length - 1 ? out : `${name}/g${j}`;
        nodes.push(onnx.NodeProto.create({ opType: 'Gather', name: o, input: [cur, iter], output: [o], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] }));
        cur = o;
      });
      if (!slot.iters.length) nodes.push(onnx.NodeProto.create({ opType: 'Identity', name: out, input: [name], output: [out] }));
    }
    g.node = nodes;
  };
  visit(model.graph!);
  for (const p of probes) {
    model.graph!.input!.push(onnx.ValueInfoProto.create(valueInfo({ name: p.name, dtype: 'float32', shape: p.shape })));
  }
  return { bytes: onnx.ModelProto.encode(model).finish(), probes };
}
