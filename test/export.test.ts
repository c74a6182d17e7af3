/**
 * ONNX export of the five templates: every target each one offers, both noise modes,
 * proven equal to the trained graph (onnxruntime-node vs tfjs, same inputs and noise,
 * 1e-4), valid for the official ONNX checker; the 1000-step DDPM sampler is one Loop and
 * small; metadata; clear errors; the `genloom export` and `genloom run-onnx` commands.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode } from '../nodes/core/defineNode';
import { NODE_TYPES, NodeRegistry } from '../nodes/index';
import { exportCommand } from '../src-main/cli/exportCommand';
import { runOnnxCommand } from '../src-main/cli/runOnnxCommand';
import { compile } from '../src-main/compile/compile';
import { expectCheckerPasses } from './onnxChecker';
import { ExportError, exportOnnx, formatParityReport, GENLOOM_VERSION, listTargets, parityCheck, type NoiseMode } from '../src-main/export/exportModel';
import { decodeModel, readMetadata } from '../src-main/export/onnxGraph';
import { compileDocument, loadTemplate, shrinkDocument, TEMPLATE_NAMES, trainTemplate, type TemplateName, type TrainedTemplate } from '../src-main/export/templateFixture';
import { validateGraph } from '../src-main/graph/validate';
import { initBackend } from '../src-main/runtime/backend';
import { appendMetrics, initRunFolder, writeCheckpoint } from '../src-main/runtime/runFolder';

const STEPS = 20;
const HIDDEN = [16, 16];

const EXPECTED: Record<TemplateName, string[]> = {
  'vae-moons': ['generator:decoder', 'encoder:encoder', 'sampler:sampler'],
  'vae-mnist': ['generator:decoder', 'encoder:encoder', 'sampler:sampler'],
  'gan-8gaussians': ['generator:generator', 'sampler:sampler'],
  'realnvp-moons': ['generator:model', 'density:model', 'sampler:sampler'],
  'ddpm-swissroll': ['denoiser:denoiser', 'sampler:ddpm', 'sampler:ddim'],
  'fm-8gaussians': ['denoiser:velocity', 'sampler:euler', 'sampler:heun'],
  'fm-moons': ['density:cnf', 'denoiser:velocity', 'sampler:euler', 'sampler:heun'],
  'ebm-8gaussians': ['energy:energy', 'sampler:langevin', 'sampler:annealed'],
  'iwae-moons': ['generator:decoder', 'encoder:encoder', 'sampler:sampler'],
  'iwae-mnist': ['generator:decoder', 'encoder:encoder', 'sampler:sampler'],
  'fgan-kl-8gaussians': ['generator:generator', 'sampler:sampler'],
  'fgan-reversekl-8gaussians': ['generator:generator', 'sampler:sampler'],
  'fgan-pearson-8gaussians': ['generator:generator', 'sampler:sampler'],
  'fgan-hellinger-8gaussians': ['generator:generator', 'sampler:sampler'],
  'fgan-js-8gaussians': ['generator:generator', 'sampler:sampler'],
  'fgan-gan-8gaussians': ['generator:generator', 'sampler:sampler'],
  'gsn-moons': ['sampler:chain'],
  'ncsn-swissroll': ['sampler:langevin', 'sampler:annealed'],
  'wgangp-ring8': ['generator:generator', 'sampler:sampler'],
  'wgangp-grid25': ['generator:generator', 'sampler:sampler'],
  'wgangp-8gaussians': ['generator:generator', 'sampler:sampler'],
  'wgan-8gaussians': ['generator:generator', 'sampler:sampler'],
  'ws-mnist': ['generator:decoder', 'sampler:sampler'],
  'rws-mnist': ['generator:decoder', 'sampler:sampler'],
  'vpsde-moons': ['density:nll', 'denoiser:net', 'sampler:em', 'sampler:pf', 'sampler:pc'],
  'vesde-8gaussians': ['denoiser:net', 'sampler:pc', 'sampler:em', 'sampler:pf'],
  'consistency-8gaussians': ['denoiser:net', 'sampler:one', 'sampler:two'],
  'consistency-distill-8gaussians': ['denoiser:teacher', 'denoiser:net', 'sampler:one', 'sampler:two'],
  'consistency-distill-ddpm-swissroll': ['denoiser:net', 'sampler:one', 'sampler:two'],
  'gmm-em-8gaussians': ['density:gmm', 'sampler:sampler'],
  'gmm-sgd-8gaussians': ['density:gmm', 'sampler:sampler'],
  'kde-moons': ['density:kde', 'sampler:sampler'],
  'ar-moons': ['density:ar', 'sampler:sampler'],
  'ar-8gaussians': ['density:ar', 'sampler:sampler'],
  'made-mnist': ['density:made', 'sampler:sampler'],
  'rbm-mnist': ['energy:rbmCd', 'energy:rbmPcd', 'sampler:sampleCd', 'sampler:samplePcd'],
  'dbn-mnist': ['energy:rbm1', 'energy:rbm2', 'sampler:rbmOnly', 'sampler:dbn'],
  'gbrbm-8gaussians': ['density:rbm', 'energy:rbm', 'sampler:gibbs', 'sampler:exact'],
  'ppca-mnist': ['density:fa', 'sampler:sampler'],
  'fa-mnist': ['density:fa', 'sampler:sampler'],
  'vqvae-mnist': ['generator:encoder', 'generator:decoder', 'density:prior', 'sampler:sampler'],
};

const models: { name: string; bytes: Uint8Array }[] = [];
const errors: { id: string; noise: string; maxError: number }[] = [];


beforeAll(async () => {
  await initBackend('cpu');
});

afterAll(() => {
  console.log(`parity (max error per target and noise mode):\n${errors.map((e) => `  ${e.id} ${e.noise}: ${e.maxError.toExponential(2)}`).join('\n')}`);
});

describe.each(TEMPLATE_NAMES)('%s', (name) => {
  let t: TrainedTemplate;
  beforeAll(() => {
    t = trainTemplate(name, { steps: STEPS, hidden: HIDDEN, batchSize: 32 });
  });

  it('offers the expected targets', () => {
    expect(listTargets(t.program).map((x) => x.id)).toEqual(EXPECTED[name]);
  });

  for (const id of EXPECTED[name]) {
    for (const noise of ['inputs', 'internal'] as NoiseMode[]) {
      it(`${id}, noise ${noise}: onnxruntime matches tfjs to 1e-4`, async () => {
        const model = exportOnnx(t.program, t.weights, id, { noise, meta: { document: t.doc, trainingSteps: STEPS, metrics: { nll: 1.5 } } });
        const r = await parityCheck(t.program, t.weights, id, { noise, model, n: 16, seed: 7 });
        expect(r.problems, formatParityReport(r)).toEqual([]);
        expect(r.pass, formatParityReport(r)).toBe(true);
        expect(r.maxError).toBeLessThanOrEqual(1e-4);
        if (noise === 'internal') expect(r.internalRun?.ok).toBe(true);
        errors.push({ id: `${name} ${id}`, noise, maxError: r.maxError });
        models.push({ name: `${name}-${id}-${noise}`, bytes: model.bytes });
      });
    }
  }

  it('writes the graph, template, training steps, metrics and version into metadata_props', () => {
    const id = EXPECTED[name].at(-1)!;
    const m = exportOnnx(t.program, t.weights, id, { meta: { document: t.doc, trainingSteps: STEPS, metrics: { w2: 0.25 } } });
    const meta = readMetadata(m.bytes);
    expect(JSON.parse(meta['genloom.graph']!)).toEqual(t.doc);
    expect(meta['genloom.template']).toBe(name);
    expect(meta['genloom.training_steps']).toBe(String(STEPS));
    expect(JSON.parse(meta['genloom.metrics']!)).toEqual({ w2: 0.25 });
    expect(meta['genloom.version']).toBe(GENLOOM_VERSION);
    expect(meta['genloom.target']).toBe(id);
    const proto = decodeModel(m.bytes);
    expect(Number(proto.irVersion)).toBe(8);
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(proto.docString).toMatch(/Inputs:/);
  });
});

describe('samplers', () => {
  it('names and documents the inputs of each noise mode (batch free)', () => {
    const t = trainTemplate('ddpm-swissroll', { steps: 0, hidden: HIDDEN });
    const internal = exportOnnx(t.program, t.weights, 'sampler:ddpm', { noise: 'internal' });
    expect(internal.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual([['n', 'int64', []]]);
    expect(internal.outputs.map((o) => [o.name, o.shape])).toEqual([['samples', ['N', 2]]]);
    const inputs = exportOnnx(t.program, t.weights, 'sampler:ddpm', { noise: 'inputs' });
    expect(inputs.inputs.map((i) => [i.name, i.shape, i.role])).toEqual([
      ['x_T', ['N', 2], 'noise'],
      ['noise', [1000, 'N', 2], 'noise'],
    ]);
    const g = trainTemplate('gan-8gaussians', { steps: 0, hidden: HIDDEN });
    expect(exportOnnx(g.program, g.weights, 'sampler', { noise: 'inputs' }).inputs.map((i) => [i.name, i.shape])).toEqual([['z', ['N', 2]]]);
    expect(exportOnnx(g.program, g.weights, 'decoder').inputs.map((i) => [i.name, i.shape, i.role])).toEqual([['z', ['N', 2], 'data']]);
  });

  it('exports the 1000-step DDPM sampler as one Loop node, smaller than twice the denoiser weights', () => {
    // the template's own network (256 x 3), untrained: size does not depend on training
    const t = trainTemplate('ddpm-swissroll', { steps: 0 });
    const denoiserBytes = [...t.weights].filter(([k]) => k.startsWith('denoiser/')).reduce((a, [, w]) => a + w.data.byteLength, 0);
    for (const noise of ['internal', 'inputs'] as NoiseMode[]) {
      const m = exportOnnx(t.program, t.weights, 'sampler:ddpm', { noise });
      const proto = decodeModel(m.bytes);
      const loops = proto.graph!.node!.filter((n) => n.opType === 'Loop');
      expect(loops).toHaveLength(1);
      expect(m.loopCount).toBe(1);
      const trip = proto.graph!.initializer!.find((i) => i.name === loops[0]!.input![0]);
      expect(Number(new BigInt64Array(new Uint8Array(trip!.rawData!).slice().buffer)[0])).toBe(1000);
      expect(m.bytes.byteLength).toBeLessThan(2 * denoiserBytes);
      console.log(`DDPM sampler (${noise} noise): ${m.bytes.byteLength} bytes, denoiser weights ${denoiserBytes} bytes (${(m.bytes.byteLength / denoiserBytes).toFixed(3)}x), ${m.nodeCount} nodes`);
      models.push({ name: `ddpm-full-${noise}`, bytes: m.bytes });
    }
  });

  it('takes the DDIM step count from --steps, and refuses it for DDPM', async () => {
    const t = trainTemplate('ddpm-swissroll', { steps: 5, hidden: HIDDEN });
    const m = exportOnnx(t.program, t.weights, 'sampler:ddim', { steps: 10 });
    const loop = decodeModel(m.bytes).graph!.node!.find((n) => n.opType === 'Loop')!;
    const trip = decodeModel(m.bytes).graph!.initializer!.find((i) => i.name === loop.input![0])!;
    expect(Number(new BigInt64Array(new Uint8Array(trip.rawData!).slice().buffer)[0])).toBe(10);
    const r = await parityCheck(t.program, t.weights, 'sampler:ddim', { steps: 10, model: m, n: 8 });
    expect(r.pass, formatParityReport(r)).toBe(true);
    expect(() => exportOnnx(t.program, t.weights, 'sampler:ddpm', { steps: 10 })).toThrow(/has no steps setting/);
    expect(() => exportOnnx(t.program, t.weights, 'sampler:ddim', { steps: 5000 })).toThrow(ExportError);
  });
});

describe('errors', () => {
  const code = (f: () => unknown): { code?: string; nodeId?: string; message: string } => {
    try {
      f();
    } catch (e) {
      return e as ExportError;
    }
    throw new Error('expected an ExportError');
  };

  it('a target the model does not have: a GAN has no density', () => {
    const t = trainTemplate('gan-8gaussians', { steps: 0, hidden: HIDDEN });
    const e = code(() => exportOnnx(t.program, t.weights, 'density'));
    expect(e).toBeInstanceOf(ExportError);
    expect(e.code).toBe('target-not-available');
    expect(e.message).toMatch(/no density target/);
    expect(e.message).toMatch(/generator:generator, sampler:sampler/);
    expect(code(() => exportOnnx(t.program, t.weights, 'encoder')).code).toBe('target-not-available');
    expect(code(() => exportOnnx(t.program, t.weights, 'sampler:nope')).nodeId).toBe('nope');
  });

  it('an unknown target', () => {
    const t = trainTemplate('gan-8gaussians', { steps: 0, hidden: HIDDEN });
    const e = code(() => exportOnnx(t.program, t.weights, 'hologram'));
    expect(e.code).toBe('unknown-target');
    expect(e.message).toMatch(/generator, decoder, encoder, density/);
  });

  it('a graph with no exportable target', () => {
    const doc = {
      nodes: [
        { id: 'data', type: 'data.dataset', params: { dataset: 'moons' } },
        { id: 'critic', type: 'critic.mlp', params: { hidden: [8] } },
        { id: 'loss', type: 'loss.ganCritic', params: {} },
      ],
      edges: [
        { from: ['data', 'x'], to: ['critic', 'real'] },
        { from: ['data', 'x'], to: ['critic', 'fake'] },
        { from: ['critic', 'realLogit'], to: ['loss', 'realLogit'] },
        { from: ['critic', 'fakeLogit'], to: ['loss', 'fakeLogit'] },
      ],
    } as const;
    const program = compileDocument(doc as never);
    expect(listTargets(program)).toEqual([]);
    const e = code(() => exportOnnx(program, new Map(), 'sampler'));
    expect(e.code).toBe('no-target');
    expect(e.message).toMatch(/nothing to export/);
  });

  it('a node that has no ONNX form is named', () => {
    // a sampler that builds its latent batch from the batch size as a number: ONNX keeps N symbolic
    const fixedLatents = defineNode({
      type: 'test.fixedLatents',
      version: 1,
      title: 'Fixed latents',
      category: 'sampler',
      role: 'sampler',
      inputs: { generator: { type: { kind: 'Fn' } } },
      outputs: { samples: { type: { kind: 'Tensor', semantic: 'data' } } },
      params: z.object({}),
      math: { latex: 'x = G(0)', explain: 'test' },
      fixture: { inputs: { generator: { kind: 'Fn', in: [2], out: [2], timeConditioned: false } } },
      infer: (s) => ({ samples: { kind: 'Tensor', shape: (s.generator as { out: number[] }).out } }),
      apply: (ctx, { inputs }) => ({ samples: inputs.generator.call(ctx.ops.constant(new Float32Array(Math.max(0, ctx.batchSize) * 2), [ctx.batchSize, 2])) }),
    });
    const reg = NodeRegistry.ofNodes([...NODE_TYPES, fixedLatents as never]);
    const doc = shrinkDocument(loadTemplate('gan-8gaussians'), HIDDEN);
    doc.nodes.push({ id: 'odd', type: 'test.fixedLatents', params: {} });
    doc.edges.push({ from: ['generator', 'fn'], to: ['odd', 'generator'] });
    const program = compile(validateGraph(doc, reg));
    const t = trainTemplate('gan-8gaussians', { steps: 0, hidden: HIDDEN });
    const e = code(() => exportOnnx(program, t.weights, 'sampler:odd'));
    expect(e.code).toBe('no-onnx-form');
    expect(e.nodeId).toBe('odd');
    expect(e.message).toMatch(/node "odd" \(test\.fixedLatents\) has no ONNX form: constant/);
    // the other sampler of the same graph still exports
    expect(exportOnnx(program, t.weights, 'sampler:sampler').bytes.byteLength).toBeGreaterThan(0);
  });

  it('weights that do not fit the graph', () => {
    const t = trainTemplate('gan-8gaussians', { steps: 0, hidden: HIDDEN });
    const w = new Map(t.weights);
    w.delete('generator/l0.w');
    expect(code(() => exportOnnx(t.program, w, 'sampler')).code).toBe('bad-weights');
    const u = new Map(t.weights);
    u.set('generator/l0.w', { shape: [3, 3], data: new Float32Array(9) });
    const e = code(() => exportOnnx(t.program, u, 'sampler'));
    expect(e.code).toBe('bad-weights');
    expect(e.message).toMatch(/\[3, 3\]/);
  });
});

describe('genloom export / run-onnx', () => {
  let dir: string;
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'genloom-export-'));
    for (const name of ['gan-8gaussians', 'vae-moons'] as const) {
      const t = trainTemplate(name, { steps: 10, hidden: HIDDEN });
      const run = join(dir, name);
      await initRunFolder(run, t.doc, { steps: 10 });
      await writeCheckpoint(run, { step: 10, weights: t.weights, optimizer: new Map(), state: { seed: 0, batchSize: 32, losses: { elbo: { loss: 3.5 } } } });
      await appendMetrics(run, { type: 'metrics', step: 10, metrics: { w2: 0.9 }, time: new Date().toISOString() });
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exports a run, checks parity and writes the report', async () => {
    const c = io();
    const file = join(dir, 'out', 'gan.onnx');
    const code = await exportCommand([join(dir, 'gan-8gaussians'), '--target', 'sampler', '--out', file, '--n', '16'], c.io);
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/parity PASS/);
    expect(text).toMatch(/n: int64 \[\]/);
    const report = JSON.parse(readFileSync(join(dir, 'out', 'gan.parity.json'), 'utf8'));
    expect(report.ok).toBe(true);
    expect(report.parity.pass).toBe(true);
    expect(report.parity.maxError).toBeLessThanOrEqual(1e-4);
    expect(report.trainingSteps).toBe(10);
    const meta = readMetadata(new Uint8Array(readFileSync(file)));
    expect(meta['genloom.template']).toBe('gan-8gaussians');
    expect(meta['genloom.training_steps']).toBe('10');
    expect(JSON.parse(meta['genloom.metrics']!)).toMatchObject({ w2: 0.9, 'loss.elbo.loss': 3.5 });

    const r = io();
    const csv = join(dir, 'out', 'samples.csv');
    expect(await runOnnxCommand([file, '--n', '50', '--out', csv], r.io)).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('samples_0,samples_1');
    expect(lines).toHaveLength(51);
    expect(lines.slice(1).every((l) => l.split(',').map(Number).every(Number.isFinite))).toBe(true);
  });

  it('exports with noise inputs and runs the model with seeded noise', async () => {
    const c = io();
    const file = join(dir, 'out', 'vae-sampler-inputs.onnx');
    expect(await exportCommand([join(dir, 'vae-moons'), '--target', 'sampler', '--noise', 'inputs', '--out', file, '--n', '8', '--no-check'], c.io)).toBe(0);
    const a = join(dir, 'out', 'a.csv');
    const b = join(dir, 'out', 'b.csv');
    expect(await runOnnxCommand([file, '--n', '20', '--out', a, '--seed', '3'], io().io)).toBe(0);
    expect(await runOnnxCommand([file, '--n', '20', '--out', b, '--seed', '3'], io().io)).toBe(0);
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
  });

  it('runs an encoder on rows from --in', async () => {
    const file = join(dir, 'out', 'enc.onnx');
    const e = io();
    expect(await exportCommand([join(dir, 'vae-moons'), '--target', 'encoder', '--node', 'encoder', '--out', file, '--no-parity', '--no-check', '--json'], e.io)).toBe(0);
    const report = JSON.parse(e.out.join(''));
    expect(report.target).toBe('encoder:encoder');
    expect(report.inputs.map((i: { name: string }) => i.name)).toEqual(['x']);
    expect(report.outputs.map((o: { name: string }) => o.name)).toEqual(['mu', 'logStd']);
    const c = io();
    expect(await runOnnxCommand([file, '--n', '5', '--out', join(dir, 'out', 'z.csv')], c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(/--in FILE.csv/);
    const data = join(dir, 'out', 'x.csv');
    writeFileSync(data, 'x0,x1\n0.1,0.2\n-1,0.5\n2,1\n');
    expect(await runOnnxCommand([file, '--in', data, '--out', join(dir, 'out', 'z.csv')], io().io)).toBe(0);
    const lines = readFileSync(join(dir, 'out', 'z.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('mu_0,mu_1,logStd_0,logStd_1');
    expect(lines).toHaveLength(4);
  });

  it('lists targets and reports bad usage and missing targets', async () => {
    const l = io();
    expect(await exportCommand([join(dir, 'vae-moons'), '--list'], l.io)).toBe(0);
    expect(l.out.join('\n')).toMatch(/encoder:encoder/);
    const u = io();
    expect(await exportCommand([join(dir, 'vae-moons'), '--out', 'x.onnx'], u.io)).toBe(2);
    expect(u.err.join('\n')).toMatch(/--target is required/);
    expect(await exportCommand([join(dir, 'vae-moons'), '--target', 'sampler', '--out', 'x.onnx', '--noise', 'loud'], io().io)).toBe(2);
    expect(await exportCommand([join(dir, 'vae-moons'), '--target', 'sampler', '--out', 'x.onnx', '--bogus'], io().io)).toBe(2);
    const d = io();
    expect(await exportCommand([join(dir, 'gan-8gaussians'), '--target', 'density', '--out', join(dir, 'out', 'd.onnx')], d.io)).toBe(2);
    expect(d.err.join('\n')).toMatch(/no density target/);
    const m = io();
    expect(await exportCommand([join(dir, 'nope'), '--target', 'sampler', '--out', join(dir, 'out', 'd.onnx')], m.io)).toBe(2);
    expect(m.err.join('\n')).toMatch(/not a run folder/);
    expect(await runOnnxCommand([join(dir, 'out', 'missing.onnx'), '--n', '3', '--out', join(dir, 'out', 'm.csv')], io().io)).toBe(2);
    const j = io();
    expect(await exportCommand([join(dir, 'vae-moons'), '--list', '--json'], j.io)).toBe(0);
    expect(JSON.parse(j.out[0]!).map((t: { id: string }) => t.id)).toEqual(['generator:decoder', 'encoder:encoder', 'sampler:sampler']);
    expect(await runOnnxCommand([join(dir, 'out', 'gan.onnx'), '--out', join(dir, 'out', 'm.csv')], io().io)).toBe(2);
  });
});

describe('ONNX checker', () => {
  it('passes every exported model (full_check + strict shape inference)', () => {
    expect(models.length).toBeGreaterThanOrEqual(30);
    expectCheckerPasses(models);
  });
});
