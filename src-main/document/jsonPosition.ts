/**
 * Where a JSON text is broken, for messages like "line 3, column 14". JSON.parse's own
 * messages differ between engines and often carry no position at all (`Unexpected token
 * 'a', "abc" is not valid JSON`), so this runs a small iterative JSON scanner (no
 * recursion, so deep nesting cannot overflow the stack) and reports the first error.
 */

export interface JsonSyntaxError {
  /** 0-based offset into the text */
  offset: number;
  /** 1-based line and column (column counts UTF-16 code units, as editors do for BMP text) */
  line: number;
  column: number;
  /** what is wrong there, e.g. `expected ',' or '}' after a property value` */
  reason: string;
}

/** 1-based line and column of a 0-based offset. `\r\n`, `\n` and a lone `\r` end a line. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 /* \n */) {
      line++;
      lineStart = i + 1;
    } else if (c === 13 /* \r */ && text.charCodeAt(i + 1) !== 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

function describeAt(text: string, i: number): string {
  if (i >= text.length) return 'end of input';
  const cp = text.codePointAt(i)!;
  const ch = String.fromCodePoint(cp);
  if (cp < 0x20) return `control character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return ch === "'" ? `"'"` : `'${ch}'`;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const HEX = /^[0-9a-fA-F]{4}$/;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

class Fail {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

/**
 * The first syntax error of `text`, or undefined when it is valid JSON.
 * Never throws.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const n = text.length;
  let i = 0;
  const stack: ('object' | 'array')[] = [];

  const ws = () => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const unexpected = (what: string): never => {
    if (text[i] === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      throw new Fail(i, 'comments are not allowed in JSON');
    }
    throw new Fail(i, `unexpected ${describeAt(text, i)}; ${what}`);
  };

  const scanString = () => {
    const start = i;
    i++; // opening quote
    for (;;) {
      if (i >= n) throw new Fail(start, 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22 /* " */) {
        i++;
        return;
      }
      if (c === 0x5c /* \ */) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!HEX.test(text.slice(i + 2, i + 6))) throw new Fail(i, 'invalid \\u escape: expected 4 hex digits');
          i += 6;
        } else if (e !== undefined && ESCAPES.has(e)) {
          i += 2;
        } else if (e === undefined) {
          throw new Fail(start, 'unterminated string');
        } else {
          throw new Fail(i, `invalid escape "\\${e}" in a string`);
        }
        continue;
      }
      if (c === 0x0a || c === 0x0d) throw new Fail(i, 'line break inside a string (write it as \\n, or close the string)');
      if (c < 0x20) throw new Fail(i, `${describeAt(text, i)} inside a string; escape it`);
      i++;
    }
  };

  const digits = (): number => {
    const s = i;
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    return i - s;
  };
  const scanNumber = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') {
      i++;
      if (i < n && text[i]! >= '0' && text[i]! <= '9') throw new Fail(i - 1, 'numbers may not have leading zeros');
    } else if (digits() === 0) {
      throw new Fail(i, `unexpected ${describeAt(text, i)}; expected a digit`);
    }
    if (text[i] === '.') {
      i++;
      if (digits() === 0) throw new Fail(i, `unexpected ${describeAt(text, i)}; expected a digit after the decimal point`);
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (digits() === 0) throw new Fail(i, `unexpected ${describeAt(text, i)}; expected a digit in the exponent`);
    }
  };

  const scanLiteral = (word: string) => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return;
    }
    // point at the first character that differs
    let k = 0;
    while (k < word.length && text[i + k] === word[k]) k++;
    i += k;
    unexpected(`expected "${word}"`);
  };

  /** after '{' or ',' in an object: a property name, then ':' */
  const scanKey = (afterComma: boolean) => {
    ws();
    if (text[i] === '"') {
      scanString();
    } else if (afterComma && text[i] === '}') {
      throw new Fail(i, "trailing comma: expected a property name after ','");
    } else if (text[i] === "'") {
      throw new Fail(i, 'property names must be in double quotes');
    } else if (i < n && /[A-Za-z_$]/.test(text[i]!)) {
      throw new Fail(i, 'property names must be in double quotes');
    } else {
      unexpected('expected a property name in double quotes');
    }
    ws();
    if (text[i] !== ':') unexpected("expected ':' after a property name");
    i++;
  };

  try {
    ws();
    // expect a value, then unwind containers
    for (;;) {
      // ---- a value ----
      ws();
      const c = text[i];
      let opened = false;
      if (c === '{') {
        i++;
        ws();
        if (text[i] === '}') i++;
        else {
          stack.push('object');
          scanKey(false);
          opened = true;
        }
      } else if (c === '[') {
        i++;
        ws();
        if (text[i] === ']') i++;
        else {
          stack.push('array');
          opened = true;
        }
      } else if (c === '"') scanString();
      else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) scanNumber();
      else if (c === 't') scanLiteral('true');
      else if (c === 'f') scanLiteral('false');
      else if (c === 'n') scanLiteral('null');
      else if (c === "'") throw new Fail(i, 'strings must be in double quotes');
      else unexpected('expected a value');
      if (opened) continue;

      // ---- after a value ----
      let next = false;
      while (!next) {
        ws();
        const top = stack[stack.length - 1];
        if (top === undefined) {
          if (i < n) unexpected('expected the end of input after the JSON value');
          return undefined;
        }
        const d = text[i];
        if (d === ',') {
          i++;
          if (top === 'object') scanKey(true);
          else {
            ws();
            if (text[i] === ']') throw new Fail(i, "trailing comma: expected a value after ','");
          }
          next = true;
        } else if ((top === 'object' && d === '}') || (top === 'array' && d === ']')) {
          i++;
          stack.pop();
        } else {
          unexpected(top === 'object' ? "expected ',' or '}' after a property value" : "expected ',' or ']' after an array element");
        }
      }
    }
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
    return { offset: e.offset, ...lineColumn(text, e.offset), reason: e.reason };
  }
}
