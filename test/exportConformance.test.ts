/**
 * ONNX forms of every op and every registered node type: recorded with OnnxOps, run by
 * onnxruntime-node, compared with tfjs on the same inputs and noise (both noise modes),
 * and every recorded model passed through the official ONNX checker.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode } from '../nodes/core/defineNode';
import type { Ops } from '../nodes/core/ops';
import { registry } from '../nodes/index';
import { expectCheckerPasses } from './onnxChecker';
import { fixtureWeights, onnxParityForNode } from '../src-main/export/conformance';
import { buildModel, checkParity, type Recipe, type RunCtx } from '../src-main/export/harness';
import { BATCH, type NoiseMode, type OpName } from '../src-main/export/OnnxOps';
import { initBackend } from '../src-main/runtime/backend';

const models: { name: string; bytes: Uint8Array }[] = [];


beforeAll(async () => {
  await initBackend('cpu');
});

type Case = <T>(o: Ops<T>, i: Record<string, T>, p: (name: string, shape: number[]) => T, batch: number) => Record<string, T>;

/** one case per op: an exhaustive mapped type, so a new op without a case does not compile */
const OP_CASES: { [K in OpName]: Case } = {
  constant: (o, i) => ({ v: o.add(i.a!, o.constant([1, 2, 3], [3])) }),
  scalar: (o, i) => ({ v: o.mul(i.a!, o.scalar(2.5)) }),
  zerosLike: (o, i) => ({ v: o.add(o.zerosLike(i.a!), o.scalar(1)) }),
  onesLike: (o, i) => ({ v: o.onesLike(i.a!) }),
  fill: (o, i) => ({ v: o.fill(i.a!, 3.25) }),
  cast: (o, i) => ({ v: o.cast(o.cast(o.mul(i.a!, o.scalar(3)), 'int32'), 'float32') }),
  add: (o, i) => ({ v: o.add(i.a!, o.constant([1, -2, 3], [3])) }),
  sub: (o, i) => ({ v: o.sub(i.a!, i.b!) }),
  mul: (o, i) => ({ v: o.mul(i.a!, i.b!) }),
  div: (o, i) => ({ v: o.div(i.a!, o.add(o.abs(i.b!), o.scalar(0.5))) }),
  maximum: (o, i) => ({ v: o.maximum(i.a!, o.constant([0, 0.5, -0.5], [3])) }),
  minimum: (o, i) => ({ v: o.minimum(i.a!, i.b!) }),
  neg: (o, i) => ({ v: o.neg(i.a!) }),
  exp: (o, i) => ({ v: o.exp(i.a!) }),
  log: (o, i) => ({ v: o.log(o.add(o.abs(i.a!), o.scalar(0.1))) }),
  sqrt: (o, i) => ({ v: o.sqrt(o.add(o.abs(i.a!), o.scalar(0.1))) }),
  square: (o, i) => ({ v: o.square(i.a!) }),
  abs: (o, i) => ({ v: o.abs(i.a!) }),
  tanh: (o, i) => ({ v: o.tanh(i.a!) }),
  sigmoid: (o, i) => ({ v: o.sigmoid(o.mul(i.a!, o.scalar(4))) }),
  softplus: (o, i) => ({ v: o.softplus(o.mul(i.a!, o.scalar(20))) }),
  relu: (o, i) => ({ v: o.relu(i.a!) }),
  leakyRelu: (o, i) => ({ v: o.leakyRelu(i.a!, 0.2) }),
  silu: (o, i) => ({ v: o.silu(i.a!) }),
  sin: (o, i) => ({ v: o.sin(o.mul(i.a!, o.scalar(50))) }),
  cos: (o, i) => ({ v: o.cos(o.mul(i.a!, o.scalar(50))) }),
  clip: (o, i) => ({ v: o.clip(i.a!, -0.5, 0.75) }),
  sum: (o, i) => ({ rows: o.sum(i.a!, [1]), keep: o.sum(i.img!, [1, -1], true), all: o.sum(i.a!) }),
  mean: (o, i) => ({ rows: o.mean(i.a!, [1]), keep: o.mean(i.img!, [2, 3], true), all: o.mean(i.a!) }),
  matmul: (o, i, p) => ({ v: o.matmul(i.a!, p('w', [3, 4])), batched: o.matmul(o.reshape(i.img!, [-1, 5, 10]), p('w3', [10, 2])) }),
  reshape: (o, i) => ({ flat: o.reshape(i.img!, [-1, 50]), split: o.reshape(i.a!, [-1, 3, 1]) }),
  transpose: (o, i) => ({ nchw: o.transpose(i.img!, [0, 3, 1, 2]) }),
  concat: (o, i) => ({ v: o.concat([i.a!, i.b!, i.a!], 1), neg: o.concat([i.a!, i.b!], -1) }),
  sliceAxis: (o, i) => ({ mid: o.sliceAxis(i.a!, 1, 1, 2), rest: o.sliceAxis(i.img!, 2, 1, -1) }),
  gather: (o, i) => ({ v: o.gather(o.constant(Array.from({ length: 20 }, (_, k) => Math.sin(k)), [10, 2]), i.idx!) }),
  conv2d: (o, i, p) => ({ same: o.conv2d(i.img!, p('f', [3, 3, 2, 4]), 2, 'same'), valid: o.conv2d(i.img!, p('f', [3, 3, 2, 4]), 1, 'valid') }),
  conv2dTranspose: (o, i, p) => ({
    same: o.conv2dTranspose(i.small!, p('ft', [3, 3, 2, 4]), [5, 5, 2], 2, 'same'),
    valid: o.conv2dTranspose(i.small!, p('ft', [3, 3, 2, 4]), [8, 8, 2], 2, 'valid'),
  }),
  shape: (o, i) => ({ v: o.add(i.a!, o.constant(o.shape(i.img!).slice(1), [3])) }),
  randomNormal: (o, i, _p, batch) => ({ v: o.add(i.a!, o.randomNormal([batch, 3])) }),
  randomNormalLike: (o, i) => ({ v: o.mul(i.a!, o.randomNormalLike(i.a!)) }),
  randomUniformLike: (o, i) => ({ v: o.randomUniformLike(i.img!) }),
  randomIntLike: (o, i) => ({ v: o.randomIntLike(i.img!, 7) }),
  stopGradient: (o, i) => ({ v: o.stopGradient(i.a!) }),
  loop: (o, i) => {
    const [flat] = o.loop(5, [i.a!], (k, [x]) => [o.add(o.mul(x!, o.scalar(0.9)), o.mul(o.cast(k, 'float32'), o.scalar(0.1)))]);
    // nested loops, draws inside both, outer values read inside, two carried values
    const [x, s] = o.loop(3, [i.a!, o.sum(i.a!, [1])], (k, [x0, s0]) => {
      const [y] = o.loop(2, [x0!], (j, [y0]) => [o.add(o.add(y0!, o.mul(o.randomNormalLike(y0!), o.scalar(0.1))), o.mul(i.b!, o.cast(j, 'float32')))]);
      return [o.add(y!, o.gather(o.constant([0.5, 1, 2], [3]), k)), o.add(s0!, o.mul(o.sum(y!, [1]), o.randomUniformLike(s0!)))];
    });
    return { flat: flat!, x: x!, s: s! };
  },
};

