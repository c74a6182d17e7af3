import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fakeRegistry, validDocJson } from './__fixtures__/fakeRegistry';
import type { DocumentError } from './errors';
import { createNodeTypeLookup } from './lookup';
import { DOCUMENT_MIGRATIONS } from './migrations';
import { parseDocument, parseDocumentValue, type ParseDocumentResult } from './parseDocument';
import { unknownParamsOf } from '../graph/unknownParams';
import { CURRENT_FORMAT_VERSION } from './schema';

type Doc = Record<string, any>;

/** validDocJson() with `edit` applied, as pretty JSON text */
function docText(edit: (d: Doc) => void = () => {}): string {
  const d = validDocJson() as Doc;
  edit(d);
  return JSON.stringify(d, null, 2);
}

function errorsOf(r: ParseDocumentResult): DocumentError[] {
  if (r.ok) throw new Error(`expected errors, got a document: ${JSON.stringify(r.doc)}`);
  return r.errors;
}

function only(r: ParseDocumentResult): DocumentError {
  const errors = errorsOf(r);
  expect(errors).toHaveLength(1);
  return errors[0]!;
}

const parse = (text: string) => parseDocument(text, fakeRegistry);

describe('parseDocument: valid documents', () => {
  it('parses a current document, fills param defaults, keeps ui and meta', () => {
    const r = parse(docText());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.migrated).toEqual([]);
    expect(r.doc.version).toBe(CURRENT_FORMAT_VERSION);
    expect(r.doc.meta).toEqual({ title: 'Tiny regression', dataset: 'swissroll' });
    expect(r.doc.nodes.map((n) => n.id)).toEqual(['data', 'net', 'loss']);
    expect(r.doc.nodes[0]!.params).toEqual({ dataset: 'moons', n: 4096 });
    expect(r.doc.nodes[1]!.params).toEqual({ hidden: 32, activation: 'relu', layers: [64, 64] });
    expect(r.doc.nodes[2]!.params).toEqual({ weight: 1 });
    expect(r.doc.nodes[1]!.ui).toEqual({ x: 200, y: 0, collapsed: true });
    expect(r.doc.nodes[2]!.ui).toBeUndefined();
    expect(r.doc.edges[1]).toEqual({ from: ['net', 'out'], to: ['loss', 'pred'] });
  });

  it('defaults a missing meta to {} and keeps unknown meta fields (passthrough)', () => {
    const r = parse(
      docText((d) => {
        delete d.meta;
      }),
    );
    expect(r.ok && r.doc.meta).toEqual({});
    const r2 = parse(docText((d) => (d.meta = { title: 't', author: 'ada', tags: ['x'] })));
    expect(r2.ok && r2.doc.meta).toEqual({ title: 't', author: 'ada', tags: ['x'] });
  });

  it('accepts a byte order mark, CRLF line ends, dotted/dashed ids and an empty graph', () => {
    expect(parse(`\uFEFF${docText()}`).ok).toBe(true);
    expect(parse(docText().replace(/\n/g, '\r\n')).ok).toBe(true);
    const r = parse(
      docText((d) => {
        d.nodes[0].id = 'enc.data-1_A';
        d.edges[0].from = ['enc.data-1_A', 'x'];
        d.edges[2].from = ['enc.data-1_A', 'x'];
      }),
    );
    expect(r.ok).toBe(true);
    expect(parse('{"format":"genloom","version":1,"nodes":[],"edges":[]}').ok).toBe(true);
  });

  it('does not read ui beyond its shape: extra ui fields are kept', () => {
    const r = parse(docText((d) => (d.nodes[0].ui = { x: 1.5, y: -2, group: 'enc', color: '#f00' })));
    expect(r.ok && r.doc.nodes[0]!.ui).toEqual({ x: 1.5, y: -2, group: 'enc', color: '#f00' });
  });

  it('records the file name on errors', () => {
    const r = parseDocument('nope', fakeRegistry, { fileName: 'graph.json' });
    expect(errorsOf(r)[0]!.file).toBe('graph.json');
  });
});

