/**
 * ONNX parity of one node type, for the conformance suite: the node's build and apply run
 * with OnnxOps (recorded into a model, run by onnxruntime-node) and with tfjs, on the same
 * inputs, parameters and noise, and every output is compared.
 *
 * Inputs are synthesised from the port kinds: Tensor ports become model inputs (a `time`
 * tensor gets integer steps), a Dist is a diagonal Gaussian, an Fn a small tanh layer
 * (time conditioned where the node asks for it), a Bijector an elementwise affine map, a
 * Schedule the linear schedule with T = 100. The event size is searched among the node's
 * own dimension params and 2, 3, 4 until `infer` accepts the shapes; optional inputs are
 * tried both connected and unconnected. Outputs are exercised: Tensors compared directly,
 * a Dist through logProb/sample/rsample/mean and its parameters, an Fn through call and
 * sample, a Bijector through forward and inverse, a Loss through its value and terms.
 *
 * A node type that calls an op with no ONNX form fails with that op and the node named.
 */
import type { AnyNodeSpec, NodeCtx } from '../../nodes/core/defineNode';
import { InferError } from '../../nodes/core/defineNode';
import { diagNormal } from '../../nodes/core/dists';
import type { Ops } from '../../nodes/core/ops';
import type { PortShape } from '../../nodes/core/ports';
import { rowZeros, type BijectorValue, type DistValue, type FnValue, type LossValue } from '../../nodes/core/values';
import { linearSchedule } from '../../nodes/diffusion/schedules';
import { Rng } from '../data/rng';
import { ExportError } from './errors';
import { buildModel, checkParity, PARITY_TOLERANCE, type IoSpec, type Recipe, type RunCtx, type WeightSource } from './harness';
import { BATCH, OnnxOps, type NoiseMode } from './OnnxOps';

const NODE_ID = 'node';
const FIXTURE_T = 100;

export interface NodeParityCase {
  /** e.g. "d=2, optional inputs connected, noise inputs" */
  name: string;
  noise: NoiseMode;
  pass: boolean;
  maxError: number;
  outputs: string[];
  note?: string;
  error?: string;
  /** the recorded model, with `keepModels` */
  bytes?: Uint8Array;
}

export interface NodeParityReport {
  type: string;
  pass: boolean;
  maxError: number;
  cases: NodeParityCase[];
  /** one line per case, for test failure messages */
  summary: string;
}

export interface NodeParityOptions {
  /** batch rows (default 8) */
  n?: number;
  seed?: number;
  /** params for the node (defaults filled by its schema) */
  params?: Record<string, unknown>;
  /**
   * input shapes to use (unconnected optional ports left out) instead of searching for
   * shapes `infer` accepts
   */
  inputs?: Record<string, PortShape>;
  /** keep each case's ONNX bytes (to run the ONNX checker on them) */
  keepModels?: boolean;
  noise?: NoiseMode[];
}

interface Config {
  d: number;
  connectOptional: boolean;
  timed: Record<string, boolean>;
  shapes: Record<string, PortShape | undefined>;
  outShapes: Record<string, PortShape>;
}

function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * deterministic parameter values by name: N(0, 1/fan_in) for matrices (activations stay
 * of order 1, as after training), N(0, 0.5^2) for vectors
 */
export const fixtureWeights: WeightSource = (name, shape) => {
  const rng = new Rng(hashName(name));
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const std = shape.length >= 2 ? 1 / Math.sqrt(shape.slice(0, -1).reduce((a, b) => a * b, 1)) : 0.5;
  for (let i = 0; i < v.length; i++) v[i] = std * rng.normal();
  return v;
};

function portShape(kind: string, semantic: string | undefined, d: number, timed: boolean): PortShape | undefined {
  switch (kind) {
    case 'Tensor':
      return { kind: 'Tensor', shape: semantic === 'time' ? [] : semantic === 'logit' ? [1] : [d] };
    case 'Dist':
      return { kind: 'Dist', event: [d] };
    case 'Fn':
      return { kind: 'Fn', in: [d], out: [d], timeConditioned: timed };
    case 'Bijector':
      return { kind: 'Bijector', event: [d] };
    case 'Schedule':
      return { kind: 'Schedule', T: FIXTURE_T };
    default:
      return undefined;
  }
}

