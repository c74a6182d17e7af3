
import { describe, expect, it } from 'vitest';
import type { GraphDocument } from '../../src-main/document/schema';
import { addNode, connect, copySelection, deleteSelection, groupSelection, paste, renameNode, setParam, ungroupSelection } from '../model/actions';
import { analyze, compareSummary, describeObjectives } from '../model/compare';
import { searchSpecs, specsByFamily } from '../model/registry';
import { EditorStore, edgeId, emptyDocument, structureOf } from '../model/store';
import { TrainingStore } from '../model/training';
import { checkConnection, nodeChecks, setExternalDocuments, validateDoc } from '../model/validation';
import { summarizeParity } from '../model/parity';
import type { StudioClient } from '../api';
import type { ApiEvent } from '../../src-main/api/contract';
import { readTemplate, TEMPLATE_NAMES } from '../../src-main/document/templates';

const template = (name: string): GraphDocument => readTemplate(name) as GraphDocument;
// as the studio does once its template gallery has loaded: imported networks resolve against the templates
setExternalDocuments(TEMPLATE_NAMES.map((id) => ({ id, doc: template(id) })));

describe('EditorStore: undo/redo through immer patches', () => {
  it('undoes and redoes every edit, and a drag is one step', () => {
    const s = new EditorStore(template('vae-moons'));
    const id = addNode(s, 'network.mlp', { x: 10, y: 20 });
    expect(id).toBe('mlp');
    connect(s, ['data', 'x'], ['mlp', 'x']);
    setParam(s, 'mlp', ['hidden'], [64]);
    setParam(s, 'mlp', ['hidden'], [64, 32]); // merged with the previous (same field, < 1 s)
    expect(s.getState().past).toHaveLength(3);
    // a drag: many live moves, one history entry
    s.beginDrag();
    for (let i = 1; i <= 20; i++) s.dragTo((d) => void (d.nodes.find((n) => n.id === 'mlp')!.ui = { x: 10 + i, y: 20 }));
    s.endDrag();
    expect(s.getState().past).toHaveLength(4);
    expect(s.getState().doc.nodes.find((n) => n.id === 'mlp')!.ui).toEqual({ x: 30, y: 20 });
    s.undo();
    expect(s.getState().doc.nodes.find((n) => n.id === 'mlp')!.ui).toEqual({ x: 10, y: 20 });
    s.undo();
    expect(s.getState().doc.nodes.find((n) => n.id === 'mlp')!.params.hidden).toEqual([128, 128]);
    s.undo();
    expect(s.getState().doc.edges.some((e) => e.to[0] === 'mlp')).toBe(false);
    s.undo();
    expect(s.getState().doc.nodes.some((n) => n.id === 'mlp')).toBe(false);
    expect(s.undo()).toBe(false);
    for (let i = 0; i < 4; i++) s.redo();
    const mlp = s.getState().doc.nodes.find((n) => n.id === 'mlp')!;
    expect(mlp.params.hidden).toEqual([64, 32]);
    expect(mlp.ui).toEqual({ x: 30, y: 20 });
    expect(s.redo()).toBe(false);
  });

  it('tracks dirty state and load resets history', () => {
    const s = new EditorStore();
    expect(s.dirty).toBe(false);
    addNode(s, 'data.dataset', { x: 0, y: 0 });
    expect(s.dirty).toBe(true);
    s.markSaved('/tmp/a.json', s.getState().revision);
    expect(s.dirty).toBe(false);
    s.load(emptyDocument());
    expect(s.getState().past).toHaveLength(0);
  });

  it('structureOf ignores position-only changes', () => {
    const s = new EditorStore(template('vae-moons'));
    const a = structureOf(s.getState().doc);
    s.dragTo((d) => void (d.nodes[0]!.ui = { x: 999, y: 1 }));
    expect(structureOf(s.getState().doc)).toBe(a);
    setParam(s, 'elbo', ['beta'], 2);
    expect(structureOf(s.getState().doc)).not.toBe(a);
  });
});