describe('parseDocument: bad-json', () => {
  it('gives the line and column of a trailing comma', () => {
    const text = '{\n  "format": "genloom",\n  "version": 1,\n  "nodes": [\n    { "id": "a", }\n  ]\n}';
    const e = only(parse(text));
    expect(e).toMatchObject({ code: 'bad-json', path: '', line: 5, column: 18 });
    expect(e.message).toMatch(/^invalid JSON at line 5, column 18: /);
    expect(e.message).toContain('trailing comma');
  });

  it('gives the position of a missing comma on a later line', () => {
    const text = '{\n  "format": "genloom",\n  "version": 1\n  "nodes": []\n}';
    const e = only(parse(text));
    expect(e).toMatchObject({ code: 'bad-json', line: 4, column: 3 });
    expect(e.message).toContain(`expected ',' or '}' after a property value`);
  });

  it('reports truncated files and non-JSON text', () => {
    expect(only(parse('{"format": "genloom"'))).toMatchObject({ code: 'bad-json', line: 1, column: 21 });
    expect(only(parse('graph'))).toMatchObject({ code: 'bad-json', line: 1, column: 1 });
    expect(only(parse(''))).toMatchObject({ code: 'bad-json', line: 1, column: 1 });
    expect(only(parse('{} // saved')).message).toContain('comments are not allowed');
  });

  it('never throws, even for non-string input', () => {
    expect(only(parseDocument(undefined as unknown as string, fakeRegistry)).code).toBe('bad-json');
  });
});

describe('parseDocument: not-genloom and versions', () => {
  it('refuses JSON that is not a Genloom document', () => {
    expect(only(parse('[1, 2]'))).toMatchObject({ code: 'not-genloom', path: '' });
    expect(only(parse('"hello"')).code).toBe('not-genloom');
    expect(only(parse('{"version": 1, "nodes": [], "edges": []}'))).toMatchObject({ code: 'not-genloom', path: 'format' });
    const e = only(parse('{"format": "onnx", "version": 1}'));
    expect(e).toMatchObject({ code: 'not-genloom', path: 'format' });
    expect(e.message).toContain('"onnx"');
  });

  it('refuses a newer format version with a clear message', () => {
    const e = only(parse(docText((d) => (d.version = 3))));
    expect(e).toEqual({
      code: 'newer-version',
      path: 'version',
      message:
        'this file was written by a newer Genloom (format version 3); this version reads up to 1. Update Genloom to open it.',
    });
  });

  it('reports a missing or malformed version as a schema error', () => {
    expect(only(parse(docText((d) => delete d.version)))).toMatchObject({ code: 'schema', path: 'version' });
    expect(only(parse(docText((d) => (d.version = '1'))))).toMatchObject({ code: 'schema', path: 'version' });
    expect(only(parse(docText((d) => (d.version = -1))))).toMatchObject({ code: 'schema', path: 'version' });
  });
});

describe('parseDocument: schema', () => {
  it('gives one error per problem with a rendered path', () => {
    const errors = errorsOf(
      parse(
        docText((d) => {
          d.meta.title = 3;
          d.nodes[0].version = 1.5;
          d.nodes[1].id = 'a b';
          d.nodes[2].params = [];
          d.edges[0].to = ['net'];
          d.edges[1].from[1] = '';
        }),
      ),
    );
    expect(errors.every((e) => e.code === 'schema')).toBe(true);
    const byPath = Object.fromEntries(errors.map((e) => [e.path, e.message]));
    expect(byPath).toEqual({
      'meta.title': 'expected a string, received 3',
      'nodes[0].version': 'expected an integer, received 1.5',
      'nodes[1].id': 'a node id must be a non-empty string of letters, digits, "_", "." and "-", received "a b"',
      'nodes[2].params': 'expected an object, received an empty array',
      'edges[0].to': 'expected [nodeId, portName], received an array of 1',
      'edges[1].from[1]': 'must not be empty',
    });
  });

  it('reports missing fields and misspelt keys, with a suggestion', () => {
    const errors = errorsOf(
      parse(
        docText((d) => {
          d.nodes[1].parmas = d.nodes[1].params;
          delete d.nodes[1].params;
          d.egdes = d.edges;
          delete d.edges;
        }),
      ),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        { code: 'schema', path: 'nodes[1].params', message: 'expected an object, but it is missing' },
        { code: 'schema', path: 'nodes[1]', message: 'unknown key "parmas"; did you mean "params"?' },
        { code: 'schema', path: 'edges', message: 'expected an array, but it is missing' },
        { code: 'schema', path: '', message: 'unknown key "egdes"; did you mean "edges"?' },
      ]),
    );
  });

  it('reports wrong container types', () => {
    expect(only(parse(docText((d) => (d.nodes = {}))))).toEqual({
      code: 'schema',
      path: 'nodes',
      message: 'expected an array, received an object',
    });
    expect(only(parse(docText((d) => (d.nodes[0].ui = { x: '10', y: 0 }))))).toEqual({
      code: 'schema',
      path: 'nodes[0].ui.x',
      message: 'expected a number, received "10"',
    });
  });
});