/** input shapes that the node's infer accepts, optional inputs connected or not */
function findConfigs(spec: AnyNodeSpec, params: unknown): { configs: Config[]; tried: string[] } {
  const p = (params ?? {}) as Record<string, unknown>;
  const ds = [...new Set([2, 3, 4, p.dim, p.latentDim, p.dataDim].filter((x): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0 && x <= 1024))];
  const ports = Object.entries(spec.inputs);
  const fnPorts = ports.filter(([, d]) => d.type.kind === 'Fn').map(([k]) => k);
  const hasOptional = ports.some(([, d]) => d.optional);
  const configs: Config[] = [];
  const tried: string[] = [];
  for (const connectOptional of hasOptional ? [true, false] : [true]) {
    search: for (const d of ds) {
      for (let mask = 0; mask < 1 << fnPorts.length; mask++) {
        const timed = Object.fromEntries(fnPorts.map((k, i) => [k, ((mask >> i) & 1) === 1]));
        const shapes: Record<string, PortShape | undefined> = {};
        for (const [k, decl] of ports) {
          if (decl.optional && !connectOptional) continue;
          shapes[k] = portShape(decl.type.kind, decl.type.kind === 'Tensor' ? decl.type.semantic : undefined, d, timed[k] ?? false);
        }
        try {
          const outShapes = spec.infer(shapes as never, params as never, spec.fixture.external?.()) as Record<string, PortShape>;
          configs.push({ d, connectOptional, timed, shapes, outShapes });
          break search;
        } catch (e) {
          if (!(e instanceof InferError)) throw e;
          tried.push(`d=${d}${fnPorts.length ? ` timed=${JSON.stringify(timed)}` : ''}${hasOptional ? ` optional=${connectOptional}` : ''}: ${e.message}`);
        }
      }
    }
  }
  return { configs, tried };
}

function givenConfig(spec: AnyNodeSpec, params: unknown, inputs: Record<string, PortShape>): { configs: Config[]; tried: string[] } {
  try {
    const outShapes = spec.infer(inputs as never, params as never, spec.fixture.external?.()) as Record<string, PortShape>;
    const timed = Object.fromEntries(Object.entries(inputs).flatMap(([k, s]) => (s.kind === 'Fn' ? [[k, s.timeConditioned]] : [])));
    const connectOptional = Object.entries(spec.inputs).some(([k, d]) => d.optional && inputs[k] !== undefined);
    const d = Object.values(inputs).map((s) => (s.kind === 'Tensor' ? s.shape[0] : s.kind === 'Dist' || s.kind === 'Bijector' ? s.event[0] : s.kind === 'Fn' ? s.in[0] : undefined)).find((x) => x !== undefined) ?? 0;
    return { configs: [{ d, connectOptional, timed, shapes: { ...inputs }, outShapes }], tried: [] };
  } catch (e) {
    if (!(e instanceof InferError)) throw e;
    return { configs: [], tried: [`given inputs: ${e.message}`] };
  }
}

// ------------------------------------------------------------------ fixtures (generic over T)

type Param<T> = (name: string, shape: number[]) => T;

