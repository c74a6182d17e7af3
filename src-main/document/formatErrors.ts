/** DocumentError[] -> lines a person can read in a terminal or a dialog. */
import type { DocumentError } from './errors';

/**
 * One line per error: `graph.json: nodes[3].params.hidden: expected a number, received "abc"`.
 * The file name is `fileName`, else the error's own `file`, else left out; an empty path
 * is left out.
 */
export function formatDocumentErrors(errors: readonly DocumentError[], fileName?: string): string {
  return errors
    .map((e) => {
      const parts: string[] = [];
      const file = fileName ?? e.file;
      if (file) parts.push(file);
      if (e.path) parts.push(e.path);
      parts.push(e.message);
      return parts.join(': ');
    })
    .join('\n');
}