describe('parseDocument: graph checks', () => {
  it('duplicate-id points at the second node', () => {
    const errors = errorsOf(parse(docText((d) => (d.nodes[2].id = 'data'))));
    expect(errors[0]).toEqual({
      code: 'duplicate-id',
      path: 'nodes[2].id',
      nodeId: 'data',
      message: 'duplicate node id "data" (already used by nodes[0])',
    });
  });

  it('dangling-edge points at the endpoint and suggests a close id', () => {
    const e = only(parse(docText((d) => (d.edges[1].to = ['los', 'pred']))));
    expect(e).toEqual({
      code: 'dangling-edge',
      path: 'edges[1].to[0]',
      message: 'edge to "los.pred": there is no node with id "los"; did you mean "loss"?',
    });
    expect(only(parse(docText((d) => (d.edges[0].from = ['ghost', 'x']))))).toMatchObject({
      code: 'dangling-edge',
      path: 'edges[0].from[0]',
    });
  });

  it('unknown-type suggests the closest registered type', () => {
    const e = only(parse(docText((d) => (d.nodes[1].type = 'toy.dence'))));
    expect(e).toEqual({
      code: 'unknown-type',
      path: 'nodes[1].type',
      nodeId: 'net',
      message: 'unknown node type "toy.dence"; did you mean "toy.dense"?',
    });
    expect(only(parse(docText((d) => (d.nodes[2].type = 'mse')))).message).toContain('did you mean "loss.mse"?');
    // nothing close: list the (few) known types instead
    expect(only(parse(docText((d) => (d.nodes[2].type = 'vae.encoder')))).message).toBe(
      'unknown node type "vae.encoder"; known types: loss.mse, toy.data, toy.dense',
    );
  });

  it('unknown-port lists the ports the node has', () => {
    const e = only(parse(docText((d) => (d.edges[1].from = ['net', 'ot']))));
    expect(e).toEqual({
      code: 'unknown-port',
      path: 'edges[1].from[1]',
      nodeId: 'net',
      message: 'node "net" (toy.dense) has no output port "ot"; did you mean "out"? Its outputs are: out',
    });
    const e2 = only(parse(docText((d) => (d.edges[2].to = ['loss', 'truth']))));
    expect(e2).toMatchObject({ code: 'unknown-port', path: 'edges[2].to[1]' });
    expect(e2.message).toBe('node "loss" (loss.mse) has no input port "truth"; its inputs are: pred, target');
  });

  it('unknown-port says when an edge runs from an input or into an output', () => {
    const e = only(parse(docText((d) => (d.edges[0].to = ['net', 'out']))));
    expect(e.code).toBe('unknown-port');
    expect(e.message).toContain('"out" is an output of node "net" (toy.dense), not an input');
    expect(e.message).toContain('Its inputs are: x');
  });

  it('does not report ports of nodes whose type is unknown', () => {
    const errors = errorsOf(parse(docText((d) => (d.nodes[1].type = 'nope.nope'))));
    expect(errors.map((e) => e.code)).toEqual(['unknown-type']);
  });

  it('collects all graph errors, not just the first', () => {
    const errors = errorsOf(
      parse(
        docText((d) => {
          d.nodes[0].type = 'toy.dat';
          d.nodes[1].params.hidden = 'abc';
          d.edges[1].to = ['nowhere', 'pred'];
        }),
      ),
    );
    expect(errors.map((e) => e.code)).toEqual(['unknown-type', 'bad-params', 'dangling-edge']);
  });
});

