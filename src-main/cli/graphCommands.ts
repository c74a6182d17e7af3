import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { templatePath, TEMPLATE_NAMES } from '../document/templates';
import { formatDocumentErrors, parseDocument, type GraphDocument } from '../document/index';
import { registry } from '../../nodes/index';
import { programToString, type Program } from '../compile/compile';
import { loadParsed } from '../compile/loadProgram';
import { formatDiagnostic } from '../graph/diagnostics';
import { validateGraph, type ValidatedGraph } from '../graph/validate';
import { args, BadInputError } from './args';
import type { Io } from './io';

export { BadInputError };

/** reads and parses a graph document; a bad file is bad input (exit 2) with every error listed */
export async function readGraphFile(file: string): Promise<GraphDocument> {
  // a bundled template's name (e.g. ddpm-swissroll) stands for its file when no such file exists
  if (!existsSync(file) && TEMPLATE_NAMES.includes(file)) file = templatePath(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new BadInputError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const r = parseDocument(text, registry, { fileName: file });
  if (!r.ok) throw new BadInputError(`\n${formatDocumentErrors(r.errors, file)}`);
  return r.doc;
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
  const g = validateGraph(doc, registry, { parsed: true });
  if (values.json) {
    io.out(JSON.stringify({ ok: g.ok, file, diagnostics: g.diagnostics }));
  } else {
    for (const d of g.diagnostics) io.out(`${file}: ${formatDiagnostic(d)}`);
    const errors = g.diagnostics.filter((d) => d.severity === 'error').length;
    io.out(`${file}: ${g.ok ? 'valid' : 'invalid'} (${errors} error(s), ${g.diagnostics.length - errors} warning(s))`);
  }
  return g.ok ? 0 : 2;
}

/** validates and compiles, or throws BadInputError listing the diagnostics */
export function compileOrExplain(doc: GraphDocument, file: string): { graph: ValidatedGraph; program: Program } {
  const r = loadParsed(doc, { fileName: file });
  if (!r.ok) throw new BadInputError(`${file} has errors:\n${r.diagnostics.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}`);
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
