/**
 * What the studio's handler areas share: the folders under dataDir, and turning a
 * document sent by the renderer into a parsed document or a compiled program (or a
 * HandlerError that carries the problems).
 */
import { join, resolve } from 'node:path';
import { registry } from '../../../nodes/index';
import type { Program } from '../../compile/compile';
import { loadParsed } from '../../compile/loadProgram';
import { formatDocumentErrors, parseDocumentValue, type DocumentError, type GraphDocument } from '../../document/index';
import { HandlerError } from '../dispatch';

export interface StudioPaths {
  dataDir: string;
  recent: string;
  autosave: string;
  /** default home of saved graphs (web mode has no native dialog) */
  graphs: string;
  runs: string;
  /** the files the user granted through dialogs (studio/confine.ts) */
  grants: string;
}

export function studioPaths(dataDir: string): StudioPaths {
  const root = resolve(dataDir);
  return {
    dataDir: root,
    recent: join(root, 'recent.json'),
    autosave: join(root, 'autosave.json'),
    graphs: join(root, 'graphs'),
    runs: join(root, 'runs'),
    grants: join(root, 'grants.json'),
  };
}

export const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** document errors sent to the renderer at most (its message says how many more) */
const MAX_SENT_ERRORS = 1000;

export function plainDocumentErrors(errors: readonly DocumentError[]) {
  return errors.slice(0, MAX_SENT_ERRORS).map((e) => ({
    code: e.code,
    path: e.path,
    message: e.message,
    ...(e.nodeId !== undefined && { nodeId: e.nodeId }),
    ...(e.line !== undefined && { line: e.line }),
    ...(e.column !== undefined && { column: e.column }),
  }));
}

/** file-name-safe slug of a title: letters, digits, '-', '_' and '.' */
export function slug(text: string, fallback: string): string {
  const s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._ -]+/g, '')
    .trim()
    .replace(/\s+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 80);
  return s || fallback;
}

export function metaOf(doc: unknown): Record<string, unknown> {
  const meta = typeof doc === 'object' && doc !== null ? (doc as { meta?: unknown }).meta : undefined;
  return typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? (meta as Record<string, unknown>) : {};
}

/** parse + migrate a document sent by the renderer (a value: text only at the wire); throws HandlerError with documentErrors */
export function parseOrThrow(doc: unknown, what: string): GraphDocument {
  const parsed = parseDocumentValue(doc ?? null, registry);
  if (!parsed.ok) {
    throw new HandlerError(`${what}: the document has errors:\n${formatDocumentErrors(parsed.errors)}`, {
      documentErrors: plainDocumentErrors(parsed.errors),
    });
  }
  return parsed.doc;
}

/** a parsed document validated and compiled (not parsed again); throws HandlerError with diagnostics */
export function compileOrThrow(doc: GraphDocument, what: string): Program {
  const r = loadParsed(doc);
  if (!r.ok) throw new HandlerError(`${what}: ${r.message}`, { diagnostics: r.diagnostics });
  return r.program;
}