describe('parseDocument: node versions and params', () => {
  it('newer-node-version is refused', () => {
    const e = only(parse(docText((d) => (d.nodes[1].version = 5))));
    expect(e).toMatchObject({ code: 'newer-node-version', path: 'nodes[1].version', nodeId: 'net' });
    expect(e.message).toContain('version 5');
    expect(e.message).toContain('up to version 3');
  });

  it('bad-params gives the path into params', () => {
    const e = only(parse(docText((d) => (d.nodes[1].params.hidden = 'abc'))));
    expect(e).toEqual({
      code: 'bad-params',
      path: 'nodes[1].params.hidden',
      nodeId: 'net',
      message: 'expected a number, received "abc"',
    });
    const e2 = only(parse(docText((d) => (d.nodes[1].params.layers = [64, -1]))));
    expect(e2).toMatchObject({ code: 'bad-params', path: 'nodes[1].params.layers[1]', message: 'must be > 0, received -1' });
    const e3 = only(parse(docText((d) => (d.nodes[0].params.dataset = 'spiral'))));
    expect(e3.message).toBe('expected one of "swissroll", "moons", "rings", received "spiral"');
  });

  it('migrates node params one version at a time and bumps the version', () => {
    const r = parse(
      docText((d) => {
        d.nodes[1].version = 1;
        d.nodes[1].params = { units: 16, act: 'tanh' };
      }),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.doc.nodes[1]).toMatchObject({ version: 3, params: { hidden: 16, activation: 'tanh', layers: [64, 64] } });
    expect(r.migrated).toEqual(['nodes[1] "net" (toy.dense): params migrated from version 1 to 3']);
  });

  it('calls migrate once per step with the version it upgrades from', () => {
    const calls: number[] = [];
    const registry = createNodeTypeLookup([
      {
        type: 'x.counter',
        version: 4,
        params: z.object({ steps: z.array(z.number()).default([]) }),
        migrate: (p, from) => {
          calls.push(from);
          return { steps: [...((p.steps as number[] | undefined) ?? []), from] };
        },
        inputs: {},
        outputs: {},
      },
    ]);
    const r = parseDocument(
      JSON.stringify({ format: 'genloom', version: 1, nodes: [{ id: 'c', type: 'x.counter', version: 1, params: {} }], edges: [] }),
      registry,
    );
    expect(calls).toEqual([1, 2, 3]);
    expect(r.ok && r.doc.nodes[0]).toEqual({ id: 'c', type: 'x.counter', version: 4, params: { steps: [1, 2, 3] } });
  });

  it('bad-params after migration says so', () => {
    const e = only(
      parse(
        docText((d) => {
          d.nodes[1].version = 2;
          d.nodes[1].params = { act: 'elu' };
        }),
      ),
    );
    expect(e).toMatchObject({ code: 'bad-params', path: 'nodes[1].params.activation' });
    expect(e.message).toContain('(after migrating from version 2)');
  });

  it('migration-failed when a node migration throws or is missing', () => {
    const e = only(
      parse(
        docText((d) => {
          d.nodes[1].version = 2;
          d.nodes[1].params = { act: 'sigmoid' };
        }),
      ),
    );
    expect(e).toMatchObject({ code: 'migration-failed', path: 'nodes[1].params', nodeId: 'net' });
    expect(e.message).toContain('from version 2 to 3');
    expect(e.message).toContain('activation "sigmoid" is no longer supported');

    const e2 = only(parse(docText((d) => (d.nodes[2].version = 1))));
    expect(e2).toMatchObject({ code: 'migration-failed', path: 'nodes[2].version', nodeId: 'loss' });
    expect(e2.message).toContain('no migration');
  });

  it('a params schema that throws becomes an error, not a crash', () => {
    const registry = createNodeTypeLookup([
      {
        type: 'x.bad',
        version: 1,
        params: z.object({}).transform(() => {
          throw new Error('boom');
        }),
        inputs: {},
        outputs: {},
      },
    ]);
    const r = parseDocument(
      JSON.stringify({ format: 'genloom', version: 1, nodes: [{ id: 'b', type: 'x.bad', version: 1, params: {} }], edges: [] }),
      registry,
    );
    expect(only(r)).toMatchObject({ code: 'bad-params', path: 'nodes[0].params' });
  });

  it('never throws when the registry itself throws', () => {
    const registry = {
      get: () => {
        throw new Error('registry broken');
      },
      types: () => [],
    };
    const e = only(parseDocument(docText(), registry));
    expect(e.code).toBe('internal');
    expect(e.message).toContain('registry broken');
  });

  it('does not mutate what migrate receives from the input', () => {
    const registry = createNodeTypeLookup([
      {
        type: 'x.m',
        version: 2,
        params: z.object({ a: z.array(z.number()) }),
        migrate: (p) => {
          (p.a as number[]).push(2);
          return p;
        },
        inputs: {},
        outputs: {},
      },
    ]);
    const r = parseDocument(
      JSON.stringify({ format: 'genloom', version: 1, nodes: [{ id: 'm', type: 'x.m', version: 1, params: { a: [1] } }], edges: [] }),
      registry,
    );
    expect(r.ok && r.doc.nodes[0]!.params).toEqual({ a: [1, 2] });
  });
});