function fixtureFn<T>(ops: Ops<T>, param: Param<T>, port: string, s: Extract<PortShape, { kind: 'Fn' }>): FnValue<T> {
  const din = s.in.reduce((a, b) => a * b, 1);
  const dout = s.out.reduce((a, b) => a * b, 1);
  const w = param(`fixture/${port}/w`, [din + (s.timeConditioned ? 2 : 0), dout]);
  const b = param(`fixture/${port}/b`, [dout]);
  const call = (x: T, t?: T): T => {
    let h = ops.reshape(x, [-1, din]);
    if (s.timeConditioned) {
      if (t === undefined) throw new Error('fixture Fn: t is missing');
      const tt = ops.mul(ops.reshape(t, [-1, 1]), ops.scalar(0.05));
      h = ops.concat([h, ops.sin(tt), ops.cos(tt)], 1);
    }
    return ops.reshape(ops.tanh(ops.add(ops.matmul(h, w), b)), [-1, ...s.out]);
  };
  return {
    kind: 'Fn',
    owner: `fixture/${port}`,
    in: s.in,
    out: s.out,
    timeConditioned: s.timeConditioned,
    ...(s.time && { time: s.time }),
    call,
    sample: (x) => {
      const m = call(x);
      return ops.add(m, ops.mul(ops.randomNormalLike(m), ops.scalar(0.1)));
    },
  };
}

function fixtureBijector<T>(ops: Ops<T>, param: Param<T>, port: string, event: number[]): BijectorValue<T> {
  const s = param(`fixture/${port}/logScale`, event);
  const b = param(`fixture/${port}/shift`, event);
  return {
    kind: 'Bijector',
    event,
    layers: [`fixture/${port}`],
    forward: (x) => ({ y: ops.add(ops.mul(x, ops.exp(s)), b), logDet: ops.add(rowZeros(ops, x), ops.sum(s)) }),
    inverse: (y) => ({ x: ops.mul(ops.sub(y, b), ops.exp(ops.neg(s))), logDet: ops.sub(rowZeros(ops, y), ops.sum(s)) }),
  };
}

