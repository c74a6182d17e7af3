/**
 * A static scan of the import statements of TypeScript sources: `import ... from`,
 * `export ... from`, side-effect `import 'x'`, `import type` and dynamic `import('x')`
 * with a literal. Comments are skipped; relative specifiers are resolved to files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface ImportRef {
  /** the specifier as written */
  source: string;
  /** absolute file path for a relative specifier that resolves; undefined otherwise */
  resolved?: string;
  line: number;
  typeOnly: boolean;
  dynamic: boolean;
}

/** the source text with comments replaced by spaces (strings, templates and newlines kept) */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const n = text[i + 1];
    if (c === '/' && n === '/') {
      while (i < text.length && text[i] !== '\n') (out += ' '), i++;
    } else if (c === '/' && n === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      for (; i < stop; i++) out += text[i] === '\n' ? '\n' : ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      out += c;
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') (out += text[i]), i++;
        if (c !== '`' && text[i] === '\n') break;
        out += text[i];
        i++;
      }
      if (i < text.length) (out += text[i]), i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const STATIC = /(?:^|[\n;}])\s*(import|export)\s+(type\s+)?((?:[\w*${},\s]|\btype\b)*?)\s*from\s*(['"])([^'"\n]+)\4/g;
const BARE = /(?:^|[\n;}])\s*import\s*(['"])([^'"\n]+)\1/g;
const DYNAMIC = /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g;

const EXTENSIONS = ['.ts', '.tsx', '.mts', '.js', '.mjs', '.json', '.css'];

/** the file a relative specifier names, trying TypeScript's extension and index rules */
export function resolveRelative(fromFile: string, source: string): string | undefined {
  const base = resolve(dirname(fromFile), source.replace(/[?#].*$/, ''));
  const candidates = [base, ...EXTENSIONS.map((e) => base + e), ...EXTENSIONS.map((e) => join(base, `index${e}`))];
  if (base.endsWith('.js')) candidates.push(base.slice(0, -3) + '.ts', base.slice(0, -3) + '.tsx');
  return candidates.find((p) => existsSync(p) && statSync(p).isFile());
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** every import of one file */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): ImportRef[] {
  const code = stripComments(text);
  const refs: ImportRef[] = [];
  const add = (source: string, index: number, typeOnly: boolean, dynamic: boolean) => {
    const resolved = source.startsWith('.') ? resolveRelative(file, source) : undefined;
    refs.push({ source, ...(resolved && { resolved }), line: lineAt(code, index), typeOnly, dynamic });
  };
  for (const m of code.matchAll(STATIC)) {
    const names = m[3] ?? '';
    const typeOnly = Boolean(m[2]) || (/^\{[^}]*\}$/.test(names.trim()) && names.replace(/[{}]/g, '').split(',').every((s) => !s.trim() || /^type\s/.test(s.trim())));
    add(m[5]!, m.index + m[0].indexOf(m[1]!), typeOnly, false);
  }
  for (const m of code.matchAll(BARE)) add(m[2]!, m.index + m[0].indexOf('import'), false, false);
  for (const m of code.matchAll(DYNAMIC)) add(m[2]!, m.index, false, true);
  return refs;
}

/** TypeScript sources under `dir` (recursive), tests excluded unless asked for */
export function sourceFiles(dir: string, opts: { tests?: boolean } = {}): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts') && (opts.tests || !/\.test\.tsx?$/.test(name))) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** files reachable from `entries` through resolved relative imports, with their imports */
export function importGraph(entries: string[], follow: (file: string) => boolean = () => true): Map<string, ImportRef[]> {
  const graph = new Map<string, ImportRef[]>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.pop()!;
    if (graph.has(file)) continue;
    const refs = /\.(ts|tsx|mts)$/.test(file) ? importsOf(file) : [];
    graph.set(file, refs);
    for (const r of refs) if (r.resolved && !graph.has(r.resolved) && follow(r.resolved)) queue.push(r.resolved);
  }
  return graph;
}

/** the import cycles of a graph (one per strongly connected component of 2+ files, or a self-import) */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** a path relative to `root`, with forward slashes */
export function rel(root: string, file: string): string {
  return relative(root, file).split(sep).join('/');
}
