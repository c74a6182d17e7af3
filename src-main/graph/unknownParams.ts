/**
 * Keys of a node's params that its type does not have (`latnetDim` for `latentDim`). zod
 * objects strip unknown keys, so a misspelt param would silently fall back to its
 * default; this finds them, with a did-you-mean, for an 'unknown-param' warning.
 *
 * The schema is walked, not the parsed value (a transform may drop or rename keys): through
 * defaults, optionals, nullables, readonly, catch and the input side of pipes (transforms),
 * into nested objects (e.g. an objective's optimizer) and arrays of objects. Objects that
 * allow extra keys (loose) or refuse them (strict: zod reports those as errors already) are
 * not reported.
 *
 * parseDocument records the unknown params of each node it returns (unknownParamsOf), so
 * that validation of a parsed document, whose params no longer hold those keys, still
 * reports them.
 */
import type { z } from 'zod';
import { closestMatch } from '../document/suggest';

export interface UnknownParam {
  /** the unknown key */
  key: string;
  /** where it is inside params, e.g. `latnetDim` or `optimizer.lrr` */
  path: string;
  /** the closest known key at that place, when one is close */
  suggestion?: string;
  /** the known keys at that place, when there is no close one */
  known?: string[];
}

interface ZodDef {
  type?: string;
  shape?: Record<string, unknown>;
  catchall?: unknown;
  innerType?: unknown;
  in?: unknown;
  element?: unknown;
}

const defOf = (schema: unknown): ZodDef | undefined => (schema as { _zod?: { def?: ZodDef } } | undefined)?._zod?.def;

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional', 'success']);

/** the schema under defaults, optionals and the like, and the input side of pipes */
function unwrap(schema: unknown): ZodDef | undefined {
  let def = defOf(schema);
  for (let i = 0; i < 32 && def; i++) {
    if (def.type && WRAPPERS.has(def.type) && def.innerType) def = defOf(def.innerType);
    else if (def.type === 'pipe' && def.in) def = defOf(def.in);
    else break;
  }
  return def;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** the unknown keys of `value` under `schema` (at most `limit`) */
export function unknownParamKeys(schema: z.ZodType | unknown, value: unknown, limit = 50): UnknownParam[] {
  const out: UnknownParam[] = [];
  const visit = (s: unknown, v: unknown, prefix: string, depth: number) => {
    if (out.length >= limit || depth > 16) return;
    const def = unwrap(s);
    if (!def) return;
    if (def.type === 'array' && Array.isArray(v)) {
      v.slice(0, 1000).forEach((item, i) => visit(def.element, item, `${prefix}[${i}]`, depth + 1));
      return;
    }
    if (def.type !== 'object' || !def.shape || !isPlainObject(v)) return;
    const shape = def.shape;
    const known = Object.keys(shape);
    // a catchall (loose: anything goes; strict: never, already an error) means no silent drop
    const strips = def.catchall === undefined;
    for (const [k, child] of Object.entries(v)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (Object.hasOwn(shape, k)) {
        visit(shape[k], child, path, depth + 1);
        continue;
      }
      if (!strips) continue;
      const suggestion = closestMatch(k, known);
      out.push({ key: k, path, ...(suggestion !== undefined ? { suggestion } : { known }) });
      if (out.length >= limit) return;
    }
  };
  visit(schema, value, '', 0);
  return out;
}

/** `did you mean "latentDim"?` or `its params are: a, b` (with the path prefix of a nested key) */
export function unknownParamHint(u: UnknownParam): string {
  const prefix = u.path.slice(0, u.path.length - u.key.length);
  if (u.suggestion !== undefined) return `did you mean "${prefix}${u.suggestion}"?`;
  const known = u.known ?? [];
  return known.length ? `${prefix ? `the params of ${prefix.replace(/\.$/, '')}` : 'its params'} are: ${known.join(', ')}` : 'it takes no params';
}

const recorded = new WeakMap<object, UnknownParam[]>();

/** records the unknown params of a node instance parseDocument returns */
export function recordUnknownParams(node: object, unknown: UnknownParam[]): void {
  if (unknown.length) recorded.set(node, unknown);
}

/** the unknown params parseDocument found in this node instance (none for one it did not return) */
export function unknownParamsOf(node: object): UnknownParam[] {
  return recorded.get(node) ?? [];
}
