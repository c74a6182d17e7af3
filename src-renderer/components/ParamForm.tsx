/**
 * A form generated from a node's zod params (through z.toJSONSchema): numbers with bounds,
 * integers, enums as selects, booleans as checkboxes, integer arrays as comma lists,
 * nested objects (the optimiser) as fieldsets, `trains` as a pick list of networks.
 */
import { useEffect, useState } from 'react';
import { z } from 'zod';
import type { GraphDocument } from '../../src-main/document/schema';
import { setParam } from '../model/actions';
import type { ParamHint } from '../../nodes/core/defineNode';
import { ignoredParams } from '../model/paramContext';
import { defaultParams, specOf, type AnyNodeSpec } from '../model/registry';
import { studio } from '../studio';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minItems?: number;
  maxItems?: number;
  description?: string;
  anyOf?: JsonSchema[];
}

const schemaCache = new Map<string, JsonSchema>();
export function paramsSchema(spec: AnyNodeSpec): JsonSchema {
  let s = schemaCache.get(spec.type);
  if (!s) {
    try {
      s = z.toJSONSchema(spec.params, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    } catch {
      s = { type: 'object', properties: {} };
    }
    schemaCache.set(spec.type, s);
  }
  return s;
}

const SAFE = 9007199254740991;
export function humanize(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

function bounds(s: JsonSchema): string {
  const lo = s.minimum !== undefined && s.minimum > -SAFE ? `≥ ${s.minimum}` : s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : '';
  const hi = s.maximum !== undefined && s.maximum < SAFE ? `≤ ${s.maximum}` : s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : '';
  return [lo, hi].filter(Boolean).join(', ');
}

function checkNumber(s: JsonSchema, n: number, int: boolean): string | undefined {
  if (!Number.isFinite(n)) return 'not a number';
  if (int && !Number.isInteger(n)) return 'must be an integer';
  if (s.minimum !== undefined && n < s.minimum) return `must be ≥ ${s.minimum}`;
  if (s.maximum !== undefined && n > s.maximum) return `must be ≤ ${s.maximum}`;
  if (s.exclusiveMinimum !== undefined && n <= s.exclusiveMinimum) return `must be > ${s.exclusiveMinimum}`;
  if (s.exclusiveMaximum !== undefined && n >= s.exclusiveMaximum) return `must be < ${s.exclusiveMaximum}`;
  if (s.multipleOf !== undefined && Math.abs(n / s.multipleOf - Math.round(n / s.multipleOf)) > 1e-9) return `must be a multiple of ${s.multipleOf}`;
  return undefined;
}

/** a zod issue in words a user reads next to the field */
export function friendlyIssue(issue: z.core.$ZodIssue): string {
  const i = issue as z.core.$ZodIssue & { minimum?: number | bigint; maximum?: number | bigint; inclusive?: boolean; divisor?: number; expected?: string; origin?: string };
  const items = i.origin === 'array';
  switch (i.code) {
    case 'too_small':
      return items ? `at least ${i.minimum} entries` : `must be ${i.inclusive === false ? '>' : '≥'} ${i.minimum}`;
    case 'too_big':
      return items ? `at most ${i.maximum} entries` : `must be ${i.inclusive === false ? '<' : '≤'} ${i.maximum}`;
    case 'not_multiple_of':
      return `must be a multiple of ${i.divisor}`;
    case 'invalid_type':
      return i.expected === 'int' ? 'must be an integer' : `must be ${i.expected === 'number' ? 'a number' : `a ${i.expected}`}`;
    default:
      return 'not a valid value';
  }
}

/** sets `path` to `value` in a copy of `obj` */
function withValue(obj: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const [k, ...rest] = path;
  if (k === undefined) return obj;
  const inner = obj[k] && typeof obj[k] === 'object' && !Array.isArray(obj[k]) ? (obj[k] as Record<string, unknown>) : {};
  return { ...obj, [k]: rest.length ? withValue(inner, rest, value) : value };
}

/**
 * Checks one field's new value against the node's whole params schema (zod), before anything
 * is written to the graph: the friendly text of the first issue at that field, or undefined.
 */
export function checkParam(spec: AnyNodeSpec, params: Record<string, unknown>, path: string[], value: unknown): string | undefined {
  const r = spec.params.safeParse(withValue({ ...defaultParams(spec), ...params }, path, value));
  if (r.success) return undefined;
  const here = r.error.issues.find((i) => path.every((p, k) => String(i.path[k]) === p));
  return here ? friendlyIssue(here) : undefined;
}

interface FieldProps {
  /** the whole-params check of a new value at a path (see checkParam) */
  check: (path: string[], value: unknown) => string | undefined;
  nodeId: string;
  path: string[];
  schema: JsonSchema;
  value: unknown;
  doc: GraphDocument;
  /** unit shown after the label (ParamHint.units) */
  units?: string;
}

function NumberField({ nodeId, path, schema, value, check }: FieldProps) {
  const int = schema.type === 'integer';
  const [text, setText] = useState(value === undefined ? '' : String(value));
  const [err, setErr] = useState<string>();
  useEffect(() => {
    if (Number(text) !== value) setText(value === undefined ? '' : String(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  const step = schema.multipleOf ?? (int ? 1 : 'any');
  // an invalid draft stays in the field (never in the graph) until fixed; blur or Escape reverts it
  const revert = () => {
    setText(value === undefined ? '' : String(value));
    setErr(undefined);
  };
  return (
    <>
      <input
        type="number"
        className={err ? 'invalid' : ''}
        value={text}
        step={step}
        min={schema.minimum !== undefined && schema.minimum > -SAFE ? schema.minimum : undefined}
        max={schema.maximum !== undefined && schema.maximum < SAFE ? schema.maximum : undefined}
        aria-label={path.join('.')}
        data-param={path.join('.')}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          if (t.trim() === '') return setErr('required');
          const n = Number(t);
          const problem = checkNumber(schema, n, int) ?? check(path, n);
          setErr(problem);
          if (problem) return;
          if (n !== value) setParam(studio().editor, nodeId, path, n);
        }}
        onBlur={() => {
          if (err) revert();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && err) {
            e.stopPropagation();
            revert();
          }
        }}
      />
      {err ? <div className="field-err">{err}</div> : null}
    </>
  );
}

function ListField({ nodeId, path, schema, value, check }: FieldProps) {
  const item = schema.items ?? {};
  const numeric = item.type === 'integer' || item.type === 'number';
  const show = (v: unknown) => (Array.isArray(v) ? v.join(', ') : '');
  const [text, setText] = useState(show(value));
  const [err, setErr] = useState<string>();
  useEffect(() => {
    setText((t) => (sameList(parseList(t, numeric), value) ? t : show(value)));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <>
      <input
        type="text"
        value={text}
        className={err ? 'invalid' : ''}
        placeholder={numeric ? 'e.g. 128, 128' : 'comma separated'}
        aria-label={path.join('.')}
        data-param={path.join('.')}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          const list = parseList(t, numeric);
          let problem: string | undefined;
          if (numeric) {
            for (const n of list as number[]) {
              problem = checkNumber(item, n, item.type === 'integer');
              if (problem) break;
            }
          }
          if (!problem && schema.maxItems !== undefined && list.length > schema.maxItems) problem = `at most ${schema.maxItems} entries`;
          if (!problem && schema.minItems !== undefined && list.length < schema.minItems) problem = `at least ${schema.minItems} entries`;
          problem ??= check(path, list);
          setErr(problem);
          if (problem) return;
          if (!sameList(list, value)) setParam(studio().editor, nodeId, path, list);
        }}
        onBlur={() => {
          if (!err) return;
          setText(show(value));
          setErr(undefined);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && err) {
            e.stopPropagation();
            setText(show(value));
            setErr(undefined);
          }
        }}
      />
      {err ? <div className="field-err">{err}</div> : null}
    </>
  );
}

function parseList(t: string, numeric: boolean): unknown[] {
  const parts = t
    .split(/[,\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);
  return numeric ? parts.map(Number) : parts;
}
function sameList(a: unknown[], b: unknown): boolean {
  return Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
}

function TrainsField({ nodeId, path, value, doc }: FieldProps) {
  const picked = new Set(Array.isArray(value) ? (value as string[]) : []);
  const networks = doc.nodes.filter((n) => specOf(n.type)?.role === 'network');
  const toggle = (id: string) => {
    const next = networks.map((n) => n.id).filter((x) => (x === id ? !picked.has(x) : picked.has(x)));
    setParam(studio().editor, nodeId, path, next);
  };
  return (
    <div className="trains" data-param={path.join('.')}>
      {networks.length === 0 ? <span className="muted">no network in the graph</span> : null}
      {networks.map((n) => (
        <label key={n.id} className="check">
          <input type="checkbox" checked={picked.has(n.id)} onChange={() => toggle(n.id)} />
          {n.id}
        </label>
      ))}
      <div className="hint">{picked.size ? 'updates only the ticked networks' : 'none ticked: every network upstream of this loss'}</div>
    </div>
  );
}

function Field(props: FieldProps) {
  const { schema, path, nodeId, value } = props;
  const key = path[path.length - 1]!;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  let control: React.ReactNode;
  if (schema.const !== undefined) control = <span className="const">{String(schema.const)}</span>;
  else if (schema.enum) {
    control = (
      <select value={String(value ?? '')} aria-label={path.join('.')} data-param={path.join('.')} onChange={(e) => setParam(studio().editor, nodeId, path, schema.enum!.find((x) => String(x) === e.target.value))}>
        {schema.enum.map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    );
  } else if (type === 'boolean') {
    control = <input type="checkbox" checked={value === true} aria-label={path.join('.')} data-param={path.join('.')} onChange={(e) => setParam(studio().editor, nodeId, path, e.target.checked)} />;
  } else if (type === 'number' || type === 'integer') control = <NumberField {...props} />;
  else if (type === 'array' && key === 'trains') control = <TrainsField {...props} />;
  else if (type === 'array') control = <ListField {...props} />;
  else if (type === 'object' && schema.properties) {
    const obj = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
    return (
      <fieldset className="fieldset">
        <legend>{humanize(key)}</legend>
        {Object.entries(schema.properties).map(([k, s]) => (
          <Field key={k} {...props} path={[...path, k]} schema={s} value={obj[k] ?? s.default} />
        ))}
      </fieldset>
    );
  } else {
    control = (
      <input
        type="text"
        value={String(value ?? '')}
        aria-label={path.join('.')}
        data-param={path.join('.')}
        onChange={(e) => setParam(studio().editor, nodeId, path, e.target.value)}
      />
    );
  }
  const b = type === 'number' || type === 'integer' ? bounds(schema) : '';
  return (
    <div className="field">
      <label className="field-label" title={path.join('.')}>
        {humanize(key)}
        {type === 'integer' ? <span className="field-kind">int</span> : null}
        {b ? <span className="field-bounds">{b}</span> : null}
        {props.units ? <span className="field-units">{props.units}</span> : null}
      </label>
      <div className="field-control">{control}</div>
    </div>
  );
}

export function ParamForm({ nodeId, spec, params, doc }: { nodeId: string; spec: AnyNodeSpec; params: Record<string, unknown>; doc: GraphDocument }) {
  const schema = paramsSchema(spec);
  const props = Object.entries(schema.properties ?? {});
  const defaults = defaultParams(spec);
  if (!props.length) return <div className="muted">This node has no parameters.</div>;
  const check = (path: string[], value: unknown) => checkParam(spec, params, path, value);
  const connected = new Set(doc.edges.filter((e) => e.to[0] === nodeId).map((e) => e.to[1]));
  const ignored = ignoredParams(spec, connected);
  return (
    <div className="param-form" data-node={nodeId}>
      {props.map(([k, s]) => {
        const v = params[k] !== undefined ? params[k] : s.default;
        const merged = s.type === 'object' && params[k] && typeof params[k] === 'object' ? { ...(s.default as object), ...(params[k] as object) } : v;
        const hint = (spec.ui as Record<string, ParamHint | undefined> | undefined)?.[k];
        if (hint?.hidden) return null;
        if (hint?.showWhen && !Object.entries(hint.showWhen).every(([other, vals]) => vals.includes(params[other] ?? defaults[other]))) return null;
        const why = ignored.get(k);
        if (why) {
          // shown read-only with the reason, so nobody edits a value the node does not use
          return (
            <div key={k} className="field field-ignored" data-ignored={k}>
              <label className="field-label" title={k}>
                {humanize(k)}
              </label>
              <div className="field-control">
                <input type="text" value={String(merged ?? '')} readOnly disabled aria-label={k} data-param={k} />
                <div className="hint">{why}</div>
              </div>
            </div>
          );
        }
        const field = <Field key={k} nodeId={nodeId} path={[k]} schema={s} value={merged} doc={doc} units={hint?.units} check={check} />;
        return hint?.advanced ? (
          <details key={k} className="field-advanced">
            <summary>advanced: {humanize(k)}</summary>
            {field}
          </details>
        ) : (
          field
        );
      })}
    </div>
  );
}
