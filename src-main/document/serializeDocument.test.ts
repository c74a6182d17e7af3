import { describe, expect, it } from 'vitest';
import { fakeRegistry, validDocJson } from './__fixtures__/fakeRegistry';
import { parseDocument } from './parseDocument';
import type { GraphDocument } from './schema';
import { serializeDocument } from './serializeDocument';

function parsed(edit: (d: Record<string, any>) => void = () => {}): GraphDocument {
  const d = validDocJson() as Record<string, any>;
  edit(d);
  const r = parseDocument(JSON.stringify(d), fakeRegistry);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.doc;
}

describe('serializeDocument', () => {
  it('round-trips: parse(serialize(doc)) deep-equals doc', () => {
    const doc = parsed((d) => {
      d.meta = { title: 'T', description: 'd', extra: { nested: [1, 2] } };
      d.nodes[0].ui = { x: 1, y: 2, collapsed: false, group: 'g', width: 120 };
    });
    const r = parseDocument(serializeDocument(doc), fakeRegistry);
    expect(r.ok).toBe(true);
    expect(r.ok && r.doc).toEqual(doc);
    expect(r.ok && r.migrated).toEqual([]);
  });

  it('is stable: serialising again gives the same text', () => {
    const text = serializeDocument(parsed());
    const again = parseDocument(text, fakeRegistry);
    expect(again.ok && serializeDocument(again.doc)).toBe(text);
  });

  it('writes keys in a fixed order whatever the order in memory', () => {
    const doc = parsed();
    const shuffled = {
      edges: doc.edges,
      nodes: doc.nodes.map((n) => ({
        ...(n.ui ? { ui: { y: n.ui.y, x: n.ui.x } } : {}),
        params: n.params,
        version: n.version,
        type: n.type,
        id: n.id,
      })),
      meta: { dataset: 'swissroll', title: 'Tiny regression' },
      version: 1,
      format: 'genloom',
    } as unknown as GraphDocument;
    const text = serializeDocument(shuffled);
    expect(Object.keys(JSON.parse(text))).toEqual(['format', 'version', 'meta', 'nodes', 'edges']);
    expect(Object.keys(JSON.parse(text).nodes[0])).toEqual(['id', 'type', 'version', 'params', 'ui']);
    expect(Object.keys(JSON.parse(text).meta)).toEqual(['title', 'dataset']);
    expect(text).toContain('"ui": { "x": 0, "y": 0 }');
  });

  it('is pretty: 2 spaces, one edge per line, one param per line, trailing newline', () => {
    const text = serializeDocument(parsed());
    expect(text).toBe(`{
  "format": "genloom",
  "version": 1,
  "meta": {
    "title": "Tiny regression",
    "dataset": "swissroll"
  },
  "nodes": [
    {
      "id": "data",
      "type": "toy.data",
      "version": 1,
      "params": {
        "dataset": "moons",
        "n": 4096
      },
      "ui": { "x": 0, "y": 0 }
    },
    {
      "id": "net",
      "type": "toy.dense",
      "version": 3,
      "params": {
        "hidden": 32,
        "activation": "relu",
        "layers": [64, 64]
      },
      "ui": { "x": 200, "y": 0, "collapsed": true }
    },
    {
      "id": "loss",
      "type": "loss.mse",
      "version": 2,
      "params": {
        "weight": 1
      }
    }
  ],
  "edges": [
    { "from": ["data", "x"], "to": ["net", "x"] },
    { "from": ["net", "out"], "to": ["loss", "pred"] },
    { "from": ["data", "x"], "to": ["loss", "target"] }
  ]
}
`);
  });

  it('writes empty graphs compactly and long arrays one item per line', () => {
    const empty = serializeDocument({ format: 'genloom', version: 1, meta: {}, nodes: [], edges: [] });
    expect(empty).toBe('{\n  "format": "genloom",\n  "version": 1,\n  "meta": {},\n  "nodes": [],\n  "edges": []\n}\n');
    const doc = parsed((d) => (d.nodes[1].params.layers = Array.from({ length: 30 }, () => 512)));
    const text = serializeDocument(doc);
    expect(text).toContain('        "layers": [\n          512,\n');
    const r = parseDocument(text, fakeRegistry);
    expect(r.ok && r.doc).toEqual(doc);
  });

  it('drops undefined optional fields and follows JSON semantics', () => {
    const doc = parsed();
    const withUndefined = { ...doc, nodes: doc.nodes.map((n) => ({ ...n, ui: undefined })) } as GraphDocument;
    expect(serializeDocument(withUndefined)).not.toContain('"ui"');
  });

  it('throws on values JSON cannot carry', () => {
    const doc = parsed();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    doc.nodes[0]!.params = { cyclic };
    expect(() => serializeDocument(doc)).toThrow();
  });
});
