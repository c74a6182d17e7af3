import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index';
import type { DiagnosticCode } from './diagnostics';
import { validateGraph, type GraphLike } from './validate';
import { readTemplate } from '../document/templates';

const load = (name: string): GraphLike => readTemplate(name) as GraphLike;
const edit = (name: string, f: (g: { nodes: any[]; edges: any[] }) => void): GraphLike => {
  const g = structuredClone(load(name)) as { nodes: any[]; edges: any[] };
  f(g);
  return g;
};
const codes = (g: GraphLike) => validateGraph(g, registry).diagnostics.map((d) => d.code);
const find = (g: GraphLike, code: DiagnosticCode) => validateGraph(g, registry).diagnostics.find((d) => d.code === code);

describe('validateGraph', () => {
  it.each(['vae-moons', 'vae-mnist', 'gan-8gaussians', 'realnvp-moons', 'ddpm-swissroll'])('%s is valid with no warnings', (name) => {
    const v = validateGraph(load(name), registry);
    expect(v.diagnostics).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it('unknown type', () => {
    const d = find(edit('vae-moons', (g) => (g.nodes[0].type = 'data.datset')), 'unknown-type');
    expect(d).toMatchObject({ nodeId: 'data', message: 'unknown node type "data.datset"' });
  });

  it('bad params name the param', () => {
    const d = find(edit('vae-moons', (g) => (g.nodes.find((n) => n.id === 'encoder').params.latentDim = -3)), 'bad-params');
    expect(d).toMatchObject({ nodeId: 'encoder', port: 'latentDim' });
    expect(d!.message).toMatch(/latentDim/);
  });

  it('missing required input', () => {
    const d = find(edit('vae-moons', (g) => (g.edges = g.edges.filter((e) => !(e.to[0] === 'elbo' && e.to[1] === 'px')))), 'missing-input');
    expect(d).toMatchObject({ nodeId: 'elbo', port: 'px' });
  });

  it('two drivers on one input', () => {
    const d = find(edit('vae-moons', (g) => g.edges.push({ from: ['prior', 'z'], to: ['decoder', 'z'] })), 'multiple-drivers');
    expect(d).toMatchObject({ nodeId: 'decoder', port: 'z' });
    expect(d!.message).toMatch(/encoder\.z and prior\.z/);
  });

  it('port type mismatch', () => {
    const d = find(
      edit('vae-moons', (g) => {
        g.edges = g.edges.filter((e) => !(e.to[0] === 'elbo' && e.to[1] === 'x'));
        g.edges.push({ from: ['prior', 'p'], to: ['elbo', 'x'] });
      }),
      'port-type-mismatch',
    );
    expect(d).toMatchObject({ nodeId: 'elbo', port: 'x' });
    expect(d!.message).toMatch(/Dist.*Tensor<data>/);
  });

  it('semantic mismatch is a port type mismatch', () => {
    const d = find(
      edit('vae-moons', (g) => {
        g.edges = g.edges.filter((e) => !(e.to[0] === 'decoder' && e.to[1] === 'z'));
        g.edges.push({ from: ['data', 'x'], to: ['decoder', 'z'] });
      }),
      'port-type-mismatch',
    );
    expect(d!.message).toMatch(/Tensor<data>.*Tensor<latent>/);
  });

  it('shape mismatch names both shapes', () => {
    const d = find(edit('vae-moons', (g) => (g.nodes.find((n) => n.id === 'prior').params.dim = 3)), 'shape-mismatch');
    expect(d).toMatchObject({ nodeId: 'elbo', port: 'prior' });
    expect(d!.message).toContain('[B, 3]');
    expect(d!.message).toContain('[B, 2]');
  });

  it('cycle', () => {
    const g = edit('realnvp-moons', (g) => {
      g.edges = g.edges.filter((e) => !(e.to[0] === 'coupling1'));
      g.edges.push({ from: ['coupling8', 'flow'], to: ['coupling1', 'prev'] });
    });
    const cyc = validateGraph(g, registry).diagnostics.filter((d) => d.code === 'cycle');
    expect(cyc.map((d) => d.nodeId)).toEqual(['coupling1', 'coupling2', 'coupling3', 'coupling4', 'coupling5', 'coupling6', 'coupling7', 'coupling8']);
  });

  it('an objective that trains no network', () => {
    const g: GraphLike = {
      nodes: [
        { id: 'data', type: 'data.dataset', params: {} },
        { id: 'base', type: 'prior.standardNormal', params: {} },
        { id: 'nll', type: 'loss.nll', params: {} },
      ],
      edges: [
        { from: ['data', 'x'], to: ['nll', 'x'] },
        { from: ['base', 'p'], to: ['nll', 'dist'] },
      ],
    };
    expect(find(g, 'objective-trains-nothing')).toMatchObject({ nodeId: 'nll', severity: 'error' });
  });

  it('trains names an unknown network', () => {
    const d = find(edit('gan-8gaussians', (g) => (g.nodes.find((n) => n.id === 'criticLoss').params.trains = ['critc'])), 'unknown-network');
    expect(d).toMatchObject({ nodeId: 'criticLoss' });
  });

  it('with trains empty, each objective trains what its node declares: a critic loss only the critic', () => {
    const g = edit('gan-8gaussians', (g) => {
      for (const n of g.nodes) if (n.params?.trains) n.params.trains = [];
    });
    const v = validateGraph(g, registry);
    expect(v.ok).toBe(true);
    expect(v.objectives.map((o) => [o.nodeId, o.trains])).toEqual([
      ['criticLoss', ['critic']],
      ['generatorLoss', ['generator']],
    ]);
  });

  it('a network trained by no objective is a warning', () => {
    const g = edit('gan-8gaussians', (g) => (g.nodes.find((n) => n.id === 'generatorLoss').params.trains = ['critic']));
    const v = validateGraph(g, registry);
    expect(v.diagnostics.find((d) => d.code === 'network-untrained')).toMatchObject({ nodeId: 'generator', severity: 'warning' });
    expect(v.ok).toBe(true);
  });

  it('a sampler that cannot run: untimed denoiser', () => {
    const d = find(edit('ddpm-swissroll', (g) => (g.edges = g.edges.filter((e) => !(e.to[0] === 'denoiser' && e.to[1] === 't')))), 'sampler-cannot-run');
    expect(d).toMatchObject({ nodeId: 'ddpm', port: 'denoiser' });
    expect(d!.message).toMatch(/time step/);
  });

  it('a sampler that cannot run: nothing connected', () => {
    const d = find(edit('ddpm-swissroll', (g) => (g.edges = g.edges.filter((e) => e.to[0] !== 'ddim'))), 'sampler-cannot-run');
    expect(d).toMatchObject({ nodeId: 'ddim' });
  });

  it('unknown port and wrong direction', () => {
    expect(codes(edit('vae-moons', (g) => g.edges.push({ from: ['data', 'y'], to: ['encoder', 'x'] })))).toContain('unknown-port');
    expect(codes(edit('vae-moons', (g) => g.edges.push({ from: ['encoder', 'x'], to: ['decoder', 'z'] })))).toContain('wrong-direction');
  });

  it('dangling edge', () => {
    expect(find(edit('vae-moons', (g) => g.edges.push({ from: ['ghost', 'x'], to: ['encoder', 'x'] })), 'dangling-edge')!.message).toMatch(/ghost/);
  });

  it('no sampler and no objective are warnings', () => {
    expect(codes(edit('vae-moons', (g) => (g.nodes = g.nodes.filter((n) => n.id !== 'sampler'), g.edges = g.edges.filter((e) => e.to[0] !== 'sampler'))))).toEqual(['no-sampler']);
    expect(codes({ nodes: [{ id: 'data', type: 'data.dataset', params: {} }], edges: [] })).toEqual(['no-objective']);
  });
});

describe('validateGraph: unknown params', () => {
  it('a misspelt param is an unknown-param warning with a did-you-mean (the graph stays valid)', () => {
    const v = validateGraph(
      edit('vae-moons', (g) => {
        const enc = g.nodes.find((n) => n.id === 'encoder');
        enc.params.latnetDim = enc.params.latentDim;
        delete enc.params.latentDim;
      }),
      registry,
    );
    expect(v.ok).toBe(true);
    const d = v.diagnostics.find((x) => x.code === 'unknown-param');
    expect(d).toMatchObject({ severity: 'warning', nodeId: 'encoder', port: 'latnetDim' });
    expect(d!.message).toMatch(/no param "latnetDim"; it is ignored and the default is used \(did you mean "latentDim"\?\)/);
  });

  it('nested params (an optimiser) are checked too', () => {
    const v = validateGraph(
      edit('vae-moons', (g) => {
        const elbo = g.nodes.find((n) => n.id === 'elbo');
        elbo.params.optimizer = { ...(elbo.params.optimizer ?? {}), lrr: 0.01 };
      }),
      registry,
    );
    const d = v.diagnostics.find((x) => x.code === 'unknown-param');
    expect(d).toMatchObject({ nodeId: 'elbo', port: 'optimizer.lrr' });
    expect(d!.message).toMatch(/did you mean "optimizer\.lr"\?/);
  });

  it('a parsed document carries its unknown params to validation (the CLI and studio path)', async () => {
    const { parseDocument } = await import('../document/parseDocument');
    const doc = structuredClone(load('vae-moons')) as any;
    doc.nodes.find((n: any) => n.id === 'encoder').params.latnetDim = 3;
    const r = parseDocument(JSON.stringify(doc), registry);
    if (!r.ok) throw new Error('expected a document');
    const v = validateGraph(r.doc, registry, { parsed: true });
    expect(v.diagnostics).toContainEqual(expect.objectContaining({ code: 'unknown-param', nodeId: 'encoder', port: 'latnetDim', severity: 'warning' }));
  });
});
