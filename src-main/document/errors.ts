/**
 * Errors of the document layer: one stable `code`, a `path` into the document
 * (`nodes[3].params.hidden`, `edges[2].to[0]`, or `""` for the whole file) and a message
 * a person can act on. Also the zod error map that turns zod issues into such messages.
 */
import type { z } from 'zod';
import { closestMatch } from './suggest';

export type DocumentErrorCode =
  /** the text is not valid JSON; `line` and `column` say where */
  | 'bad-json'
  /** valid JSON, but not a Genloom graph (no `"format": "genloom"`) */
  | 'not-genloom'
  /** written by a newer Genloom (format version above CURRENT_FORMAT_VERSION) */
  | 'newer-version'
  /** a field has the wrong type or shape (one error per zod issue) */
  | 'schema'
  /** two nodes share an id */
  | 'duplicate-id'
  /** an edge names a node id that does not exist */
  | 'dangling-edge'
  /** a node's type is not registered */
  | 'unknown-type'
  /** an edge names a port the node type does not have */
  | 'unknown-port'
  /** a node was written by a newer version of its node type */
  | 'newer-node-version'
  /** a node's params do not parse with its type's zod schema (after migration) */
  | 'bad-params'
  /** a document or node migration could not be applied */
  | 'migration-failed'
  /** the file could not be read */
  | 'io'
  /** the document (or its file) is larger than a graph document may be */
  | 'too-large'
  /** the document nests arrays or objects deeper than a graph document may */
  | 'too-deep'
  /** a bug in Genloom or in a node type (e.g. a params schema that throws); never a crash */
  | 'internal';

export interface DocumentError {
  code: DocumentErrorCode;
  /** where in the document, e.g. `nodes[3].params.hidden`, `edges[2].to[0]`, or `""` */
  path: string;
  message: string;
  /** 1-based position in the text, for 'bad-json' */
  line?: number;
  column?: number;
  /** the node concerned, when the error is about one node (lets the UI highlight it) */
  nodeId?: string;
  /** the file the document came from, when known */
  file?: string;
}

/** a problem that does not stop the document from loading (e.g. a misspelt param, ignored) */
export interface DocumentWarning {
  code: 'unknown-param';
  path: string;
  message: string;
  nodeId?: string;
}

export type PathSegment = string | number | symbol;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `["nodes", 3, "params", "hidden"]` -> `nodes[3].params.hidden` */
export function renderPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'symbol') out += `[${String(seg)}]`;
    else if (IDENTIFIER.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Joins a rendered prefix and a rendered suffix path (`nodes[1].params` + `hidden`). */
export function joinPath(prefix: string, suffix: readonly PathSegment[]): string {
  const rest = renderPath(suffix);
  if (rest === '') return prefix;
  if (prefix === '') return rest;
  return rest.startsWith('[') ? prefix + rest : `${prefix}.${rest}`;
}

/** A short description of a received value: `"abc"`, `42`, `null`, `an array`, `an object`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') {
    const s = v.length > 40 ? `${v.slice(0, 37)}...` : v;
    return JSON.stringify(s);
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

const EXPECTED_NOUN: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  bigint: 'a bigint',
  null: 'null',
  undefined: 'nothing',
  array: 'an array',
  tuple: 'an array',
  object: 'an object',
  record: 'an object',
  map: 'a map',
  set: 'a set',
  date: 'a date',
  function: 'a function',
  never: 'nothing here',
  nonoptional: 'a value',
};

function quoteList(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v))).join(', ');
}

/** Known keys of the object schema that raised an `unrecognized_keys` issue. */
function knownKeys(inst: unknown): string[] {
  const shape = (inst as { _zod?: { def?: { shape?: unknown } } } | undefined)?._zod?.def?.shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : [];
}

/**
 * The per-parse zod error map used for documents and params. Schema-level messages
 * (e.g. the node id rule) still win over it; anything it does not know falls back to zod.
 */
export const documentErrorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type': {
      const expected = EXPECTED_NOUN[iss.expected] ?? `a ${iss.expected}`;
      if (iss.input === undefined) return `expected ${expected}, but it is missing`;
      if (iss.expected === 'int' && typeof iss.input === 'number') {
        return `expected an integer, received ${describeValue(iss.input)}`;
      }
      return `expected ${expected}, received ${describeValue(iss.input)}`;
    }
    case 'invalid_value': {
      const values = iss.values as readonly unknown[];
      if (values.length === 1) return `expected ${quoteList(values)}, received ${describeValue(iss.input)}`;
      return `expected one of ${quoteList(values)}, received ${describeValue(iss.input)}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = iss.code === 'too_small';
      const bound = small ? iss.minimum : iss.maximum;
      const incl = iss.inclusive !== false;
      const got = describeValue(iss.input);
      switch (iss.origin) {
        case 'string':
          if (small && Number(bound) === 1) return 'must not be empty';
          return `must be ${iss.exact ? 'exactly' : small ? 'at least' : 'at most'} ${bound} characters long, received ${got}`;
        case 'array':
        case 'set': {
          const n = Array.isArray(iss.input) ? iss.input.length : undefined;
          const had = n === undefined ? '' : `, received ${n} item${n === 1 ? '' : 's'}`;
          if (small && Number(bound) === 1 && !iss.exact) return `must not be empty`;
          return `must have ${iss.exact ? 'exactly' : small ? 'at least' : 'at most'} ${bound} item${Number(bound) === 1 ? '' : 's'}${had}`;
        }
        default: {
          const op = small ? (incl ? '>=' : '>') : incl ? '<=' : '<';
          return `must be ${op} ${bound}, received ${got}`;
        }
      }
    }
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor}, received ${describeValue(iss.input)}`;
    case 'unrecognized_keys': {
      const keys = iss.keys as string[];
      const known = knownKeys(iss.inst);
      const hints = keys.flatMap((k) => {
        const s = closestMatch(k, known);
        return s === undefined ? [] : [keys.length === 1 ? `did you mean "${s}"?` : `"${k}": did you mean "${s}"?`];
      });
      const head = keys.length === 1 ? `unknown key ${quoteList(keys)}` : `unknown keys ${quoteList(keys)}`;
      if (hints.length > 0) return `${head}; ${hints.join('; ')}`;
      return known.length > 0 ? `${head} (allowed: ${known.join(', ')})` : head;
    }
    case 'invalid_format':
      if (iss.format === 'regex' && typeof iss.pattern === 'string') {
        return `does not match ${iss.pattern}, received ${describeValue(iss.input)}`;
      }
      return undefined;
    default:
      return undefined;
  }
};

/** Parse options that give the messages above. */
export const DOCUMENT_PARSE_CONTEXT = { error: documentErrorMap } as const;
