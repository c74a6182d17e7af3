/**
 * The conformance suite every registered node type runs: its defaults parse, its `math`
 * is LaTeX that KaTeX renders, `infer` agrees with what `apply` produces, and its ONNX form
 * (src-main/export/) computes the same values as tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import katex from 'katex';
import { beforeAll, describe, expect, it } from 'vitest';
import { CATEGORIES } from '../nodes/core/defineNode';
import type { PortShape } from '../nodes/core/ports';
import type { BijectorValue, DistValue, FnValue, LossValue } from '../nodes/core/values';
import { FAMILIES, NODE_TYPES, NodeRegistry, registry } from '../nodes/index';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { onnxParityForNode } from '../src-main/export/conformance';
import { B, runNode } from './nodeHarness';

const dims = (t: tf.Tensor) => t.shape;

function checkAgainstShape(port: string, v: unknown, s: PortShape, ops: TfjsOps): void {
  switch (s.kind) {
    case 'Tensor':
      expect(dims(v as tf.Tensor), port).toEqual([B, ...s.shape]);
      return;
    case 'Dist': {
      const d = v as DistValue<tf.Tensor>;
      expect(d.kind).toBe('Dist');
      const x = d.sample(B);
      expect(dims(x), `${port}.sample`).toEqual([B, ...s.event]);
      expect(dims(d.logProb(x)), `${port}.logProb`).toEqual([B]);
      return;
    }
    case 'Fn': {
      const f = v as FnValue<tf.Tensor>;
      expect(f.timeConditioned).toBe(s.timeConditioned);
      const y = f.call(ops.randomNormal([B, ...s.in]), s.timeConditioned ? tf.tensor1d(s.time === 'continuous' ? [0, 0.25, 0.5, 1] : [0, 1, 2, 3]) : undefined);
      expect(dims(y), `${port}.call`).toEqual([B, ...s.out]);
      return;
    }
    case 'Bijector': {
      const b = v as BijectorValue<tf.Tensor>;
      const x = ops.randomNormal([B, ...s.event]);
      const f = b.forward(x);
      expect(dims(f.y)).toEqual([B, ...s.event]);
      expect(dims(f.logDet)).toEqual([B]);
      const inv = b.inverse(f.y);
      expect(dims(inv.x)).toEqual([B, ...s.event]);
      // a bijection: inverse(forward(x)) = x and the log-dets cancel
      expect(Math.max(...inv.x.sub(x).abs().dataSync())).toBeLessThan(1e-4);
      expect(Math.max(...inv.logDet.add(f.logDet).abs().dataSync())).toBeLessThan(1e-4);
      return;
    }
    case 'Schedule':
      expect((v as { T: number }).T).toBe(s.T);
      return;
    case 'Loss': {
      const l = v as LossValue<tf.Tensor>;
      expect(dims(l.value)).toEqual([]);
      expect(Number.isFinite(l.value.dataSync()[0]!)).toBe(true);
      for (const t of Object.values(l.terms)) expect(dims(t)).toEqual([]);
      return;
    }
  }
}

beforeAll(async () => {
  await initBackend('cpu');
});

describe('the node registry', () => {
  it('is the node types of the family modules, each declared in its family folder', () => {
    expect(registry.types().length).toBe(FAMILIES.reduce((a, f) => a + f.nodes.length, 0));
    for (const t of registry.types()) expect(registry.familyOf(t)).toBeDefined();
  });
  it('throws on a duplicate type id, family id or template name', () => {
    expect(() => NodeRegistry.ofNodes([NODE_TYPES[0]!, NODE_TYPES[0]!])).toThrow(/duplicate node type id "data.dataset"/);
    expect(() => new NodeRegistry([FAMILIES[0]!, { ...FAMILIES[0]!, nodes: [] }])).toThrow(/duplicate family id/);
    const withTemplate = FAMILIES.find((f) => f.templates.length)!;
    expect(() => new NodeRegistry([withTemplate, { ...withTemplate, id: 'copy', nodes: [] }])).toThrow(/duplicate template/);
  });
});

describe.each(NODE_TYPES.map((s) => [s.type, s] as const))('%s', (_type, spec) => {
  it('declares its identity and ports', () => {
    expect(spec.type).toMatch(/^[a-z]+\.[A-Za-z0-9]+$/);
    expect(spec.version).toBeGreaterThanOrEqual(1);
    expect(CATEGORIES).toContain(spec.category);
    expect(spec.title.length).toBeGreaterThan(2);
    for (const port of spec.staticOutputs ?? []) expect(spec.outputs[port]).toBeDefined();
  });
  it('parses its defaults', () => {
    expect(spec.params.safeParse({}).success).toBe(true);
  });
  it('names only its own params in inspector hints, and only its own ports in exports and evaluators', () => {
    const params = Object.keys((spec.params.safeParse({}).data ?? {}) as object);
    for (const [k, h] of Object.entries(spec.ui ?? {})) {
      expect(params, `ui.${k}`).toContain(k);
      for (const other of Object.keys((h as { showWhen?: object } | undefined)?.showWhen ?? {})) expect(params, `ui.${k}.showWhen`).toContain(other);
    }
    for (const e of spec.exports ?? []) {
      if (e.port !== undefined) expect(Object.keys(spec.outputs), `exports ${e.kind}`).toContain(e.port);
      else expect(Object.keys(spec.inputs), `exports ${e.kind}`).toContain(e.input);
    }
    for (const e of spec.evaluators ?? []) {
      if (e.kind === 'nll') expect([...Object.keys(spec.inputs), ...Object.keys(spec.outputs)]).toContain(e.dist);
      else expect(spec.role).toBe('objective');
    }
  });
  it('has math that KaTeX renders, and an explanation', () => {
    expect(spec.math.latex.trim().length).toBeGreaterThan(5);
    expect(() => katex.renderToString(spec.math.latex, { throwOnError: true })).not.toThrow();
    expect(spec.math.explain.length).toBeGreaterThan(60);
  });
  it('infer agrees with apply', () => {
    const fx = spec.fixture;
    const ops = new TfjsOps({ seed: 3 });
    tf.tidy(() => {
      const run = runNode(spec, fx.inputs, fx.params, ops);
      expect(Object.keys(run.outShapes).sort()).toEqual(Object.keys(spec.outputs).sort());
      for (const [port, s] of Object.entries(run.outShapes)) {
        expect(run.outputs[port], `output ${port} is produced`).toBeDefined();
        checkAgainstShape(port, run.outputs[port], s, ops);
      }
      run.store.dispose();
    });
  });
  it('has an ONNX form equal to the tfjs computation (both noise modes, <= 1e-4)', async () => {
    const fx = spec.fixture;
    const r = await onnxParityForNode(spec, { params: fx.params, inputs: fx.inputs });
    expect(r.pass, r.summary).toBe(true);
    expect(r.maxError).toBeLessThanOrEqual(1e-4);
  });
});
