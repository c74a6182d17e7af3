/** argument parsing shared by the commands */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

/** a bad input file or run folder (exit 2, without the usage hint) */
export class BadInputError extends UsageError {}

/** parseArgs that turns its errors into UsageError */
export function args<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, positionals: number) {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    if (r.positionals.length !== positionals) throw new UsageError(`expected ${positionals} argument(s), got ${r.positionals.length}`);
    return r;
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError((e as Error).message);
  }
}

export function intOpt(v: string | undefined, name: string, def?: number): number | undefined {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got "${v}"`);
  return n;
}

