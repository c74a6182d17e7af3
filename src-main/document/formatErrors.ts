/** DocumentError[] -> lines a person can read in a terminal or a dialog. */
import type { DocumentError } from './errors';

/** errors printed at most, by default; the rest are counted */
export const MAX_PRINTED_ERRORS = 50;

/** `... and 12 more errors` for the errors past `max`, or undefined when there are none */
export function moreLine(total: number, max: number, noun = 'error'): string | undefined {
  const more = total - max;
  return more > 0 ? `... and ${more} more ${noun}${more === 1 ? '' : 's'}` : undefined;
}

/**
 * One line per error: `graph.json: nodes[3].params.hidden: expected a number, received "abc"`.
 * The file name is `fileName`, else the error's own `file`, else left out; an empty path
 * is left out. At most `max` (50) errors are printed, then `... and N more errors`.
 */
export function formatDocumentErrors(errors: readonly DocumentError[], fileName?: string, opts: { max?: number } = {}): string {
  const max = opts.max ?? MAX_PRINTED_ERRORS;
  const more = moreLine(errors.length, max);
  const lines = errors
    .slice(0, max)
    .map((e) => {
      const parts: string[] = [];
      const file = fileName ?? e.file;
      if (file) parts.push(file);
      if (e.path) parts.push(e.path);
      parts.push(e.message);
      return parts.join(': ');
    });
  if (more) lines.push(more);
  return lines.join('\n');
}