describe('parseDocument: legacy format version 0', () => {
  const legacy = () => ({
    format: 'genloom',
    version: 0,
    nodes: (validDocJson() as Doc).nodes,
    links: [
      { source: 'data.x', target: 'net.x' },
      { source: 'net.out', target: 'loss.pred' },
      { source: 'data.x', target: 'loss.target' },
    ],
  });

  it('migrates links with dotted strings to edges', () => {
    const r = parse(JSON.stringify(legacy()));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.doc.version).toBe(1);
    expect(r.doc.edges).toEqual([
      { from: ['data', 'x'], to: ['net', 'x'] },
      { from: ['net', 'out'], to: ['loss', 'pred'] },
      { from: ['data', 'x'], to: ['loss', 'target'] },
    ]);
    expect(r.doc.meta).toEqual({});
    expect(r.migrated).toHaveLength(1);
    expect(r.migrated[0]).toContain('format version 0 -> 1');
    // the result is the same document as the version-1 original, minus meta
    const current = parse(docText((d) => (d.meta = {})));
    expect(current.ok && current.doc).toEqual(r.doc);
  });

  it('splits at the last dot, since node ids may contain dots', () => {
    const doc = legacy();
    doc.nodes[0].id = 'toy.data.1';
    doc.links = [
      { source: 'toy.data.1.x', target: 'net.x' },
      { source: 'net.out', target: 'loss.pred' },
      { source: 'toy.data.1.x', target: 'loss.target' },
    ];
    const r = parse(JSON.stringify(doc));
    expect(r.ok && r.doc.edges[0]).toEqual({ from: ['toy.data.1', 'x'], to: ['net', 'x'] });
  });

  it('migrated documents still get graph checks, node migrations included', () => {
    const doc = legacy();
    doc.nodes[1].version = 1;
    doc.nodes[1].params = { units: 8 };
    const r = parse(JSON.stringify(doc));
    expect(r.ok && r.migrated).toEqual([
      expect.stringContaining('document: format version 0 -> 1'),
      'nodes[1] "net" (toy.dense): params migrated from version 1 to 3',
    ]);
    doc.links[1]!.target = 'loss.prd';
    expect(only(parse(JSON.stringify(doc)))).toMatchObject({ code: 'unknown-port', path: 'edges[1].to[1]' });
  });

  it('migration-failed names the broken link', () => {
    const doc = legacy();
    doc.links[1]!.target = 'lossPred';
    const e = only(parse(JSON.stringify(doc)));
    expect(e).toEqual({
      code: 'migration-failed',
      path: 'links[1].target',
      message: 'cannot migrate from format version 0 to 1: expected a "node.port" string, received "lossPred"',
    });
    const e2 = only(parse(JSON.stringify({ ...legacy(), links: 'data.x -> net.x' })));
    expect(e2).toMatchObject({ code: 'migration-failed', path: 'links' });
  });

  it('every format version below the current one has a migration', () => {
    for (let v = 0; v < CURRENT_FORMAT_VERSION; v++) expect(typeof DOCUMENT_MIGRATIONS[v]).toBe('function');
  });
});

