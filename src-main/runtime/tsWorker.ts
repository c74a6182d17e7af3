/**
 * Worker threads whose entry is a TypeScript file: the worker's bootstrap registers tsx's
 * loader, then imports the entry. (Passing the loader through execArgv does not work for
 * workers on Node 20.) Built bundles (electron-vite) load JavaScript entries directly.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

let tsxApiUrl: string | undefined;
/** file URL of tsx's ESM API (`tsx/esm/api`, its `import` entry) */
function resolveTsxApi(): string {
  if (tsxApiUrl) return tsxApiUrl;
  try {
    const resolved = import.meta.resolve?.('tsx/esm/api');
    if (resolved && resolved.endsWith('.mjs')) return (tsxApiUrl = resolved);
  } catch {
    /* not available here (some test runners): read the package's exports */
  }
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, unknown> };
  const entry = pkg.exports?.['./esm/api'] as { import?: string | { default?: string } } | undefined;
  const file = typeof entry?.import === 'string' ? entry.import : (entry?.import?.default ?? './dist/esm/api/index.mjs');
  return (tsxApiUrl = pathToFileURL(join(dirname(pkgPath), file)).href);
}

/** source for `new Worker(source, { eval: true })` that runs the TypeScript module `entry` */
export function tsWorkerBootstrap(entry: URL): string {
  return `import(${JSON.stringify(resolveTsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
}