function recipeFor(spec: AnyNodeSpec, params: unknown, cfg: Config): Recipe {
  const inputs: IoSpec[] = [];
  for (const [k, s] of Object.entries(cfg.shapes)) {
    if (s?.kind !== 'Tensor') continue;
    const time = spec.inputs[k]?.type.kind === 'Tensor' && (spec.inputs[k]!.type as { semantic?: string }).semantic === 'time';
    inputs.push({ name: `in_${k}`, shape: [BATCH, ...s.shape], dtype: 'float32', doc: `input ${k}`, fill: time ? { kind: 'steps', T: FIXTURE_T } : { kind: 'normal' } });
  }
  if (spec.role === 'data') {
    const x = Object.values(cfg.outShapes).find((s) => s.kind === 'Tensor') as { shape: number[] } | undefined;
    if (x) inputs.push({ name: 'feed', shape: [BATCH, ...x.shape], dtype: 'float32', doc: 'the fed batch', fill: { kind: 'normal' } });
  }
  for (const [k, s] of Object.entries(cfg.outShapes)) {
    if (s.kind === 'Dist' || s.kind === 'Bijector') inputs.push({ name: `probe_${k}`, shape: [BATCH, ...s.event], dtype: 'float32', doc: `probe of ${k}`, fill: { kind: 'normal' } });
    if (s.kind === 'Fn') {
      inputs.push({ name: `probe_${k}`, shape: [BATCH, ...s.in], dtype: 'float32', doc: `probe of ${k}`, fill: { kind: 'normal' } });
      if (s.timeConditioned) inputs.push({ name: `probe_${k}_t`, shape: [BATCH], dtype: 'float32', doc: `probe time of ${k}`, fill: s.time === 'continuous' ? { kind: 'uniform' } : { kind: 'steps', T: FIXTURE_T } });
    }
  }
  return {
    title: `${spec.type} conformance`,
    inputs,
    outputDocs: {},
    countInput: !inputs.some((i) => i.shape[0] === BATCH),
    describeNode: (id) => (id === NODE_ID ? { family: spec.category, type: spec.type } : undefined),
    run<T>(ctx: RunCtx<T>): Record<string, T> {
      const { ops } = ctx;
      const body = (): Record<string, T> => {
        const values: Record<string, unknown> = {};
        const statics: Record<string, unknown> = {};
        for (const [k, s] of Object.entries(cfg.shapes)) {
          if (!s) continue;
          let v: unknown;
          switch (s.kind) {
            case 'Tensor':
              v = ctx.inputs[`in_${k}`];
              break;
            case 'Dist':
              v = diagNormal(ops, ctx.param(`fixture/${k}/mu`, s.event), ctx.param(`fixture/${k}/logStd`, s.event), s.event, false);
              break;
            case 'Fn':
              v = spec.fixture?.values?.[k]?.(ops, (name, shape) => ctx.param(`fixture/${k}/${name}`, shape)) ?? fixtureFn(ops, ctx.param, k, s);
              break;
            case 'Bijector':
              v = fixtureBijector(ops, ctx.param, k, s.event);
              break;
            case 'Schedule':
              v = linearSchedule(s.T, 1e-4, 0.02);
              break;
            case 'Loss':
              throw new Error(`conformance: cannot synthesise a Loss input ("${k}")`);
          }
          values[k] = v;
          if (s.kind !== 'Tensor') statics[k] = v;
        }
        const nctx: NodeCtx<T> = {
          ops,
          nodeId: NODE_ID,
          param: (local, shape) => ctx.param(`${NODE_ID}/${local}`, shape),
          batchSize: ctx.batch,
          feed: () => {
            const f = ctx.inputs.feed;
            if (f === undefined) throw new Error('no data is fed');
            return f;
          },
          mode: spec.role === 'sampler' ? 'sample' : 'train',
          ...(spec.fixture.external && { external: spec.fixture.external() }),
        };
        const built = spec.build ? spec.build(nctx, params as never, cfg.shapes as never, statics as never) : undefined;
        const applied = spec.apply(nctx, { inputs: values as never, params: params as never, shapes: cfg.shapes as never, built }) as Record<string, unknown>;
        const outs: Record<string, unknown> = { ...applied };
        for (const k of spec.staticOutputs ?? []) if (outs[k] === undefined && built) outs[k] = (built as Record<string, unknown>)[k];
        const rec: Record<string, T> = {};
        for (const [k, s] of Object.entries(cfg.outShapes)) {
          const v = outs[k];
          if (v === undefined) continue;
          switch (s.kind) {
            case 'Tensor':
              rec[`${k}.value`] = v as T;
              break;
            case 'Dist': {
              const dist = v as DistValue<T>;
              rec[`${k}.logProb`] = dist.logProb(ctx.inputs[`probe_${k}`]!);
              rec[`${k}.sample`] = dist.sample(ctx.batch);
              if (dist.rsample) rec[`${k}.rsample`] = dist.rsample(ctx.batch);
              if (dist.mean) rec[`${k}.mean`] = dist.mean();
              for (const [pk, pv] of Object.entries(dist.params)) rec[`${k}.params.${pk}`] = pv;
              break;
            }
            case 'Fn': {
              const f = v as FnValue<T>;
              rec[`${k}.call`] = f.call(ctx.inputs[`probe_${k}`]!, f.timeConditioned ? ctx.inputs[`probe_${k}_t`] : undefined);
              if (f.sample) rec[`${k}.sample`] = f.sample(ctx.inputs[`probe_${k}`]!);
              break;
            }
            case 'Bijector': {
              const b = v as BijectorValue<T>;
              const fw = b.forward(ctx.inputs[`probe_${k}`]!);
              const iv = b.inverse(ctx.inputs[`probe_${k}`]!);
              rec[`${k}.forward.y`] = fw.y;
              rec[`${k}.forward.logDet`] = fw.logDet;
              rec[`${k}.inverse.x`] = iv.x;
              rec[`${k}.inverse.logDet`] = iv.logDet;
              break;
            }
            case 'Loss': {
              const l = v as LossValue<T>;
              rec[`${k}.value`] = l.value;
              for (const [tk, tv] of Object.entries(l.terms)) rec[`${k}.terms.${tk}`] = tv;
              break;
            }
            case 'Schedule':
              break;
          }
        }
        return rec;
      };
      return ops instanceof OnnxOps ? ops.withNode(NODE_ID, body) : body();
    },
  };
}

