/**
 * The import structure of src-main, from a static scan of its import statements (type-only
 * and dynamic imports included): no import cycle, and no upward import from the training
 * runtime (the loop takes its metrics hook from its caller).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findCycles, importGraph, importsOf, rel, sourceFiles } from '../scripts/importGraph';

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const SRC = resolve(ROOT, 'src-main');
const files = sourceFiles(SRC);
const graph = importGraph(files, (f) => f.startsWith(`${SRC}/`));
const inSrc = [...graph].filter(([f]) => f.startsWith(`${SRC}/`));

/** folders of src-main that src-main/<folder> must not import */
const FORBIDDEN: Record<string, string[]> = {
  runtime: ['eval', 'session', 'app', 'cli'],
  eval: ['session', 'app', 'cli'],
  session: ['app', 'cli'],
  export: ['app', 'cli', 'session'],
};

describe('src-main imports', () => {
  it('the scan reads static, type-only and dynamic imports, not comments', () => {
    const refs = importsOf(
      resolve(SRC, 'x.ts'),
      "import a from './a';\nimport type { B } from './b';\n// import c from './c';\n/* import d from './d'; */\nexport { e } from './e';\nconst f = await import('./f');\nimport {\n  g,\n  type H,\n} from './g';\nimport { type I } from './i';\nimport './j.css';\n",
    );
    expect(refs.map((r) => [r.source, r.typeOnly, r.dynamic])).toEqual([
      ['./a', false, false],
      ['./b', true, false],
      ['./e', false, false],
      ['./g', false, false],
      ['./i', true, false],
      ['./j.css', false, false],
      ['./f', false, true],
    ]);
  });

  it('finds a cycle when there is one', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']], ['e', ['e']]]);
    expect(findCycles(g)).toEqual([['a', 'b', 'c'], ['e']]);
  });

  it('has no import cycle among src-main files', () => {
    expect(inSrc.length).toBeGreaterThan(50);
    const adjacency = new Map(inSrc.map(([f, refs]) => [f, refs.flatMap((r) => (r.resolved?.startsWith(`${SRC}/`) ? [r.resolved] : []))]));
    const cycles = findCycles(adjacency).map((c) => c.map((f) => rel(ROOT, f)).join(' <-> '));
    expect(cycles).toEqual([]);
  });

  it('has no upward import from the runtime (to eval, session, app, cli) or from eval, session, export', () => {
    const bad: string[] = [];
    for (const [file, refs] of inSrc) {
      const folder = rel(SRC, file).split('/')[0]!;
      const forbidden = FORBIDDEN[folder] ?? [];
      for (const r of refs) {
        const to = r.resolved && r.resolved.startsWith(`${SRC}/`) ? rel(SRC, r.resolved).split('/')[0]! : undefined;
        if (to && forbidden.includes(to)) bad.push(`${rel(ROOT, file)}:${r.line} imports ${r.source}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