describe('edits', () => {
  it('connect replaces the driver of an input', () => {
    const s = new EditorStore(template('vae-moons'));
    const r = connect(s, ['prior', 'z'], ['decoder', 'z']);
    expect(r.replaced).toEqual({ from: ['encoder', 'z'], to: ['decoder', 'z'] });
    expect(s.getState().doc.edges.filter((e) => e.to[0] === 'decoder' && e.to[1] === 'z')).toHaveLength(1);
  });

  it('delete removes nodes, their edges and mentions in trains', () => {
    const s = new EditorStore(template('gan-8gaussians'));
    s.select({ nodes: ['critic'] });
    deleteSelection(s);
    const d = s.getState().doc;
    expect(d.nodes.some((n) => n.id === 'critic')).toBe(false);
    expect(d.edges.some((e) => e.from[0] === 'critic' || e.to[0] === 'critic')).toBe(false);
    expect(d.nodes.find((n) => n.id === 'criticLoss')!.params.trains).toEqual([]);
  });

  it('copy/paste gives fresh ids, keeps inner edges, remaps trains', () => {
    const s = new EditorStore(template('gan-8gaussians'));
    s.select({ nodes: ['critic', 'criticLoss'] });
    const clip = copySelection(s)!;
    const ids = paste(s, clip);
    expect(ids).toEqual(['critic2', 'criticLoss2']);
    const d = s.getState().doc;
    expect(d.edges).toContainEqual({ from: ['critic2', 'realLogit'], to: ['criticLoss2', 'realLogit'] });
    expect(d.nodes.find((n) => n.id === 'criticLoss2')!.params.trains).toEqual(['critic2']);
  });

  it('rename updates edges and trains; bad ids are refused', () => {
    const s = new EditorStore(template('gan-8gaussians'));
    expect(renameNode(s, 'critic', 'disc')).toBeUndefined();
    const d = s.getState().doc;
    expect(d.edges.some((e) => e.from[0] === 'disc')).toBe(true);
    expect(d.nodes.find((n) => n.id === 'criticLoss')!.params.trains).toEqual(['disc']);
    expect(renameNode(s, 'disc', 'has space')).toMatch(/letters/);
    expect(renameNode(s, 'disc', 'generator')).toMatch(/taken/);
  });

  it('groups and ungroups', () => {
    const s = new EditorStore(template('vae-moons'));
    s.select({ nodes: ['encoder', 'decoder'] });
    expect(groupSelection(s)).toBe('Group 1');
    expect(s.getState().doc.nodes.filter((n) => n.ui?.group === 'Group 1')).toHaveLength(2);
    ungroupSelection(s);
    expect(s.getState().doc.nodes.some((n) => n.ui?.group)).toBe(false);
  });
});

describe('validation on the client', () => {
  it('refuses port-type and semantic mismatches with a reason', () => {
    const d = template('vae-moons');
    expect(checkConnection(d, ['prior', 'p'], ['decoder', 'z'])).toEqual({ ok: false, reason: expect.stringContaining('cannot connect Dist to Tensor<latent>') });
    expect(checkConnection(d, ['data', 'x'], ['decoder', 'z']).reason).toContain('a data tensor is not a latent tensor');
    expect(checkConnection(d, ['prior', 'z'], ['decoder', 'z']).ok).toBe(true);
  });

  it('refuses cycles and known shape mismatches', () => {
    const d = template('vae-moons');
    expect(checkConnection(d, ['decoder', 'z'] as never, ['encoder', 'x']).ok).toBe(false);
    const cyc = checkConnection(d, ['elbo', 'loss'], ['elbo', 'x']);
    expect(cyc.ok).toBe(false);
    // a 3-D latent prior against a 2-D posterior: the ELBO's shapes disagree
    const s = new EditorStore(d);
    addNode(s, 'prior.standardNormal', { x: 0, y: 0 });
    setParam(s, 'standardNormal', ['dim'], 3);
    const r = checkConnection(s.getState().doc, ['standardNormal', 'p'], ['elbo', 'prior']);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/shape mismatch/);
  });

  it('gives per-node diagnostics and shapes', () => {
    const d = template('vae-moons');
    d.edges = d.edges.filter((e) => !(e.to[0] === 'elbo' && e.to[1] === 'px'));
    const checks = nodeChecks(validateDoc(d));
    expect(checks.get('elbo')!.ports.px![0]!.code).toBe('missing-input');
    expect(checks.get('encoder')!.outShapes.z).toBe('[B, 2]');
  });
});

