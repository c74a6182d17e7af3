/**
 * JSON text -> GraphDocument: check the size and nesting (limits.ts), parse, check the
 * format, apply document migrations, check the structure with zod, then check the graph
 * against the node registry (ids, types, ports, node versions), migrate node params and
 * parse them with each type's schema. Never throws: every problem comes back as a
 * DocumentError with a path. Params a node type does not have (a misspelt key, which zod
 * would drop silently) come back as warnings, and are recorded on the node for validation
 * (unknownParams.ts).
 */
import type { z } from 'zod';
import { DOCUMENT_PARSE_CONTEXT, describeValue, joinPath, type DocumentError, type DocumentWarning } from './errors';
import { checkTextLimits, checkValueLimits, limitsOf, type DocumentLimits } from './limits';
import { recordUnknownParams, unknownParamHint, unknownParamKeys } from '../graph/unknownParams';
import type { NodeTypeInfo, NodeTypeLookup } from './lookup';
import { DOCUMENT_MIGRATIONS, DOCUMENT_MIGRATION_NOTES, MigrationError } from './migrations';
import { CURRENT_FORMAT_VERSION, FORMAT_NAME, GraphDocumentSchema, type GraphDocument, type NodeInstance } from './schema';
import { findJsonSyntaxError, lineColumn } from './jsonPosition';
import { closestMatch } from './suggest';

export type ParseDocumentResult =
  | {
      ok: true;
      doc: GraphDocument;
      /** human notes of the migrations applied */
      migrated: string[];
      /** problems that do not stop the document from loading: params its node types do not have */
      warnings: DocumentWarning[];
    }
  | { ok: false; errors: DocumentError[] };

export interface ParseDocumentOptions {
  /** recorded as `file` on every error (formatDocumentErrors prints it) */
  fileName?: string;
  /** size and nesting limits (default DOCUMENT_LIMITS: 16 MiB, 64 levels) */
  limits?: Partial<DocumentLimits>;
}

type Result = ParseDocumentResult;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

function fail(errors: DocumentError[], fileName: string | undefined): Result {
  return { ok: false, errors: fileName === undefined ? errors : errors.map((e) => ({ ...e, file: fileName })) };
}

/** Turns a JSON.parse failure into a 'bad-json' error with line and column. */
function badJson(text: string, parseError: unknown): DocumentError {
  const found = findJsonSyntaxError(text);
  if (found) {
    return {
      code: 'bad-json',
      path: '',
      message: `invalid JSON at line ${found.line}, column ${found.column}: ${found.reason}`,
      line: found.line,
      column: found.column,
    };
  }
  // our scanner accepts what JSON.parse refused: fall back to the engine's position, if any
  const msg = errorText(parseError);
  const m = /position (\d+)/.exec(msg);
  if (m) {
    const { line, column } = lineColumn(text, Number(m[1]));
    return { code: 'bad-json', path: '', message: `invalid JSON at line ${line}, column ${column}: ${msg}`, line, column };
  }
  return { code: 'bad-json', path: '', message: `invalid JSON: ${msg}` };
}

function notGenloom(root: unknown): DocumentError | undefined {
  const what = 'this is not a Genloom graph document';
  if (!isPlainObject(root)) {
    return {
      code: 'not-genloom',
      path: '',
      message: `${what}: expected a JSON object with "format": "${FORMAT_NAME}", found ${describeValue(root)}`,
    };
  }
  if (!('format' in root)) {
    return { code: 'not-genloom', path: 'format', message: `${what}: the "format" field is missing (expected "${FORMAT_NAME}")` };
  }
  if (root.format !== FORMAT_NAME) {
    return {
      code: 'not-genloom',
      path: 'format',
      message: `${what}: "format" is ${describeValue(root.format)}, expected "${FORMAT_NAME}"`,
    };
  }
  return undefined;
}

