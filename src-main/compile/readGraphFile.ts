/**
 * The graph documents other documents refer to (a distillation's teacher), read from disk:
 * a name without a slash or `.json` is a bundled template; anything else is a document file,
 * relative to `baseDir` (the folder of the document that refers to it; the working folder
 * when there is none). Run folders named beside them resolve against `baseDir` too.
 */
import { isAbsolute, resolve } from 'node:path';
import type { NodeRegistry } from '../../nodes/index';
import { formatDocumentErrors, parseDocument, parseDocumentValue, DOCUMENT_LIMITS } from '../document/index';
import { readRegularFileSync } from '../fs/readRegularFile';
import { externalResolver, type ReadGraph } from '../graph/externals';
import { readTemplate, TEMPLATE_NAMES } from '../document/templates';
import { isTemplateRef } from '../../nodes/common/importedNetwork';

/** `path` against `baseDir` unless absolute */
export const resolveAgainst = (baseDir: string, path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));

export function graphFileReader(registry: NodeRegistry, baseDir: string = process.cwd()): ReadGraph {
  return (graph) => {
    if (isTemplateRef(graph)) {
      const name = graph.replace(/^template:/, '');
      if (!TEMPLATE_NAMES.includes(name)) return `there is no bundled template "${name}" (a document file needs a path ending in .json); the templates are: ${TEMPLATE_NAMES.join(', ')}`;
      const r = parseDocumentValue(readTemplate(name), registry, { fileName: name });
      return r.ok ? { doc: r.doc, where: `template:${name}`, parsed: true } : formatDocumentErrors(r.errors, name);
    }
    const file = resolveAgainst(baseDir, graph);
    let text: string;
    try {
      text = readRegularFileSync(file, { maxBytes: DOCUMENT_LIMITS.maxBytes, what: 'a graph document' }).toString('utf8');
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    const r = parseDocument(text, registry, { fileName: file });
    return r.ok ? { doc: r.doc, where: file, parsed: true } : formatDocumentErrors(r.errors, file);
  };
}

/** ValidateOptions.resolveExternal for documents on disk */
export const fileExternalResolver = (registry: NodeRegistry, baseDir: string = process.cwd()) =>
  externalResolver(registry, graphFileReader(registry, baseDir), (run) => resolveAgainst(baseDir, run));
