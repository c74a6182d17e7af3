import { describe, expect, it } from 'vitest';
import { readTemplate } from '../document/templates';
import { programToString } from './compile';
import { loadProgram } from './loadProgram';

const gan = () => readTemplate('gan-8gaussians') as { nodes: { id: string; type: string; params?: Record<string, unknown> }[]; edges: unknown[]; version?: number };

describe('loadProgram', () => {
  it('gives the same program from text and from a value', () => {
    const a = loadProgram(JSON.stringify(gan()));
    const b = loadProgram(gan());
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) expect(programToString(a.program)).toBe(programToString(b.program));
  });

  it('fills in defaults once: the program sees the parsed params', () => {
    const doc = gan();
    for (const n of doc.nodes) if (n.id === 'critic') n.params = {};
    const r = loadProgram(doc);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.graph.nodes.get('critic')!.params.hidden).toEqual(expect.any(Array));
  });

  it('reports a malformed document with paths (stage document), never throws', () => {
    const r = loadProgram('{"format": "genloom", "version": 1, "nodes": [');
    expect(r).toMatchObject({ ok: false, stage: 'document' });
    if (!r.ok && r.stage === 'document') expect(r.errors[0]!.code).toBe('bad-json');
    const bad = gan();
    (bad.nodes.find((n) => n.id === 'critic')!.params ??= {}).hidden = 'wide';
    const r2 = loadProgram(bad, { fileName: 'g.json' });
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.message).toMatch(/hidden/);
    for (const v of [null, 3, [], { format: 'other' }, undefined]) expect(loadProgram(v).ok).toBe(false);
  });

  it('reports graph errors as diagnostics naming the node (stage graph)', () => {
    const doc = gan();
    doc.edges = [];
    const r = loadProgram(doc);
    expect(r).toMatchObject({ ok: false, stage: 'graph' });
    if (!r.ok && r.stage === 'graph') expect(r.diagnostics.some((d) => d.code === 'missing-input' && d.nodeId)).toBe(true);
  });

  it('never changes the value it is given', () => {
    const doc = gan();
    for (const n of doc.nodes) if (n.id === 'critic') n.params = {};
    const before = JSON.stringify(doc);
    loadProgram(doc);
    expect(JSON.stringify(doc)).toBe(before);
  });
});
