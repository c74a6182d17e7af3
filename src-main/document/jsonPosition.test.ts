import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError, lineColumn } from './jsonPosition';

/** The position of the error, as "line:column". */
function at(text: string): string | undefined {
  const e = findJsonSyntaxError(text);
  return e && `${e.line}:${e.column}`;
}

describe('findJsonSyntaxError', () => {
  it('accepts exactly what JSON.parse accepts on a corpus', () => {
    const valid = [
      '{}',
      '[]',
      ' 0 ',
      '-0.5e+10',
      '"a\\u00e9\\n\\"b"',
      'true',
      'null',
      '{"a":[1,{"b":false}],"c":"d"}',
      '[[[[[]]]]]',
      '\r\n{ "k" : 1 }\r\n',
    ];
    for (const t of valid) {
      expect(() => JSON.parse(t)).not.toThrow();
      expect(findJsonSyntaxError(t), t).toBeUndefined();
    }
    const invalid = [
      '',
      '{',
      '[1,]',
      '{"a":1,}',
      '{a:1}',
      "{'a':1}",
      '01',
      '1.',
      '-',
      '1e',
      '"abc',
      '"a\nb"',
      '"\\x"',
      '"\\u12"',
      'tru',
      'nul',
      '{"a" 1}',
      '[1 2]',
      '{} {}',
      '// c\n{}',
      'NaN',
      '{"a":1]',
      '[1}',
    ];
    for (const t of invalid) {
      expect(() => JSON.parse(t), t).toThrow();
      expect(findJsonSyntaxError(t), t).toBeDefined();
    }
  });

  it('points at the offending character', () => {
    expect(at('{"a": 1,}')).toBe('1:9');
    expect(at('[1,\n 2,\n]')).toBe('3:1');
    expect(at('{\n  "a": 1\n  "b": 2\n}')).toBe('3:3');
    expect(at('{\n  "a": tru\n}')).toBe('2:11');
    expect(at('{"a": 01}')).toBe('1:7');
    expect(at('[1, 2] x')).toBe('1:8');
    expect(at('\t\t{"x": }')).toBe('1:9');
  });

  it('explains common mistakes', () => {
    expect(findJsonSyntaxError('{a: 1}')!.reason).toContain('double quotes');
    expect(findJsonSyntaxError('[1, 2,]')!.reason).toContain('trailing comma');
    expect(findJsonSyntaxError('/* c */ {}')!.reason).toContain('comments are not allowed');
    expect(findJsonSyntaxError('"abc')!.reason).toBe('unterminated string');
    expect(findJsonSyntaxError('{"a": 1')!.reason).toContain('end of input');
  });

  it('handles very deep nesting without recursion', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(99_999)}`;
    const e = findJsonSyntaxError(deep);
    expect(e).toMatchObject({ line: 1, column: 200_000 });
  });
});

describe('lineColumn', () => {
  it('counts \\n, \\r\\n and lone \\r as line ends', () => {
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('ab\r\ncd', 5)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('ab\rcd', 3)).toEqual({ line: 2, column: 1 });
    expect(lineColumn('abc', 0)).toEqual({ line: 1, column: 1 });
  });
});
