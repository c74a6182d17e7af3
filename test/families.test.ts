/**
 * Families are modules: each family's node types, templates and bars live in its folder
 * nodes/<family>/, and nothing outside that folder names its node types.
 */
import { fileExternalResolver } from '../src-main/compile/readGraphFile';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAMILIES, registry } from '../nodes/index';
import { parseDocument } from '../src-main/document/parseDocument';
import { validateGraph } from '../src-main/graph/validate';

const root = new URL('..', import.meta.url).pathname;

function files(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, keep));
    else if (keep(p)) out.push(p);
  }
  return out;
}

/** string literals ('...', "...", `...` without interpolation) of a TypeScript source */
export function stringLiterals(src: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\$]|\\.)*)`/g;
  for (const m of src.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

describe('family modules', () => {
  it.each(FAMILIES.map((f) => [f.id, f] as const))('%s: its node types are declared in nodes/%s/', (id, f) => {
    const dir = join(root, 'nodes', id);
    expect(existsSync(join(dir, 'index.ts'))).toBe(true);
    const src = readdirSync(dir)
      .filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'))
      .map((n) => readFileSync(join(dir, n), 'utf8'))
      .join('\n');
    for (const s of f.nodes) expect(src, s.type).toContain(`type: '${s.type}'`);
  });

  it.each(FAMILIES.map((f) => [f.id, f] as const))('%s: its templates are the files of nodes/%s/templates/, and each validates', (id, f) => {
    const dir = join(root, 'nodes', id, 'templates');
    const onDisk = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort() : [];
    expect(onDisk).toEqual(f.templates.map((t) => t.name).sort());
    for (const t of f.templates) {
      const parsed = parseDocument(readFileSync(join(dir, `${t.name}.json`), 'utf8'), registry);
      expect(parsed.ok, t.name).toBe(true);
      if (parsed.ok) expect(validateGraph(parsed.doc, registry, { resolveExternal: fileExternalResolver(registry) }).ok, t.name).toBe(true);
    }
  });

  it('no non-test file of src-main/ or src-renderer/ names a registered node type id', () => {
    const ids = new Set(registry.types());
    const offenders: string[] = [];
    for (const dir of ['src-main', 'src-renderer']) {
      for (const f of files(join(root, dir), (p) => /\.(ts|tsx)$/.test(p) && !/\.test\.tsx?$/.test(p) && !p.includes('/test/') && !p.includes('__fixtures__'))) {
        for (const lit of stringLiterals(readFileSync(f, 'utf8'))) if (ids.has(lit)) offenders.push(`${relative(root, f)}: '${lit}'`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the scan catches a node type id in a string literal', () => {
    const lits = stringLiterals(`const a = 'x'; if (n.type === "${registry.types()[3]}") f(\`y\`);`);
    expect(lits).toContain(registry.types()[3]);
  });
});
