/**
 * The one pipeline from a document to a runnable program, used by the CLI, the training
 * runtime, the studio host, export and the benchmarks:
 *
 *   text | value --parseDocument--> GraphDocument --validateGraph--> ValidatedGraph --compile--> Program
 *
 * Text only appears at the wire (a file, a message); a value already decoded is parsed as
 * it is. Validation trusts the parsed document's params (parsed once, defaults filled in).
 * Problems come back as data, never thrown.
 */
import { registry as defaultRegistry, type NodeRegistry } from '../../nodes/index';
import { formatDocumentErrors, parseDocument, parseDocumentValue, type DocumentError, type GraphDocument } from '../document/index';
import { diag, formatDiagnostic, type Diagnostic } from '../graph/diagnostics';
import { validateGraph, type ValidatedGraph } from '../graph/validate';
import { compile, type Program } from './compile';
import { fileExternalResolver } from './readGraphFile';

export interface Loaded {
  ok: true;
  doc: GraphDocument;
  graph: ValidatedGraph;
  program: Program;
  /** migration notes and warning diagnostics, formatted */
  warnings: string[];
}

export type LoadProblems =
  /** the document itself is malformed: one error per problem, with its path */
  | { ok: false; stage: 'document'; errors: DocumentError[]; message: string }
  /** the graph does not validate: diagnostics naming node and port */
  | { ok: false; stage: 'graph'; diagnostics: Diagnostic[]; doc: GraphDocument; message: string }
  /** it validates but cannot be compiled */
  | { ok: false; stage: 'compile'; diagnostics: Diagnostic[]; doc: GraphDocument; message: string };

export interface LoadOptions {
  /** named in messages (a file or a run folder's graph.json) */
  fileName?: string;
  registry?: NodeRegistry;
  /**
   * the folder that the other graphs and run folders a node names (a distillation's
   * teacher) are relative to: the document's folder; the working folder when not given
   */
  baseDir?: string;
}

export function loadProgram(input: string | unknown, opts: LoadOptions = {}): Loaded | LoadProblems {
  const registry = opts.registry ?? defaultRegistry;
  const parsed = typeof input === 'string' ? parseDocument(input, registry, opts) : parseDocumentValue(input, registry, opts);
  if (!parsed.ok) return { ok: false, stage: 'document', errors: parsed.errors, message: formatDocumentErrors(parsed.errors, opts.fileName) };
  return loadParsed(parsed.doc, opts, parsed.migrated.map((n) => `document migrated: ${n}`));
}

/**
 * The rest of the pipeline for a document parseDocument already returned (a file the CLI
 * read, a document the studio host parsed): validated and compiled, not parsed again.
 */
export function loadParsed(doc: GraphDocument, opts: LoadOptions = {}, notes: string[] = []): Loaded | Exclude<LoadProblems, { stage: 'document' }> {
  const registry = opts.registry ?? defaultRegistry;
  const graph = validateGraph(doc, registry, { parsed: true, resolveExternal: fileExternalResolver(registry, opts.baseDir) });
  const warnings = [...notes, ...graph.diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic)];
  if (!graph.ok) {
    const errs = graph.diagnostics.filter((d) => d.severity === 'error');
    return { ok: false, stage: 'graph', diagnostics: graph.diagnostics, doc, message: `the graph has ${errs.length} error(s):\n${errs.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}` };
  }
  try {
    return { ok: true, doc, graph, program: compile(graph), warnings };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, stage: 'compile', diagnostics: [...graph.diagnostics, diag('compile-error', message)], doc, message };
  }
}

/** loadProgram, or throw `make(message, problems)` (an Error subclass the caller chooses) */
export function loadProgramOrThrow(input: string | unknown, make: (message: string, problems: LoadProblems) => Error, opts: LoadOptions = {}): Loaded {
  const r = loadProgram(input, opts);
  if (!r.ok) throw make(r.message, r);
  return r;
}
