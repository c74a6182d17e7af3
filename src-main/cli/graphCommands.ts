import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { templatePath, TEMPLATE_NAMES } from '../document/templates';
import { formatDocumentErrors, parseDocument, readDocumentText, type GraphDocument } from '../document/index';
import { FileReadError } from '../fs/readRegularFile';
import { registry } from '../../nodes/index';
import { programToString, type Program } from '../compile/compile';
import { loadParsed } from '../compile/loadProgram';
import { fileExternalResolver } from '../compile/readGraphFile';
import { formatDiagnostics, type Diagnostic } from '../graph/diagnostics';
import { validateGraph, type ValidatedGraph } from '../graph/validate';
import { checkCsvDatasets, withCsvPathsResolved } from '../runtime/feeds';
import { args, BadInputError } from './args';
import type { Io } from './io';

export { BadInputError };

/** reads and parses a graph document; a bad file is bad input (exit 2) with every error listed */
export async function readGraphFile(file: string): Promise<GraphDocument> {
  // a bundled template's name (e.g. ddpm-swissroll) stands for its file when no such file exists
  // a template's relative paths (a teacher's run folder) are the working folder's
  let baseDir: string | undefined;
  if (!existsSync(file) && TEMPLATE_NAMES.includes(file)) {
    file = templatePath(file);
    baseDir = process.cwd();
  }
  let text: string;
  try {
    // a regular file only, of a graph document's size at most: a FIFO or /dev/zero is refused at once
    text = await readDocumentText(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new BadInputError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : e instanceof FileReadError ? e.reason : (e as Error).message}`);
  }
  const r = parseDocument(text, registry, { fileName: file });
  if (!r.ok) throw new BadInputError(`\n${formatDocumentErrors(r.errors, file)}`);
  // a relative CSV path names a file next to the graph, wherever the command runs
  return withCsvPathsResolved(r.doc, baseDir ?? dirname(resolve(file)));
}

export async function validateCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { json: { type: 'boolean' } }, 1);
  const file = positionals[0]!;
  let doc: GraphDocument;
  try {
    doc = await readGraphFile(file);
  } catch (e) {
    if (values.json && e instanceof BadInputError) {
      io.out(JSON.stringify({ ok: false, file, error: e.message.trim() }));
      return 2;
    }
    throw e;
  }
  const g = validateGraph(doc, registry, { parsed: true, resolveExternal: fileExternalResolver(registry) });
  const diagnostics: Diagnostic[] = [...g.diagnostics];
  if (g.ok) {
    // a graph that validates: compiled, and its CSV datasets read and checked
    const r = loadParsed(doc, { fileName: file });
    if (!r.ok) diagnostics.push(...r.diagnostics.filter((d) => d.code === 'compile-error'));
    else diagnostics.push(...checkCsvDatasets(r.program));
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const ok = errors === 0;
  if (values.json) {
    const shown = diagnostics.slice(0, MAX_JSON_DIAGNOSTICS);
    io.out(JSON.stringify({ ok, file, diagnostics: shown, ...(diagnostics.length > shown.length && { omitted: diagnostics.length - shown.length }) }));
  } else {
    for (const line of formatDiagnostics(diagnostics, `${file}: `)) io.out(line);
    io.out(`${file}: ${ok ? 'valid' : 'invalid'} (${errors} error(s), ${diagnostics.length - errors} warning(s))`);
  }
  return ok ? 0 : 2;
}

/** diagnostics in `validate --json` at most (the count of the others is `omitted`) */
const MAX_JSON_DIAGNOSTICS = 1000;

/** validates and compiles, or throws BadInputError listing the diagnostics */
export function compileOrExplain(doc: GraphDocument, file: string): { graph: ValidatedGraph; program: Program } {
  const r = loadParsed(doc, { fileName: file });
  if (!r.ok) throw new BadInputError(`${file} has errors:\n${formatDiagnostics(r.diagnostics, '  ').join('\n')}`);
  return { graph: r.graph, program: r.program };
}

export async function infoCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { json: { type: 'boolean' } }, 1);
  const file = positionals[0]!;
  const doc = await readGraphFile(file);
  const { program } = compileOrExplain(doc, file);
  if (values.json) {
    io.out(
      JSON.stringify({
        title: doc.meta?.title,
        params: program.params.length,
        networks: program.networks.map((n) => ({ nodeId: n.nodeId, type: n.type, size: n.size })),
        objectives: program.objectives.map((o) => ({ nodeId: o.nodeId, trains: o.trains, stepsPerRound: o.stepsPerRound, optimizer: o.optimizer })),
        samplers: program.samplers,
        evaluators: program.evaluators,
      }),
    );
  } else {
    if (doc.meta?.title) io.out(`${doc.meta.title}\n`);
    io.out(programToString(program));
  }
  return 0;
}
