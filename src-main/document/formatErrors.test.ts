import { describe, expect, it } from 'vitest';
import { fakeRegistry, validDocJson } from './__fixtures__/fakeRegistry';
import { formatDocumentErrors } from './formatErrors';
import { parseDocument } from './parseDocument';

describe('formatDocumentErrors', () => {
  it('prints one line per error: file: path: message', () => {
    const d = validDocJson() as Record<string, any>;
    d.nodes[1].params.hidden = 'abc';
    d.edges[1].to = ['los', 'pred'];
    const r = parseDocument(JSON.stringify(d), fakeRegistry);
    if (r.ok) throw new Error('expected errors');
    expect(formatDocumentErrors(r.errors, 'graph.json')).toBe(
      [
        'graph.json: nodes[1].params.hidden: expected a number, received "abc"',
        'graph.json: edges[1].to[0]: edge to "los.pred": there is no node with id "los"; did you mean "loss"?',
      ].join('\n'),
    );
  });

  it('leaves out an empty path and a missing file name; uses the error file otherwise', () => {
    const errs = [{ code: 'bad-json' as const, path: '', message: 'invalid JSON at line 1, column 1: x' }];
    expect(formatDocumentErrors(errs)).toBe('invalid JSON at line 1, column 1: x');
    expect(formatDocumentErrors(errs, 'g.json')).toBe('g.json: invalid JSON at line 1, column 1: x');
    const r = parseDocument('{', fakeRegistry, { fileName: 'models/vae.json' });
    if (r.ok) throw new Error('expected errors');
    expect(formatDocumentErrors(r.errors)).toBe(
      "models/vae.json: invalid JSON at line 1, column 2: unexpected end of input; expected a property name in double quotes",
    );
    expect(formatDocumentErrors([])).toBe('');
  });
});

describe('formatDocumentErrors: long lists', () => {
  it('prints at most 50 errors, then says how many more there are', () => {
    const errs = Array.from({ length: 100_000 }, (_, i) => ({ code: 'schema' as const, path: `nodes[${i}].id`, message: 'must not be empty' }));
    const text = formatDocumentErrors(errs, 'g.json');
    const lines = text.split('\n');
    expect(lines).toHaveLength(51);
    expect(lines[49]).toBe('g.json: nodes[49].id: must not be empty');
    expect(lines[50]).toBe('... and 99950 more errors');
    expect(formatDocumentErrors(errs.slice(0, 51), undefined, { max: 50 }).split('\n').at(-1)).toBe('... and 1 more error');
  });
});