describe('compare', () => {
  it('tells VAE, GAN, flow and diffusion apart', () => {
    const vae = analyze(template('vae-moons'));
    const gan = analyze(template('gan-8gaussians'));
    const flow = analyze(template('realnvp-moons'));
    const ddpm = analyze(template('ddpm-swissroll'));
    expect(vae.objectives.map((o) => o.trains.sort())).toEqual([['decoder', 'encoder']]);
    expect(vae.likelihood.kind).toBe('bound');
    expect(gan.adversarial).toBe(true);
    expect(gan.objectives.map((o) => o.id)).toEqual(['criticLoss', 'generatorLoss']);
    expect(flow.likelihood.kind).toBe('exact');
    expect(ddpm.samplers.find((s) => s.id === 'ddpm')!.calls).toBe(1000);
    expect(ddpm.samplers.find((s) => s.id === 'ddim')!.calls).toBe(50);
    const text = compareSummary(vae, ddpm).join('\n');
    expect(text).toMatch(/1000× more network calls/);
    expect(compareSummary(vae, gan).join('\n')).toMatch(/GAN on eight Gaussians is adversarial/);
  });

  it('names the divergence each template minimises, and which player each objective trains', () => {
    for (const g of specsByFamily()) {
      for (const t of g.family.templates) {
        const a = analyze(template(t.name));
        expect(a.errors, t.name).toBe(0);
        expect(a.divergences.length, `${t.name}: every objective states what it minimises`).toBeGreaterThan(0);
      }
    }
    const gan = analyze(template('gan-8gaussians'));
    const wgan = analyze(template('wgangp-ring8'));
    const kl = analyze(template('fgan-kl-8gaussians'));
    const vae = analyze(template('vae-moons'));
    const iwae = analyze(template('iwae-moons'));
    const ncsn = analyze(template('ncsn-swissroll'));
    // a teacher from another graph resolves in the studio against the bundled templates
    expect(validateDoc(template('consistency-distill-ddpm-swissroll')).nodes.get('teacher')?.external?.ref.graph).toBe('template:ddpm-swissroll');
    expect(gan.divergences).toEqual([expect.stringMatching(/Jensen-Shannon/)]);
    expect(wgan.divergences).toEqual([expect.stringMatching(/Wasserstein-1/)]);
    expect(kl.divergences).toEqual([expect.stringMatching(/Kullback-Leibler divergence KL\(p_data \|\| p_g\)/)]);
    expect(ncsn.divergences).toEqual([expect.stringMatching(/Fisher divergence/)]);
    expect(compareSummary(gan, wgan).join('\n')).toMatch(/Divergence minimised\. GAN on eight Gaussians: the Jensen-Shannon.*WGAN-GP[^:]*: the Wasserstein-1/);
    expect(compareSummary(vae, iwae).join('\n')).toMatch(/Divergence minimised\..*through the ELBO.*importance-weighted bound/);
    expect(describeObjectives(wgan)).toMatch(/WGAN-GP critic loss \(criticLoss\) trains critic ×5 per round, then WGAN generator loss \(generatorLoss\) trains generator/);
    expect(compareSummary(vae, vae).join('\n')).toMatch(/Both minimise the same divergence: KL\(p_data/);
    // EM shows as plainly as a gradient step
    const em = analyze(template('gmm-em-8gaussians'));
    const sgd = analyze(template('gmm-sgd-8gaussians'));
    expect(describeObjectives(em)).toMatch(/trains gmm by closed-form updates \(no gradient step, no learning rate\)/);
    expect(describeObjectives(sgd)).not.toMatch(/closed-form/);
  });
});

describe('registry', () => {
  it('groups the palette by family and searches', () => {
    expect(specsByFamily().map((g) => g.family.id)).toEqual(['common', 'vae', 'gan', 'flow', 'diffusion', 'flowmatching', 'ebm', 'iwae', 'fgan', 'gsn', 'score', 'wgan', 'wakesleep', 'sde', 'consistency', 'mixture', 'autoregressive', 'rbm', 'factor', 'vqvae']);
    expect(searchSpecs('mlp')[0]!.type).toBe('network.mlp');
    expect(searchSpecs('ddim')[0]!.type).toBe('sampler.ddim');
  });
});

describe('TrainingStore', () => {
  it('folds events once per frame and keeps events that beat the start reply', () => {
    let listener: (e: ApiEvent) => void = () => {};
    const api = { onEvent: (l: (e: ApiEvent) => void) => ((listener = l), () => {}) } as unknown as StudioClient;
    const frames: (() => void)[] = [];
    const t = new TrainingStore(api, (cb) => (frames.push(cb), frames.length));
    t.starting(100);
    listener({ event: 'train', runId: 'r1', payload: { type: 'started', backend: 'wasm', runDir: '/r', step: 0, totalSteps: 100, program: '', objectives: [{ nodeId: 'elbo' }], samplers: [] } });
    frames.shift()!();
    expect(t.getState().backend).toBeNull(); // not ours yet
    t.started('r1', '/r');
    for (let i = 1; i <= 3; i++) listener({ event: 'train', runId: 'r1', payload: { type: 'step', step: i * 10, totalSteps: 100, stepsPerSec: 50, etaSec: 1, losses: { elbo: { loss: 3 - i, recon: 2, kl: 1 } } } });
    listener({ event: 'train', runId: 'other', payload: { type: 'warning', message: 'not mine' } });
    expect(frames).toHaveLength(1);
    const v = t.getState().version;
    frames.shift()!();
    const s = t.getState();
    expect(s.version).toBe(v + 1);
    expect(s.backend).toBe('wasm');
    expect(s.series.elbo!.steps).toEqual([10, 20, 30]);
    expect(s.series.elbo!.terms.kl).toEqual([1, 1, 1]);
    expect(s.warnings).toEqual([]);
    listener({ event: 'train', runId: 'r1', payload: { type: 'stopped', step: 100, reason: 'done' } });
    frames.shift()!();
    expect(t.getState().status).toBe('stopped');
  });
});

describe('parity report', () => {
  it('finds max abs error and the verdict', () => {
    expect(summarizeParity({ pass: true, maxError: 2e-7, maxAbsError: 4e-7, tolerance: 1e-4 })).toMatchObject({ pass: true, maxAbs: 4e-7, tol: 1e-4 });
    expect(summarizeParity({ outputs: [{ maxAbsDiff: 0.5 }], atol: 0.1 })).toMatchObject({ maxAbs: 0.5, tol: 0.1, pass: false });
  });
});

describe('edge ids', () => {
  it('are stable strings', () => {
    expect(edgeId({ from: ['a', 'x'], to: ['b', 'y'] })).toBe('a:x->b:y');
  });
});