describe('parseDocument: limits on depth and size', () => {
  const deepText = (depth: number) => docText((d) => (d.meta.notes = '@@')).replace('"@@"', `${'['.repeat(depth)}${']'.repeat(depth)}`);

  it('refuses a document nested too deeply, with the line and column, before anything recursive runs', () => {
    const e = only(parse(deepText(5000)));
    expect(e.code).toBe('too-deep');
    expect(e.message).toMatch(/nested more than 64 levels deep/);
    expect(e.line).toBeGreaterThan(1);
    expect(e.column).toBeGreaterThan(0);
    // a decoded value (an IPC message) the same way, with the path where it goes too deep
    let deep: unknown = [];
    for (let i = 0; i < 5000; i++) deep = [deep];
    const v = validDocJson() as Doc;
    v.meta.notes = deep;
    const ev = errorsOf(parseDocumentValue(v, fakeRegistry));
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ code: 'too-deep' });
    expect(ev[0]!.path).toMatch(/^meta\.notes\[0\]\[0\]/);
    expect(ev[0]!.message).not.toMatch(/call stack/);
  });

  it('a cyclic value (structured clone keeps cycles) is refused as too deep, not a crash', () => {
    const v = validDocJson() as Doc;
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    v.meta.loop = loop;
    expect(only(parseDocumentValue(v, fakeRegistry)).code).toBe('too-deep');
  });

  it('accepts nesting up to the limit, and a limit can be set', () => {
    expect(parse(deepText(60)).ok).toBe(true);
    expect(only(parseDocument(deepText(10), fakeRegistry, { limits: { maxDepth: 8 } })).code).toBe('too-deep');
  });

  it('refuses a document over the size limit, saying how big it is', () => {
    const big = docText((d) => (d.meta.blob = 'x'.repeat(2000)));
    const e = only(parseDocument(big, fakeRegistry, { limits: { maxBytes: 1000 } }));
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(/the document has 2\.\d KiB; a graph document may have at most 1000 bytes/);
    const v = validDocJson() as Doc;
    v.meta.blob = 'x'.repeat(2000);
    expect(only(parseDocumentValue(v, fakeRegistry, { limits: { maxBytes: 1000 } })).code).toBe('too-large');
  });
});

describe('parseDocument: unknown params', () => {
  it('a misspelt param is a warning with a did-you-mean, and the default is used', () => {
    const r = parse(docText((d) => (d.nodes[1].params = { hiden: 32, activation: 'tanh' })));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.doc.nodes[1]!.params).toMatchObject({ hidden: 64, activation: 'tanh' });
    expect(r.warnings).toEqual([
      {
        code: 'unknown-param',
        path: 'nodes[1].params.hiden',
        nodeId: 'net',
        message: 'node "net" (toy.dense) has no param "hiden"; it is ignored (did you mean "hidden"?)',
      },
    ]);
    expect(unknownParamsOf(r.doc.nodes[1]!)).toEqual([{ key: 'hiden', path: 'hiden', suggestion: 'hidden' }]);
    expect(unknownParamsOf(r.doc.nodes[0]!)).toEqual([]);
  });

  it('a key far from every param lists the params instead', () => {
    const r = parse(docText((d) => (d.nodes[2].params = { zzzzzz: 1 })));
    if (!r.ok) throw new Error('expected a document');
    expect(r.warnings[0]!.message).toBe('node "loss" (loss.mse) has no param "zzzzzz"; it is ignored (its params are: weight)');
  });
});
