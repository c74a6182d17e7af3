/**
 * CSV import of numeric columns.
 *
 * Format (RFC 4180, comma-separated):
 * - records end with \n, \r\n or \r; blank lines (only whitespace) are skipped anywhere,
 *   so trailing blank lines are fine; a leading UTF-8 byte-order mark is ignored;
 * - a field may be quoted ("1.5", "a, b", "say ""hi"""), quotes doubled inside; spaces around
 *   fields are trimmed;
 * - the header row is optional: the first record is a header when any of its cells is a
 *   non-empty, non-numeric token (NaN/Infinity/empty cells do not count as header text, so
 *   a first data row with a bad cell is reported as a bad cell, not taken as a header);
 *   without a header the columns are named col1, col2, ...; an empty header name (the index
 *   column pandas writes) becomes col<j>;
 * - every record must have as many cells as the first one; a trailing comma makes an extra
 *   empty cell and is an error;
 * - selected cells must be finite decimal numbers (1, -2.5, .5, 1e-3, +4.) that fit in a
 *   float32; NaN, Infinity, hex and empty cells are rejected.
 *
 * Errors are CsvError with 1-based `line` (physical line in the text) and `column` (cell index)
 * where they apply, and messages such as `line 7, column 3: "abc" is not a number`.
 *
 * readCsvFile reads a CSV dataset from disk: a regular file only (a FIFO or a device is
 * refused at once instead of read for ever), of at most MAX_CSV_BYTES.
 */
import { FileReadError, readRegularFileSync } from '../fs/readRegularFile';

/** the most bytes a CSV dataset may have (its text is one string in memory) */
export const MAX_CSV_BYTES = 256 * 1024 * 1024;

export class CsvError extends Error {
  override readonly name = 'CsvError';
  /** 1-based physical line of the offending record or cell, when there is one */
  readonly line?: number;
  /** 1-based cell index within the record, when the error concerns one cell */
  readonly column?: number;

  constructor(message: string, line?: number, column?: number) {
    const where = line === undefined ? '' : column === undefined ? `line ${line}: ` : `line ${line}, column ${column}: `;
    super(where + message);
    this.line = line;
    this.column = column;
  }
}

export interface CsvOptions {
  /** keep only these columns, in this order (by header name, or col1.. without a header) */
  columns?: string[];
}

export interface CsvTable {
  columns: string[];
  rows: number;
  /** row-major rows x columns.length */
  data: Float32Array;
}

