/**
 * Every op of Ops written by TorchOps against tfjs (cpu backend) on the same inputs: the
 * shared op cases (opCases.ts), their values and the gradients of a scalar of them with
 * respect to the inputs and parameters (OpsBase's reverse mode written out as PyTorch:
 * the VJP of conv2d is conv2dTranspose and conv2dFilterGrad). One Python process runs
 * every case. Draws are left to the template parity (torchProgram.test.ts, noise replayed).
 * Under CI=true a missing torch fails the suite.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ops } from '../nodes/core/ops';
import { Rng } from '../src-main/data/rng';
import { fixtureWeights } from '../src-main/export/conformance';
import type { OpName } from '../src-main/export/OnnxOps';
import { initBackend } from '../src-main/runtime/backend';
import { decodeSafetensors, encodeSafetensors, type TensorInput } from '../src-main/runtime/safetensors';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { PYTHON_RUNTIME } from '../src-main/torch/pythonRuntime';
import { TORCH_BATCH, TorchOps, type TorchValue } from '../src-main/torch/TorchOps';
import { findTorchPython, runPython } from '../src-main/torch/python';
import { OP_CASES, OP_INPUTS } from './opCases';

const N = 5;
const SKIP: OpName[] = ['randomNormal', 'randomNormalLike', 'randomUniformLike', 'randomIntLike', 'loop']; // draws: the template parity replays them
const root = mkdtempSync(join(tmpdir(), 'genloom-torchops-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** the fixed inputs: N rows each */
const inputs = new Map(
  OP_INPUTS.map((i) => {
    const rng = new Rng(i.name.length * 7919 + 17);
    const size = N * i.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size).map((_, k) => (i.fill.kind === 'steps' ? k % i.fill.T : rng.normal()));
    return [i.name, { shape: [N, ...i.shape] as number[], data }] as const;
  }),
);
const params = new Map<string, { shape: number[]; data: Float32Array }>();
const param = (name: string, shape: number[]) => {
  if (!params.has(name)) params.set(name, { shape, data: fixtureWeights(name, shape) });
  return params.get(name)!;
};

/** a scalar of the case's float outputs, differentiable: sum of (output * fixed weights) */
function objective<T>(o: Ops<T>, outs: Record<string, T>): T {
  let total: T | undefined;
  for (const v of Object.values(outs)) {
    const s = o.sum(o.mul(o.sin(o.mul(v, o.scalar(0.7))), v));
    total = total === undefined ? s : o.add(total, s);
  }
  return total!;
}

const cases = (Object.keys(OP_CASES) as OpName[]).filter((n) => !SKIP.includes(n));
/** which inputs and params each case's gradient is taken with respect to */
const WRT: Partial<Record<OpName, string[]>> = {};

type Outputs = Map<string, { shape: number[]; data: Float32Array }>;
let tfjs: Outputs;
let torch: Outputs | undefined;
let missing = '';

function runCase<T>(o: Ops<T>, name: OpName, get: (k: string) => T, p: (k: string, shape: number[]) => T, batch: number): Record<string, T> {
  const outs = OP_CASES[name](o, Object.fromEntries(OP_INPUTS.map((i) => [i.name, get(i.name)])), p, batch);
  const wrt = WRT[name]!;
  const values = wrt.map((k) => (k.startsWith('param:') ? p(k.slice(6), param(k.slice(6), []).shape) : get(k)));
  const grads = wrt.length ? o.grads((...xs) => {
    const inner = OP_CASES[name](o, Object.fromEntries(OP_INPUTS.map((i) => [i.name, wrt.includes(i.name) ? xs[wrt.indexOf(i.name)]! : get(i.name)])), (k, s) => (wrt.includes(`param:${k}`) ? xs[wrt.indexOf(`param:${k}`)]! : p(k, s)), batch);
    return objective(o, floatOnly(o, inner));
  }, values) : [];
  return { ...outs, ...Object.fromEntries(grads.map((g, k) => [`d/${wrt[k]}`, g])) };
}

function floatOnly<T>(o: Ops<T>, outs: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(outs).filter(([, v]) => (o as unknown as { dtypeOf(x: T): string }).dtypeOf(v) === 'float32'));
}

