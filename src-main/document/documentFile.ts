/**
 * Graph documents on disk. Loading turns I/O failures into a DocumentError ('io');
 * saving is atomic: the text goes to a temporary file in the same directory, is fsynced,
 * then renamed over the target, so a crash mid-write leaves either the old file or the new
 * one, never half of one.
 */
import { FileReadError, readRegularTextFile } from '../fs/readRegularFile';
import { writeFileAtomic } from '../fs/writeFileAtomic';
import { DOCUMENT_LIMITS } from './limits';
import { DOCUMENT_PARSE_CONTEXT, joinPath, type DocumentError } from './errors';
import type { NodeTypeLookup } from './lookup';
import { parseDocument, type ParseDocumentResult } from './parseDocument';
import { GraphDocumentSchema, type GraphDocument } from './schema';
import { serializeDocument } from './serializeDocument';

function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A short reason for a failed file operation, e.g. `the file does not exist (ENOENT)`. */
export function describeIoError(e: unknown): string {
  const code = errnoCode(e);
  switch (code) {
    case 'ENOENT':
      return 'the file does not exist (ENOENT)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EISDIR':
      return 'it is a directory, not a file (EISDIR)';
    case 'ENOTDIR':
      return 'a part of the path is not a directory (ENOTDIR)';
    case 'ENOSPC':
      return 'the disk is full (ENOSPC)';
    case 'EROFS':
      return 'the file system is read-only (EROFS)';
    case 'EFBIG':
      return 'the file is larger than the system allows (EFBIG)';
    case 'EDQUOT':
      return 'the disk quota is exhausted (EDQUOT)';
    case 'ENAMETOOLONG':
      return 'the path is too long (ENAMETOOLONG)';
    case 'EIO':
      return 'an input/output error of the disk (EIO)';
    default: {
      const msg = e instanceof Error ? e.message : String(e);
      return code && !msg.includes(code) ? `${msg} (${code})` : msg;
    }
  }
}

/**
 * Reads a graph document's text: a regular file only (a FIFO or a device is refused at
 * once, never waited on), of at most DOCUMENT_LIMITS.maxBytes; throws FileReadError.
 */
export function readDocumentText(path: string): Promise<string> {
  return readRegularTextFile(path, { maxBytes: DOCUMENT_LIMITS.maxBytes, what: 'a graph document' });
}

/** Reads and parses a graph document. Never throws. */
export async function loadDocumentFile(path: string, registry: NodeTypeLookup): Promise<ParseDocumentResult> {
  let text: string;
  try {
    text = await readDocumentText(path);
  } catch (e) {
    const reason = e instanceof FileReadError && e.problem !== 'io' ? e.reason : describeIoError(e);
    const code = e instanceof FileReadError && e.problem === 'too-large' ? 'too-large' : 'io';
    const error: DocumentError = { code, path: '', message: `cannot read the file: ${reason}`, file: path };
    return { ok: false, errors: [error] };
  }
  return parseDocument(text, registry, { fileName: path });
}

/** Why saveDocumentFile refused or failed; the file on disk is unchanged. */
export class DocumentSaveError extends Error {
  constructor(
    readonly file: string,
    readonly reason: 'invalid-document' | 'serialize' | 'io',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot save ${file}: ${message}`, options);
    this.name = 'DocumentSaveError';
  }
}

/** Names of the temporary files saveDocumentFile writes next to `path` (for cleanup tools). */
export const TEMP_FILE_PATTERN = /^\..+\.[0-9a-f]{12}\.tmp$/;

/**
 * Writes `doc` to `path` atomically. Rejects with DocumentSaveError, leaving any existing
 * file untouched and no temporary file behind, when the document does not match the schema,
 * cannot be serialised, or cannot be written. A symlink at `path` is followed (the file it
 * points to is replaced), and an existing file keeps its permissions.
 */
export async function saveDocumentFile(path: string, doc: GraphDocument): Promise<void> {
  const checked = GraphDocumentSchema.safeParse(doc, DOCUMENT_PARSE_CONTEXT);
  if (!checked.success) {
    const lines = checked.error.issues.map((i) => `${joinPath('', i.path) || '(document)'}: ${i.message}`);
    throw new DocumentSaveError(path, 'invalid-document', `the document is invalid: ${lines.join('; ')}`);
  }
  let text: string;
  try {
    text = serializeDocument(doc);
  } catch (e) {
    throw new DocumentSaveError(path, 'serialize', `cannot serialise the document: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }

  try {
    await writeFileAtomic(path, text);
  } catch (e) {
    throw new DocumentSaveError(path, 'io', describeIoError(e), { cause: e });
  }
}