interface CsvRecord {
  /** physical line on which the record starts */
  line: number;
  cells: string[];
  /** physical line on which each cell starts (differs from `line` only after quoted newlines) */
  cellLines: number[];
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE_RE = /^[+-]?(?:nan|inf|infinity)$/i;
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Splits CSV text into records. Calls `onRecord` for each non-blank record; stops early when it
 * returns false.
 */
function scanRecords(text: string, onRecord: (r: CsvRecord) => boolean): void {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const len = text.length;
  let line = 1;
  while (pos < len) {
    const recLine = line;
    const cells: string[] = [];
    const cellLines: number[] = [];
    let endOfRecord = false;
    while (!endOfRecord) {
      // one cell
      const cellLine = line;
      const cellIndex = cells.length + 1;
      while (pos < len && (text[pos] === ' ' || text[pos] === '\t')) pos++;
      let value: string;
      if (text[pos] === '"') {
        pos++;
        let buf = '';
        for (;;) {
          if (pos >= len) throw new CsvError('unterminated quoted field', cellLine, cellIndex);
          const ch = text[pos];
          if (ch === '"') {
            if (text[pos + 1] === '"') {
              buf += '"';
              pos += 2;
              continue;
            }
            pos++;
            break;
          }
          if (ch === '\n' || (ch === '\r' && text[pos + 1] !== '\n')) line++;
          buf += ch;
          pos++;
        }
        while (pos < len && (text[pos] === ' ' || text[pos] === '\t')) pos++;
        if (pos < len && text[pos] !== ',' && text[pos] !== '\n' && text[pos] !== '\r') {
          throw new CsvError(`unexpected character ${JSON.stringify(text[pos])} after a closing quote`, line, cellIndex);
        }
        value = buf;
      } else {
        const start = pos;
        while (pos < len) {
          const ch = text[pos];
          if (ch === ',' || ch === '\n' || ch === '\r') break;
          if (ch === '"') throw new CsvError('quote inside an unquoted field', line, cellIndex);
          pos++;
        }
        value = text.slice(start, pos).trim();
      }
      cells.push(value);
      cellLines.push(cellLine);
      // separator or end of record
      if (pos >= len) {
        endOfRecord = true;
      } else if (text[pos] === ',') {
        pos++;
        // a comma at the very end of the text still opens an (empty) cell: loop again
        if (pos >= len) {
          cells.push('');
          cellLines.push(line);
          endOfRecord = true;
        }
      } else {
        // \n, \r\n or \r
        if (text[pos] === '\r' && text[pos + 1] === '\n') pos++;
        pos++;
        line++;
        endOfRecord = true;
      }
    }
    // a record of one empty cell is a blank line (a lone "" counts as blank too)
    const blank = cells.length === 1 && cells[0] === '';
    if (!blank && !onRecord({ line: recLine, cells, cellLines })) return;
  }
}

function isNumberToken(s: string): boolean {
  return NUMBER_RE.test(s);
}

/** Header detection: a cell that is clearly text (not a number, not NaN/Inf, not empty). */
function isTextCell(s: string): boolean {
  return s !== '' && !isNumberToken(s) && !NON_FINITE_RE.test(s);
}

/** Parses one selected cell, throwing a located CsvError if it is not a finite float32. */
function parseCell(s: string, line: number, column: number, nCols: number): number {
  if (s === '') {
    throw new CsvError(
      column === nCols ? 'empty cell (trailing comma?)' : 'empty cell',
      line,
      column,
    );
  }
  if (NON_FINITE_RE.test(s)) throw new CsvError(`${JSON.stringify(s)} is not a finite number`, line, column);
  if (!isNumberToken(s)) throw new CsvError(`${JSON.stringify(s)} is not a number`, line, column);
  const x = Number(s);
  if (!Number.isFinite(x) || Math.abs(x) > FLOAT32_MAX) {
    throw new CsvError(`${JSON.stringify(s)} is out of the float32 range`, line, column);
  }
  return x;
}

function headerNames(cells: string[]): string[] {
  return cells.map((c, j) => (c === '' ? `col${j + 1}` : c));
}

/**
 * The column names and header flag, from the first non-blank record only (cheap: for
 * previewing a file or knowing its dimension without parsing it all).
 */
export function readCsvHead(text: string): { columns: string[]; hasHeader: boolean } {
  let first: CsvRecord | undefined;
  scanRecords(text, (r) => {
    first = r;
    return false;
  });
  if (!first) throw new CsvError('empty file');
  const hasHeader = first.cells.some(isTextCell);
  const columns = hasHeader ? headerNames(first.cells) : first.cells.map((_, j) => `col${j + 1}`);
  return { columns, hasHeader };
}

/** Parses CSV text into a float32 table of the selected (default: all) columns. */
export function parseCsv(text: string, opts: CsvOptions = {}): CsvTable {
  const records: CsvRecord[] = [];
  scanRecords(text, (r) => {
    records.push(r);
    return true;
  });
  if (records.length === 0) throw new CsvError('empty file');

  const first = records[0];
  const nCols = first.cells.length;
  const hasHeader = first.cells.some(isTextCell);
  let allNames: string[];
  if (hasHeader) {
    allNames = headerNames(first.cells);
    const seen = new Map<string, number>();
    allNames.forEach((name, j) => {
      const prev = seen.get(name);
      if (prev !== undefined) {
        throw new CsvError(`duplicate column name ${JSON.stringify(name)} (also column ${prev + 1})`, first.line, j + 1);
      }
      seen.set(name, j);
    });
    if (first.cells[nCols - 1] === '' && nCols > 1) {
      throw new CsvError('empty column name (trailing comma?)', first.line, nCols);
    }
  } else {
    allNames = first.cells.map((_, j) => `col${j + 1}`);
  }

  let selected: number[];
  if (opts.columns) {
    if (opts.columns.length === 0) throw new CsvError('no columns selected');
    selected = opts.columns.map((name) => {
      const j = allNames.indexOf(name);
      if (j < 0) throw new CsvError(`unknown column ${JSON.stringify(name)} (columns: ${allNames.join(', ')})`);
      return j;
    });
  } else {
    selected = allNames.map((_, j) => j);
  }

  const dataRecords = hasHeader ? records.slice(1) : records;
  if (dataRecords.length === 0) throw new CsvError('no numeric rows (only a header)');
  const dim = selected.length;
  const data = new Float32Array(dataRecords.length * dim);
  for (let r = 0; r < dataRecords.length; r++) {
    const rec = dataRecords[r];
    if (rec.cells.length !== nCols) {
      const hint = rec.cells.length === nCols + 1 && rec.cells[nCols] === '' ? ' (trailing comma?)' : '';
      throw new CsvError(`expected ${nCols} columns, found ${rec.cells.length}${hint}`, rec.line);
    }
    for (let c = 0; c < dim; c++) {
      const j = selected[c];
      data[r * dim + c] = parseCell(rec.cells[j], rec.cellLines[j], j + 1, nCols);
    }
  }
  return { columns: selected.map((j) => allNames[j]), rows: dataRecords.length, data };
}

/** why a CSV file could not be read: the path and the reason, e.g. `/x.csv: it is a FIFO (named pipe), not a regular file` */
export class CsvFileError extends Error {
  override readonly name = 'CsvFileError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot read the CSV file ${path}: ${reason}`);
  }
}

/**
 * Reads and parses a CSV file (see the file comment): CsvFileError when it cannot be
 * read, CsvError (line, column) when its content is wrong.
 */
export function readCsvFile(path: string, opts: CsvOptions & { maxBytes?: number } = {}): CsvTable {
  let text: string;
  try {
    text = readRegularFileSync(path, { maxBytes: opts.maxBytes ?? MAX_CSV_BYTES, what: 'a CSV dataset' }).toString('utf8');
  } catch (e) {
    if (e instanceof FileReadError) {
      const reason = e.code === 'ENOENT' ? 'the file does not exist' : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.reason;
      throw new CsvFileError(path, reason);
    }
    throw e;
  }
  return parseCsv(text, opts);
}