beforeAll(async () => {
  await initBackend('cpu');
  // the params each case reads, found by a dry run; gradients with respect to the float inputs it reads and its params
  for (const name of cases) {
    const read = new Set<string>();
    const o = new TfjsOps({ seed: 1 });
    tf.tidy(() => {
      OP_CASES[name](o, new Proxy({}, { get: (_t, k: string) => (read.add(k), tf.tensor(inputs.get(k)!.data, inputs.get(k)!.shape)) }), (k, s) => (read.add(`param:${k}`), tf.tensor(param(k, s).data, s)), N);
    });
    WRT[name] = [...read].filter((k) => k !== 'idx');
  }
  tfjs = new Map();
  for (const name of cases) {
    const o = new TfjsOps({ seed: 1 });
    tf.tidy(() => {
      const outs = runCase(o, name, (k) => tf.tensor(inputs.get(k)!.data, inputs.get(k)!.shape), (k, s) => tf.tensor(param(k, s).data, s), N);
      for (const [k, v] of Object.entries(outs)) tfjs.set(`${name}/${k}`, { shape: v.shape, data: Float32Array.from(v.dataSync()) });
    });
  }
  const found = await findTorchPython();
  if ('error' in found) {
    if (process.env.CI === 'true') throw new Error(`CI=true but ${found.error}`);
    missing = found.error;
    return;
  }
  // one program: a function per case, recorded by TorchOps
  const ops = new TorchOps();
  const fns: string[] = [];
  for (const name of cases) {
    const rec = ops.recordBlock(() =>
      runCase(ops, name, (k) => ops.external(`X[${JSON.stringify(k)}]`, [TORCH_BATCH, ...inputs.get(k)!.shape.slice(1)]), (k, s) => ops.external(`W[${JSON.stringify(k)}]`, [...param(k, s).shape]), TORCH_BATCH),
    );
    const outs = Object.entries(rec.result as Record<string, TorchValue>).map(([k, v]) => `${JSON.stringify(`${name}/${k}`)}: ${v.expr}.to(torch.float32)`);
    fns.push(`def case_${name}(n):`, ...rec.lines, `    return {${outs.join(', ')}}`, '');
  }
  const tensors = new Map<string, TensorInput>();
  for (const [k, v] of inputs) tensors.set(`X/${k}`, v);
  for (const [k, v] of params) tensors.set(`W/${k}`, v);
  for (const c of ops.constants) tensors.set(`C/${c.key}/${c.dtype}`, { shape: c.shape, data: c.data });
  writeFileSync(join(root, 'in.safetensors'), encodeSafetensors(tensors));
  const driver = [
    'def load():',
    `    t, _ = read_safetensors(${JSON.stringify(join(root, 'in.safetensors'))})`,
    '    X, W = {}, {}',
    '    for k, v in t.items():',
    "        kind, name = k.split('/', 1)",
    "        if kind == 'X': X[name] = v",
    "        elif kind == 'W': W[name] = v",
    "        else:",
    "            key, dt = name.split('/')",
    "            C[key] = v.to(torch.int32 if dt == 'int32' else torch.float32)",
    '    return X, W',
    'X, W = load()',
    'out = {}',
    ...cases.map((n) => `out.update(case_${n}(${N}))`),
    `open(${JSON.stringify(join(root, 'out.safetensors'))}, 'wb').write(encode_safetensors(out))`,
  ];
  writeFileSync(join(root, 'ops.py'), [PYTHON_RUNTIME, ...fns, ...driver].join('\n'));
  const r = await runPython(found.python, [join(root, 'ops.py')]);
  if (r.code) throw new Error(`ops.py failed: ${r.stderr.slice(-1500)}`);
  torch = decodeSafetensors(readFileSync(join(root, 'out.safetensors'))).tensors;
}, 180_000);

describe('every op written by TorchOps matches tfjs, values and gradients', () => {
  for (const name of cases) {
    it(name, (ctx) => {
      if (missing) return ctx.skip(missing);
      const keys = [...tfjs.keys()].filter((k) => k.startsWith(`${name}/`));
      expect(keys.length).toBeGreaterThan(0);
      if (WRT[name]!.length) expect(keys.some((k) => k.includes('/d/'))).toBe(true);
      for (const k of keys) {
        const want = tfjs.get(k)!;
        const got = torch!.get(k);
        expect(got, `${k} missing from the PyTorch outputs`).toBeDefined();
        expect(got!.shape, k).toEqual(want.shape);
        const scale = Math.max(1, ...Array.from(want.data, Math.abs));
        let worst = 0;
        for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got!.data[i]! - want.data[i]!) / scale);
        expect(worst, k).toBeLessThanOrEqual(1e-5);
      }
    });
  }
});