/** Applies DOCUMENT_MIGRATIONS from `root.version` up to CURRENT_FORMAT_VERSION. */
function migrateDocument(
  root: Record<string, unknown>,
  notes: string[],
): { ok: true; doc: unknown } | { ok: false; error: DocumentError } {
  const version = root.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    const message =
      version === undefined
        ? `expected an integer format version, but it is missing (this version of Genloom writes ${CURRENT_FORMAT_VERSION})`
        : `expected a non-negative integer format version, received ${describeValue(version)}`;
    return { ok: false, error: { code: 'schema', path: 'version', message } };
  }
  if (version > CURRENT_FORMAT_VERSION) {
    return {
      ok: false,
      error: {
        code: 'newer-version',
        path: 'version',
        message:
          `this file was written by a newer Genloom (format version ${version}); ` +
          `this version reads up to ${CURRENT_FORMAT_VERSION}. Update Genloom to open it.`,
      },
    };
  }
  let doc: unknown = root;
  for (let v = version; v < CURRENT_FORMAT_VERSION; v++) {
    const step = DOCUMENT_MIGRATIONS[v];
    if (!step) {
      return {
        ok: false,
        error: {
          code: 'migration-failed',
          path: 'version',
          message: `format version ${v} is too old: this version of Genloom cannot migrate it to ${v + 1}`,
        },
      };
    }
    try {
      const next = step(doc);
      if (!isPlainObject(next)) throw new MigrationError('', `the migration returned ${describeValue(next)}`);
      doc = { ...next, version: v + 1 };
    } catch (e) {
      const path = e instanceof MigrationError ? e.path : '';
      return {
        ok: false,
        error: {
          code: 'migration-failed',
          path,
          message: `cannot migrate from format version ${v} to ${v + 1}: ${errorText(e)}`,
        },
      };
    }
    notes.push(`document: ${DOCUMENT_MIGRATION_NOTES[v] ?? `format version ${v} -> ${v + 1}`}`);
  }
  return { ok: true, doc };
}

function zodErrors(error: z.ZodError, code: 'schema' | 'bad-params', prefix: string, nodeId?: string, suffix = ''): DocumentError[] {
  return error.issues.map((iss) => ({
    code,
    path: joinPath(prefix, iss.path),
    message: iss.message + suffix,
    ...(nodeId !== undefined ? { nodeId } : {}),
  }));
}

function portList(ports: Record<string, unknown>): string {
  const names = Object.keys(ports);
  return names.length === 0 ? 'none' : names.join(', ');
}

/** Migrates and parses one node's params; returns the node to keep, or pushes errors. */
function checkNode(
  node: NodeInstance,
  index: number,
  info: NodeTypeInfo,
  errors: DocumentError[],
  notes: string[],
  warnings: DocumentWarning[],
): NodeInstance | undefined {
  const at = `nodes[${index}]`;
  const label = `node "${node.id}" (${node.type})`;
  if (node.version > info.version) {
    errors.push({
      code: 'newer-node-version',
      path: `${at}.version`,
      nodeId: node.id,
      message:
        `${label} was written by version ${node.version} of its type; this Genloom knows up to version ` +
        `${info.version}. Update Genloom to open it.`,
    });
    return undefined;
  }
  let params: Record<string, unknown> = node.params;
  if (node.version < info.version) {
    if (!info.migrate) {
      errors.push({
        code: 'migration-failed',
        path: `${at}.version`,
        nodeId: node.id,
        message: `${label} has params of version ${node.version}, but its type (now version ${info.version}) has no migration for them`,
      });
      return undefined;
    }
    for (let v = node.version; v < info.version; v++) {
      try {
        const next = info.migrate(structuredClone(params), v);
        if (!isPlainObject(next)) throw new Error(`the migration returned ${describeValue(next)} instead of params`);
        params = next;
      } catch (e) {
        errors.push({
          code: 'migration-failed',
          path: `${at}.params`,
          nodeId: node.id,
          message: `cannot migrate the params of ${label} from version ${v} to ${v + 1}: ${errorText(e)}`,
        });
        return undefined;
      }
    }
    notes.push(`${at} "${node.id}" (${node.type}): params migrated from version ${node.version} to ${info.version}`);
  }
  let parsed: z.ZodSafeParseResult<unknown>;
  try {
    parsed = info.params.safeParse(params, DOCUMENT_PARSE_CONTEXT);
  } catch (e) {
    errors.push({
      code: 'bad-params',
      path: `${at}.params`,
      nodeId: node.id,
      message: `the params schema of ${node.type} failed: ${errorText(e)}`,
    });
    return undefined;
  }
  if (!parsed.success) {
    const suffix = node.version < info.version ? ` (after migrating from version ${node.version})` : '';
    errors.push(...zodErrors(parsed.error, 'bad-params', `${at}.params`, node.id, suffix));
    return undefined;
  }
  const out = parsed.data;
  if (!isPlainObject(out)) {
    errors.push({
      code: 'bad-params',
      path: `${at}.params`,
      nodeId: node.id,
      message: `the params schema of ${node.type} produced ${describeValue(out)}, not an object`,
    });
    return undefined;
  }
  const checked = { ...node, version: info.version, params: out };
  const unknown = unknownParamKeys(info.params, params);
  recordUnknownParams(checked, unknown);
  for (const u of unknown) {
    warnings.push({
      code: 'unknown-param',
      path: `${at}.params.${u.path}`,
      nodeId: node.id,
      message: `${label} has no param "${u.path}"; it is ignored (${unknownParamHint(u)})`,
    });
  }
  return checked;
}