/**
 * ONNX parity of one node type (see the module comment). Use in a test as
 *   const r = await onnxParityForNode(spec); expect(r.pass, r.summary).toBe(true);
 */
export async function onnxParityForNode(spec: AnyNodeSpec, opts: NodeParityOptions = {}): Promise<NodeParityReport> {
  let params = spec.params.parse(opts.params ?? {});
  const cases: NodeParityCase[] = [];
  let { configs, tried } = opts.inputs ? givenConfig(spec, params, opts.inputs) : findConfigs(spec, params);
  if (!configs.length && !opts.inputs && !opts.params && spec.fixture) {
    // no synthesised shapes fit (e.g. a scalar energy Fn, continuous time): the node's own fixture
    params = spec.params.parse(spec.fixture.params ?? {});
    const given = givenConfig(spec, params, spec.fixture.inputs);
    configs = given.configs;
    tried = [...tried, ...given.tried];
  }
  if (!configs.length) {
    cases.push({ name: 'inputs', noise: 'inputs', pass: false, maxError: Infinity, outputs: [], error: `no synthesised input shapes satisfy ${spec.type}'s infer: ${tried.slice(0, 4).join(' | ')}` });
  }
  for (const cfg of configs) {
    for (const noise of opts.noise ?? (['inputs', 'internal'] as NoiseMode[])) {
      const name = `d=${cfg.d}${Object.keys(cfg.timed).length ? `, Fn timed ${JSON.stringify(cfg.timed)}` : ''}${Object.values(spec.inputs).some((d) => d.optional) ? `, optional inputs ${cfg.connectOptional ? 'connected' : 'unconnected'}` : ''}, noise ${noise}`;
      const recipe = recipeFor(spec, params, cfg);
      try {
        const model = buildModel(recipe, fixtureWeights, noise, { doc: `conformance of ${spec.type}`, metadata: {}, producerVersion: 'conformance' });
        if (!model.outputs.length) {
          cases.push({ name, noise, pass: true, maxError: 0, outputs: [], note: 'no tensor outputs (its values are plain numbers, shared by every interpreter)' });
          continue;
        }
        const r = await checkParity(recipe, fixtureWeights, model, { n: opts.n ?? 8, seed: opts.seed ?? 1 });
        const bad = r.outputs.filter((o) => !(o.maxError <= PARITY_TOLERANCE)).map((o) => `${o.name} ${o.maxError.toExponential(2)}`);
        cases.push({
          name,
          noise,
          pass: r.pass,
          maxError: r.maxError,
          outputs: r.outputs.map((o) => o.name),
          ...(!r.pass && { error: [...r.problems, ...(bad.length ? [`outputs over tolerance: ${bad.join(', ')}`] : [])].join('; ') || 'no outputs compared' }),
          ...(opts.keepModels && { bytes: model.bytes }),
        });
      } catch (e) {
        const msg = e instanceof ExportError ? `${e.code}: ${e.message}` : `${(e as Error).message ?? String(e)}`;
        cases.push({ name, noise, pass: false, maxError: Infinity, outputs: [], error: msg });
      }
    }
  }
  const maxError = cases.reduce((m, c) => Math.max(m, c.maxError), 0);
  const pass = cases.length > 0 && cases.every((c) => c.pass);
  const summary = [
    `${spec.type}: ONNX parity ${pass ? 'PASS' : 'FAIL'} (max error ${maxError.toExponential(2)}, tolerance ${PARITY_TOLERANCE})`,
    ...cases.map((c) => `  ${c.pass ? 'ok  ' : 'FAIL'} ${c.name}: ${c.outputs.length} output(s), max error ${c.maxError.toExponential(2)}${c.note ? ` (${c.note})` : ''}${c.error ? `: ${c.error}` : ''}`),
  ].join('\n');
  return { type: spec.type, pass, maxError, cases, summary };
}
