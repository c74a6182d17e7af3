/** argument parsing shared by the commands */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

/** a bad input file or run folder (exit 2, without the usage hint) */
export class BadInputError extends UsageError {}

const NEGATIVE_NUMBER = /^-\d+(\.\d+)?(e[+-]?\d+)?$/i;

/**
 * `--n -5` as `--n=-5`: parseArgs takes a value that starts with a dash for an option, so
 * that the range check, not an "ambiguous argument" message, says what is wrong
 */
function joinNegativeValues(argv: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** parseArgs that turns its errors into UsageError */
export function args<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, positionals: number) {
  try {
    const r = parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: true, strict: true });
    if (r.positionals.length !== positionals) throw new UsageError(`expected ${positionals} argument(s), got ${r.positionals.length}`);
    return r;
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError((e as Error).message);
  }
}

/** an integer option; with a range, a value outside it is a UsageError saying the range */
export function intOpt(v: string | undefined, name: string, def?: number, range: { min?: number; max?: number } = {}): number | undefined {
  if (v === undefined) return def;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got "${v}"`);
  const { min, max } = range;
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    const want = min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `at least ${min}` : `at most ${max}`;
    throw new UsageError(`--${name} must be ${want}, got ${n}`);
  }
  return n;
}

