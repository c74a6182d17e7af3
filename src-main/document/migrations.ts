/**
 * Document-level migrations: `DOCUMENT_MIGRATIONS[n]` turns a format-version-n document
 * into a format-version-(n+1) one. They run on raw JSON (before schema validation), so
 * they must not trust its shape: throw MigrationError with a path when they cannot
 * proceed. parseDocument sets `version` to n+1 after each step.
 *
 * Format version 0 (legacy): edges were called `links`, with dotted strings:
 *     { format: "genloom", version: 0, nodes: [...],
 *       links: [{ source: "n1.out", target: "n2.in" }] }
 */
import { describeValue } from './errors';

export class MigrationError extends Error {
  constructor(
    /** path in the document being migrated, e.g. `links[2].source` */
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `"enc.mu"` -> `["enc", "mu"]`; node ids may contain dots, port names do not. */
function splitDotted(value: unknown, path: string): [string, string] {
  if (typeof value !== 'string') {
    throw new MigrationError(path, `expected a "node.port" string, received ${describeValue(value)}`);
  }
  const dot = value.lastIndexOf('.');
  if (dot <= 0 || dot === value.length - 1) {
    throw new MigrationError(path, `expected a "node.port" string, received ${JSON.stringify(value)}`);
  }
  return [value.slice(0, dot), value.slice(dot + 1)];
}

function migrate0to1(doc: unknown): unknown {
  if (!isPlainObject(doc)) throw new MigrationError('', `expected an object, received ${describeValue(doc)}`);
  const { links, ...rest } = doc;
  if (links === undefined) {
    // a version-0 file without links: nothing to convert
    return { ...rest, edges: rest.edges ?? [] };
  }
  if (rest.edges !== undefined) {
    throw new MigrationError('edges', 'a format version 0 document has "links", not "edges"; it cannot have both');
  }
  if (!Array.isArray(links)) {
    throw new MigrationError('links', `expected an array of links, received ${describeValue(links)}`);
  }
  const edges = links.map((link, k) => {
    if (!isPlainObject(link)) {
      throw new MigrationError(`links[${k}]`, `expected { source, target }, received ${describeValue(link)}`);
    }
    return {
      from: splitDotted(link.source, `links[${k}].source`),
      to: splitDotted(link.target, `links[${k}].target`),
    };
  });
  return { ...rest, edges };
}

export const DOCUMENT_MIGRATIONS: Record<number, (doc: unknown) => unknown> = {
  0: migrate0to1,
};

/** One line per migration, shown to the user in `migrated`. */
export const DOCUMENT_MIGRATION_NOTES: Record<number, string> = {
  0: 'format version 0 -> 1: "links" with "node.port" strings became "edges" with [node, port] pairs',
};

/** Oldest format version that can still be migrated. */
export const OLDEST_FORMAT_VERSION = 0;
