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