function opRecipe(name: OpName): Recipe {
  return {
    title: `op ${name}`,
    inputs: [
      { name: 'a', shape: [BATCH, 3], dtype: 'float32', doc: 'a', fill: { kind: 'normal' } },
      { name: 'b', shape: [BATCH, 3], dtype: 'float32', doc: 'b', fill: { kind: 'normal' } },
      { name: 'img', shape: [BATCH, 5, 5, 2], dtype: 'float32', doc: 'img', fill: { kind: 'normal' } },
      { name: 'small', shape: [BATCH, 3, 3, 4], dtype: 'float32', doc: 'small', fill: { kind: 'normal' } },
      { name: 'idx', shape: [BATCH], dtype: 'float32', doc: 'indices', fill: { kind: 'steps', T: 10 } },
    ],
    outputDocs: {},
    countInput: false,
    run: <T,>(ctx: RunCtx<T>) => OP_CASES[name](ctx.ops, ctx.inputs, ctx.param, ctx.batch),
  };
}

describe('every op has an ONNX rule that matches tfjs', () => {
  for (const name of Object.keys(OP_CASES) as OpName[]) {
    for (const noise of ['inputs', 'internal'] as NoiseMode[]) {
      it(`${name} (noise ${noise})`, async () => {
        const recipe = opRecipe(name);
        const model = buildModel(recipe, fixtureWeights, noise, { doc: name, metadata: {}, producerVersion: 'test' });
        const r = await checkParity(recipe, fixtureWeights, model, { n: 5, seed: 3 });
        expect(r.problems).toEqual([]);
        expect(r.maxError, JSON.stringify(r.outputs)).toBeLessThanOrEqual(1e-4);
        expect(r.pass).toBe(true);
        models.push({ name: `op-${name}-${noise}`, bytes: model.bytes });
      });
    }
  }
});

describe('every registered node type has an ONNX form that matches tfjs', () => {
  for (const spec of registry.all()) {
    it(spec.type, async () => {
      const r = await onnxParityForNode(spec, { keepModels: true });
      expect(r.pass, r.summary).toBe(true);
      expect(r.maxError).toBeLessThanOrEqual(1e-4);
      for (const c of r.cases) if (c.bytes) models.push({ name: `${spec.type}-${c.name}`, bytes: c.bytes });
    });
  }

  it('covers stochastic DDIM (eta > 0) with given input shapes', async () => {
    const r = await onnxParityForNode(registry.get('sampler.ddim')!, {
      params: { steps: 5, eta: 0.5 },
      inputs: { denoiser: { kind: 'Fn', in: [3], out: [3], timeConditioned: true }, schedule: { kind: 'Schedule', T: 10 } },
      keepModels: true,
    });
    expect(r.pass, r.summary).toBe(true);
    for (const c of r.cases) if (c.bytes) models.push({ name: `ddim-eta-${c.name}`, bytes: c.bytes });
  });

  it('fails, naming the node, for a node type with no ONNX form', async () => {
    // reads the batch size as a number, which ONNX keeps symbolic
    const batchAsNumber = defineNode({
      type: 'test.batchAsNumber',
      version: 1,
      title: 'Batch as a number',
      category: 'prior',
      role: 'none',
      inputs: {},
      outputs: { z: { type: { kind: 'Tensor' } } },
      params: z.object({}),
      math: { latex: 'z = 0', explain: 'test' },
      fixture: { inputs: {} },
      infer: () => ({ z: { kind: 'Tensor', shape: [2] } }),
      apply: (ctx) => ({ z: ctx.ops.constant(new Float32Array(Math.max(0, ctx.batchSize) * 2), [ctx.batchSize, 2]) }),
    });
    const r = await onnxParityForNode(batchAsNumber as never);
    expect(r.pass).toBe(false);
    expect(r.summary).toMatch(/no-onnx-form/);
    expect(r.summary).toMatch(/test\.batchAsNumber/);
    expect(r.summary).toMatch(/constant/);
  });
});

describe('ONNX checker', () => {
  it('passes every recorded op and node model (full_check + strict shape inference)', () => {
    expect(models.length).toBeGreaterThan(80);
    expectCheckerPasses(models);
  });
});
