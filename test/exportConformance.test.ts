/**
 * ONNX forms of every op and every registered node type: recorded with OnnxOps, run by
 * onnxruntime-node, compared with tfjs on the same inputs and noise (both noise modes),
 * and every recorded model passed through the official ONNX checker.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode } from '../nodes/core/defineNode';
import { registry } from '../nodes/index';
import { expectCheckerPasses } from './onnxChecker';
import { fixtureWeights, onnxParityForNode } from '../src-main/export/conformance';
import { buildModel, checkParity, type Recipe, type RunCtx } from '../src-main/export/harness';
import { BATCH, type NoiseMode, type OpName } from '../src-main/export/OnnxOps';
import { initBackend } from '../src-main/runtime/backend';
import { OP_CASES, OP_INPUTS } from './opCases';

const models: { name: string; bytes: Uint8Array }[] = [];


beforeAll(async () => {
  await initBackend('cpu');
});

function opRecipe(name: OpName): Recipe {
  return {
    title: `op ${name}`,
    inputs: [
      ...OP_INPUTS.map((i) => ({ ...i, shape: [BATCH, ...i.shape], dtype: 'float32' as const, doc: i.name })),
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
