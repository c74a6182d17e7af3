import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvError, CsvFileError, parseCsv, readCsvFile, readCsvHead } from './csv';

/** Runs fn, expects a CsvError, returns it. */
function csvError(fn: () => unknown): CsvError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CsvError);
    return e as CsvError;
  }
  throw new Error('expected a CsvError');
}

describe('parseCsv: good files', () => {
  it('reads a header and numeric rows', () => {
    const t = parseCsv('x,y\n1,2\n3.5,-4e-1\n');
    expect(t.columns).toEqual(['x', 'y']);
    expect(t.rows).toBe(2);
    expect(Array.from(t.data)).toEqual([1, 2, 3.5, Math.fround(-0.4)]);
    expect(t.data).toBeInstanceOf(Float32Array);
  });

  it('detects a missing header and names columns col1..', () => {
    const t = parseCsv('1,2,3\n4,5,6');
    expect(t.columns).toEqual(['col1', 'col2', 'col3']);
    expect(t.rows).toBe(2);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('handles \\r\\n, lone \\r, a BOM, spaces, blank lines and trailing blank lines', () => {
    const t = parseCsv('\uFEFFa, b\r\n 1 , 2\r\n\r\n3,4\r5,6\r\n\r\n  \n');
    expect(t.columns).toEqual(['a', 'b']);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('handles quoted fields: numbers, commas and doubled quotes in header names, newlines', () => {
    const t = parseCsv('"x, m","say ""hi"""\n"1.5",2\n3,"4"\n');
    expect(t.columns).toEqual(['x, m', 'say "hi"']);
    expect(Array.from(t.data)).toEqual([1.5, 2, 3, 4]);
    const u = parseCsv('"multi\nline",b\n1,2\n');
    expect(u.columns).toEqual(['multi\nline', 'b']);
  });

  it('accepts number forms: +, ., exponent', () => {
    const t = parseCsv('+1,.5,5.,1E3,-0');
    expect(Array.from(t.data)).toEqual([1, 0.5, 5, 1000, -0]);
  });

  it('selects columns by name, in the given order, ignoring text in other columns', () => {
    const t = parseCsv('id,label,x,y\n1,cat,0.5,1\n2,dog,2,3\n', { columns: ['y', 'x'] });
    expect(t.columns).toEqual(['y', 'x']);
    expect(Array.from(t.data)).toEqual([1, 0.5, 3, 2]);
    const u = parseCsv('1,2,3\n4,5,6\n', { columns: ['col3'] });
    expect(Array.from(u.data)).toEqual([3, 6]);
  });

  it('names an empty header cell (the pandas index column) col<j>', () => {
    const t = parseCsv(',a,b\n0,1,2\n1,3,4\n');
    expect(t.columns).toEqual(['col1', 'a', 'b']);
  });

  it('readCsvHead reads only the first record', () => {
    expect(readCsvHead('a,b,c\n1,2,3\n')).toEqual({ columns: ['a', 'b', 'c'], hasHeader: true });
    expect(readCsvHead('\n\n1,2\nbroken,"')).toEqual({ columns: ['col1', 'col2'], hasHeader: false });
    expect(() => readCsvHead('  \n')).toThrow(CsvError);
  });
});

describe('parseCsv: bad files throw CsvError with line and column', () => {
  it('a non-numeric cell', () => {
    const text = 'a,b,c\n1,2,3\n4,5,6\n7,8,9\n\n1,1,1\n2,2,abc\n';
    const e = csvError(() => parseCsv(text));
    expect(e.message).toBe('line 7, column 3: "abc" is not a number');
    expect(e.line).toBe(7);
    expect(e.column).toBe(3);
    expect(e.name).toBe('CsvError');
  });

  it('a ragged row', () => {
    const e = csvError(() => parseCsv('a,b,c\n1,2,3\n4,5,6\n7,8\n'));
    expect(e.message).toBe('line 4: expected 3 columns, found 2');
    expect(e.line).toBe(4);
    expect(e.column).toBeUndefined();
    expect(csvError(() => parseCsv('1,2\n1,2,3\n')).message).toBe('line 2: expected 2 columns, found 3');
  });

  it('a trailing comma', () => {
    expect(csvError(() => parseCsv('a,b\n1,2,\n')).message).toBe('line 2: expected 2 columns, found 3 (trailing comma?)');
    const e = csvError(() => parseCsv('1,2,\n3,4,\n'));
    expect(e.message).toBe('line 1, column 3: empty cell (trailing comma?)');
    expect(e.column).toBe(3);
    expect(csvError(() => parseCsv('a,b,\n1,2,3\n')).message).toBe('line 1, column 3: empty column name (trailing comma?)');
    expect(csvError(() => parseCsv('a,b\n1,2\n3,4,')).line).toBe(3);
  });

  it('an empty cell', () => {
    const e = csvError(() => parseCsv('a,b,c\n1,,3\n'));
    expect(e.message).toBe('line 2, column 2: empty cell');
  });

  it('an empty file, whitespace only, header only', () => {
    expect(csvError(() => parseCsv('')).message).toBe('empty file');
    expect(csvError(() => parseCsv('\n \r\n\n')).message).toBe('empty file');
    const e = csvError(() => parseCsv('a,b\n\n'));
    expect(e.message).toMatch(/no numeric rows/);
  });

  it('NaN and Infinity cells (also in the first row, which is then no header)', () => {
    expect(csvError(() => parseCsv('a,b\n1,NaN\n')).message).toBe('line 2, column 2: "NaN" is not a finite number');
    expect(csvError(() => parseCsv('a,b\n-inf,1\n')).message).toBe('line 2, column 1: "-inf" is not a finite number');
    expect(csvError(() => parseCsv('a,b\nInfinity,1\n')).column).toBe(1);
    expect(csvError(() => parseCsv('1,nan\n2,3\n')).message).toBe('line 1, column 2: "nan" is not a finite number');
  });

  it('numbers out of the float32 range, hex', () => {
    expect(csvError(() => parseCsv('x\n1e39\n')).message).toBe('line 2, column 1: "1e39" is out of the float32 range');
    expect(csvError(() => parseCsv('x\n0x10\n')).message).toBe('line 2, column 1: "0x10" is not a number');
  });

  it('quoting errors', () => {
    expect(csvError(() => parseCsv('a,b\n1,"2\n')).message).toBe('line 2, column 2: unterminated quoted field');
    expect(csvError(() => parseCsv('a,b\n1,"2"x\n')).message).toMatch(/^line 2, column 2: unexpected character "x"/);
    expect(csvError(() => parseCsv('a,b\n1,2"\n')).message).toBe('line 2, column 2: quote inside an unquoted field');
  });

  it('reports the physical line after a quoted newline', () => {
    const e = csvError(() => parseCsv('"a\nb",c\n1,2\n3,x\n'));
    expect(e.line).toBe(4);
  });

  it('header problems and bad column selections', () => {
    expect(csvError(() => parseCsv('a,a\n1,2\n')).message).toBe('line 1, column 2: duplicate column name "a" (also column 1)');
    expect(csvError(() => parseCsv('a,b\n1,2\n', { columns: ['z'] })).message).toBe('unknown column "z" (columns: a, b)');
    expect(csvError(() => parseCsv('a,b\n1,2\n', { columns: [] })).message).toBe('no columns selected');
    // a text cell in a selected column is reported; one in an unselected column is not
    expect(csvError(() => parseCsv('a,b\n1,x\n', { columns: ['b'] })).column).toBe(2);
  });
});

describe('readCsvFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'genloom-csv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a regular file; a missing or oversized one is a CsvFileError naming it', () => {
    const p = join(dir, 'a.csv');
    writeFileSync(p, 'x,y\n1,2\n');
    expect(readCsvFile(p).rows).toBe(1);
    expect(() => readCsvFile(join(dir, 'nope.csv'))).toThrow(new CsvFileError(join(dir, 'nope.csv'), 'the file does not exist'));
    expect(() => readCsvFile(p, { maxBytes: 4 })).toThrow(/a\.csv: it has 8 bytes; a CSV dataset may have at most 4 bytes/);
  });

  it.skipIf(process.platform === 'win32')('refuses a FIFO at once (it would block the thread for ever)', () => {
    const p = join(dir, 'pipe.csv');
    execFileSync('mkfifo', [p]);
    expect(() => readCsvFile(p)).toThrow(/cannot read the CSV file .*pipe\.csv: it is a FIFO \(named pipe\), not a regular file/);
  });
});
