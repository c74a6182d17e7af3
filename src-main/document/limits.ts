/**
 * How big and how deep a graph document may be, checked before anything recursive reads it
 * (structuredClone, zod, postMessage to a training worker and JSON.stringify all recurse,
 * and overflow the stack on a few thousand levels). A real graph nests about six levels
 * (document, nodes, a node, params, an optimiser, a list) and weighs kilobytes; the limits
 * leave room for user notes in `meta` and the studio's `ui`.
 *
 * Both checks are iterative: the text check scans the JSON text once (strings skipped),
 * the value check walks the decoded value with an explicit stack, estimating its size as
 * JSON text; a cycle (a structured clone may hold one) is too deep by this walk.
 */
import { formatBytes } from '../fs/readRegularFile';
import { renderPath, type DocumentError } from './errors';
import { lineColumn } from './jsonPosition';

export interface DocumentLimits {
  /** the most bytes (of JSON text) a document may have */
  maxBytes: number;
  /** the most levels of arrays and objects, the document object itself being level 1 */
  maxDepth: number;
}

export const DOCUMENT_LIMITS: DocumentLimits = { maxBytes: 16 * 1024 * 1024, maxDepth: 64 };

export const limitsOf = (l?: Partial<DocumentLimits>): DocumentLimits => ({ ...DOCUMENT_LIMITS, ...l });

const tooDeep = (max: number) => `the document is nested more than ${max} levels deep (arrays or objects inside each other); a graph document may nest at most ${max}`;
const tooLarge = (bytes: number | undefined, max: number) =>
  `the document has ${bytes === undefined ? `more than ${formatBytes(max)}` : formatBytes(bytes)}; a graph document may have at most ${formatBytes(max)}`;

/** the size and nesting of JSON text; an error when it is over a limit */
export function checkTextLimits(text: string, limits: DocumentLimits): DocumentError | undefined {
  // UTF-8 bytes without encoding: 1 byte per ASCII code unit, at most 3 per other unit
  if (text.length > limits.maxBytes || (text.length * 3 > limits.maxBytes && Buffer.byteLength(text, 'utf8') > limits.maxBytes)) {
    return { code: 'too-large', path: '', message: tooLarge(Buffer.byteLength(text, 'utf8'), limits.maxBytes) };
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limits.maxDepth) {
        const { line, column } = lineColumn(text, i);
        return { code: 'too-deep', path: '', message: `${tooDeep(limits.maxDepth)} (at line ${line}, column ${column})`, line, column };
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

interface Frame {
  value: unknown;
  depth: number;
  key: string | number | undefined;
  parent: Frame | undefined;
}

function pathOf(f: Frame): string {
  const keys: (string | number)[] = [];
  for (let cur: Frame | undefined = f; cur && cur.key !== undefined; cur = cur.parent) keys.push(cur.key);
  keys.reverse();
  const shown = keys.length > 12 ? [...keys.slice(0, 12)] : keys;
  return renderPath(shown) + (keys.length > 12 ? '...' : '');
}

/** the size (as JSON, estimated) and nesting of a decoded value; an error when it is over a limit */
export function checkValueLimits(root: unknown, limits: DocumentLimits): DocumentError | undefined {
  let bytes = 0;
  const stack: Frame[] = [{ value: root, depth: 1, key: undefined, parent: undefined }];
  while (stack.length) {
    const f = stack.pop()!;
    const v = f.value;
    if (typeof v === 'string') bytes += v.length + 2;
    else if (typeof v !== 'object' || v === null) bytes += 8;
    else {
      if (f.depth > limits.maxDepth) return { code: 'too-deep', path: pathOf(f), message: tooDeep(limits.maxDepth) };
      bytes += 2;
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) {
          bytes += 1;
          stack.push({ value: v[i], depth: f.depth + 1, key: i, parent: f });
        }
      } else {
        for (const [k, child] of Object.entries(v)) {
          bytes += k.length + 4;
          stack.push({ value: child, depth: f.depth + 1, key: k, parent: f });
        }
      }
    }
    if (bytes > limits.maxBytes) return { code: 'too-large', path: '', message: tooLarge(undefined, limits.maxBytes) };
  }
  return undefined;
}