function check(doc: GraphDocument, registry: NodeTypeLookup, notes: string[]): Result {
  const errors: DocumentError[] = [];
  const warnings: DocumentWarning[] = [];
  const byId = new Map<string, { index: number; node: NodeInstance; info?: NodeTypeInfo }>();
  const nodes: NodeInstance[] = [];

  doc.nodes.forEach((node, index) => {
    const at = `nodes[${index}]`;
    const first = byId.get(node.id);
    if (first) {
      errors.push({
        code: 'duplicate-id',
        path: `${at}.id`,
        nodeId: node.id,
        message: `duplicate node id "${node.id}" (already used by nodes[${first.index}])`,
      });
    }
    const info = registry.get(node.type);
    if (!first) byId.set(node.id, { index, node, info });
    if (!info) {
      const known = registry.types();
      const hint = closestMatch(node.type, known);
      const more = hint
        ? `; did you mean "${hint}"?`
        : known.length > 0 && known.length <= 12
          ? `; known types: ${[...known].sort().join(', ')}`
          : '';
      errors.push({ code: 'unknown-type', path: `${at}.type`, nodeId: node.id, message: `unknown node type "${node.type}"${more}` });
      return;
    }
    const checked = checkNode(node, index, info, errors, notes, warnings);
    if (checked) nodes.push(checked);
  });

  doc.edges.forEach((edge, index) => {
    for (const end of ['from', 'to'] as const) {
      const [nodeId, port] = edge[end];
      const at = `edges[${index}].${end}`;
      const target = byId.get(nodeId);
      if (!target) {
        const hint = closestMatch(nodeId, byId.keys());
        errors.push({
          code: 'dangling-edge',
          path: `${at}[0]`,
          message: `edge ${end} "${nodeId}.${port}": there is no node with id "${nodeId}"${hint ? `; did you mean "${hint}"?` : ''}`,
        });
        continue;
      }
      const info = target.info;
      if (!info) continue; // unknown type, already reported
      const [own, other, side, otherSide] =
        end === 'from'
          ? [info.outputs, info.inputs, 'output', 'input']
          : [info.inputs, info.outputs, 'input', 'output'];
      if (Object.hasOwn(own, port)) continue;
      const label = `node "${nodeId}" (${target.node.type})`;
      let message: string;
      if (Object.hasOwn(other, port)) {
        message =
          `"${port}" is an ${otherSide} of ${label}, not an ${side}: an edge goes from an output ` +
          `("from") to an input ("to"). Its ${side}s are: ${portList(own)}`;
      } else {
        const hint = closestMatch(port, Object.keys(own));
        message =
          `${label} has no ${side} port "${port}"` +
          (hint ? `; did you mean "${hint}"? Its ${side}s are: ` : `; its ${side}s are: `) +
          portList(own);
      }
      errors.push({ code: 'unknown-port', path: `${at}[1]`, nodeId, message });
    }
  });

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, doc: { ...doc, nodes }, migrated: notes, warnings };
}

/**
 * Parses a graph document. On success, node params are the parsed params (defaults
 * filled in) and node versions are the registered versions (params migrated).
 */
export function parseDocument(text: string, registry: NodeTypeLookup, opts: ParseDocumentOptions = {}): ParseDocumentResult {
  const fileName = opts.fileName;
  if (typeof text !== 'string') {
    return fail([{ code: 'bad-json', path: '', message: `expected JSON text, received ${describeValue(text)}` }], fileName);
  }
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // byte order mark
  const over = checkTextLimits(source, limitsOf(opts.limits));
  if (over) return fail([over], fileName);
  let root: unknown;
  try {
    root = JSON.parse(source);
  } catch (e) {
    return fail([badJson(source, e)], fileName);
  }
  return parseDocumentValue(root, registry, opts);
}

/** the same for a value already decoded from JSON (an IPC message, a run's graph.json) */
export function parseDocumentValue(root: unknown, registry: NodeTypeLookup, opts: ParseDocumentOptions = {}): ParseDocumentResult {
  const fileName = opts.fileName;
  try {
    // before anything recursive (structuredClone, zod) reads it
    const over = checkValueLimits(root, limitsOf(opts.limits));
    if (over) return fail([over], fileName);
    const notDoc = notGenloom(root);
    if (notDoc) return fail([notDoc], fileName);

    const notes: string[] = [];
    // migrations rewrite the document: never the caller's value
    const migrated = migrateDocument(structuredClone(root) as Record<string, unknown>, notes);
    if (!migrated.ok) return fail([migrated.error], fileName);

    const parsed = GraphDocumentSchema.safeParse(migrated.doc, DOCUMENT_PARSE_CONTEXT);
    if (!parsed.success) return fail(zodErrors(parsed.error, 'schema', ''), fileName);

    const result = check(parsed.data, registry, notes);
    return result.ok ? result : fail(result.errors, fileName);
  } catch (e) {
    return fail(
      [{ code: 'internal', path: '', message: `internal error while reading the document: ${errorText(e)}` }],
      fileName,
    );
  }
}
