/**
 * The renderer's boundary. src-renderer/ may import only:
 *   - its own files,
 *   - the shared core (SHARED_CORE): the document schema, the node specs (nodes/: ports,
 *     params, math, `apply` over the abstract Ops), graph validation and diagnostics, the
 *     API contract and training wire protocol (src-main/api/), and the toy datasets drawn
 *     behind samples,
 *   - the packages in RENDERER_PACKAGES.
 * The shared core itself is framework-free: it imports only its own files and CORE_PACKAGES
 * (no tfjs, onnxruntime, Node built-ins, React). Every file of nodes/ is held to that.
 *
 * Enforced twice: `rendererBoundary()` is a Vite plugin (vite.web.config.ts and the
 * renderer section of electron.vite.config.ts) that fails the build at the first import
 * across the line, and src-renderer/test/boundary.test.ts runs `scanRendererBoundary`
 * over the same import graph statically.
 */
import { builtinModules } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { importGraph, rel, sourceFiles } from './importGraph.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** repository paths (a folder ends in '/') the renderer may import besides src-renderer/ */
export const SHARED_CORE = [
  'nodes/',
  'src-main/api/',
  'src-main/graph/',
  'src-main/document/schema.ts',
  'src-main/document/errors.ts',
  'src-main/document/suggest.ts',
  'src-main/data/rng.ts',
  'src-main/data/toy.ts',
] as const;

/** packages the shared core may import */
export const CORE_PACKAGES = ['zod'] as const;
/** packages renderer files may import */
export const RENDERER_PACKAGES = [...CORE_PACKAGES, 'react', 'react-dom', '@xyflow/react', 'immer', 'katex', 'uplot'] as const;

const RENDERER_DIR = 'src-renderer/';
const EXTENSION = /\.(tsx?|mts|mjs|js)$/;
const NODE_BUILTINS = new Set(builtinModules);

function packageOf(source: string): string {
  const parts = source.split('/');
  return source.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** why a package may not be bundled for the renderer (beyond not being listed) */
function packageReason(pkg: string): string {
  if (pkg.startsWith('node:') || NODE_BUILTINS.has(pkg)) return 'Node built-ins do not exist in the sandboxed renderer';
  if (pkg.startsWith('@tensorflow/')) return 'tfjs runs in the host, never in the renderer';
  if (pkg.includes('onnx')) return 'ONNX export runs in the host';
  if (pkg === 'electron') return 'the renderer reaches Electron only through the preload bridge';
  return 'it is not a renderer package';
}

/** where a repository path stands: the renderer, the shared core, or outside */
export function areaOf(repoPath: string): 'renderer' | 'core' | 'outside' {
  if (repoPath.startsWith(RENDERER_DIR)) return 'renderer';
  const bare = repoPath.replace(EXTENSION, '');
  for (const entry of SHARED_CORE) {
    if (entry.endsWith('/') ? repoPath.startsWith(entry) : bare === entry.replace(EXTENSION, '')) return 'core';
  }
  return 'outside';
}

/**
 * The violation of one import, or undefined. `importer` and `resolved` are absolute paths;
 * `resolved` is the file a relative or absolute specifier names.
 */
export function checkImport(importer: string, source: string, resolved: string | undefined, root = REPO_ROOT): string | undefined {
  const from = rel(root, importer);
  if (from.startsWith('..') || from.includes('node_modules/')) return undefined;
  const area = areaOf(from);
  if (area === 'outside') return undefined;
  const bare = !source.startsWith('.') && !isAbsolute(source);
  if (bare) {
    const pkg = packageOf(source);
    const allowed: readonly string[] = area === 'core' ? CORE_PACKAGES : RENDERER_PACKAGES;
    if (allowed.includes(pkg)) return undefined;
    const what = area === 'core' ? `the shared core may import only ${CORE_PACKAGES.join(', ')}` : `renderer packages: ${RENDERER_PACKAGES.join(', ')}`;
    return `${from} imports "${source}": ${packageReason(pkg)} (${what})`;
  }
  const target = resolved ?? resolve(dirname(importer), source.replace(/[?#].*$/, ''));
  const to = rel(root, target);
  if (to.includes('node_modules/')) return undefined;
  const toArea = areaOf(to);
  if (toArea === 'core' || (toArea === 'renderer' && area === 'renderer')) return undefined;
  const why = toArea === 'renderer' ? 'the shared core must not depend on the renderer' : `it is outside the renderer's shared core (${SHARED_CORE.join(', ')})`;
  return `${from} imports "${source}" (${to}): ${why}`;
}

export interface Violation {
  file: string;
  line: number;
  message: string;
}

/** renderer sources (tests and configs excluded), every file of nodes/ and of the shared core's folders */
export function boundaryEntries(root = REPO_ROOT): string[] {
  const renderer = sourceFiles(resolve(root, 'src-renderer')).filter((f) => {
    const p = rel(root, f);
    return !p.startsWith('src-renderer/test/') && !/(^|\/)vitest\.config\.ts$/.test(p);
  });
  const folders = SHARED_CORE.filter((e) => e.endsWith('/')).flatMap((e) => sourceFiles(resolve(root, e)));
  return [...renderer, ...folders];
}

/** every boundary violation in the static import graph of the renderer and the shared core */
export function scanRendererBoundary(root = REPO_ROOT): Violation[] {
  const inside = (f: string) => areaOf(rel(root, f)) !== 'outside';
  const graph = importGraph(boundaryEntries(root), inside);
  const out: Violation[] = [];
  for (const [file, refs] of graph) {
    if (!inside(file)) continue;
    for (const r of refs) {
      const message = checkImport(file, r.source, r.resolved, root);
      if (message) out.push({ file: rel(root, file), line: r.line, message });
    }
  }
  return out;
}

const VITE_INTERNAL = /^(\0|\/@|virtual:|vite\/|@vite\/|@react-refresh)/;

/** the Vite plugin: fails the build at the first import across the renderer's boundary */
export function rendererBoundary(opts: { root?: string; rendererRoot?: string } = {}): Plugin {
  const root = resolve(opts.root ?? REPO_ROOT);
  const rendererRoot = opts.rendererRoot ?? resolve(root, 'src-renderer');
  const fail = (ctx: { error(message: string): never }, message: string) => ctx.error(`renderer-boundary: ${message}`);
  return {
    name: 'renderer-boundary',
    enforce: 'pre',
    resolveId(source, importer) {
      if (!importer || VITE_INTERNAL.test(source) || importer.startsWith('\0')) return null;
      const file = importer.replace(/[?#].*$/, '');
      let resolved: string | undefined;
      if (isAbsolute(source)) resolved = source.startsWith(root) ? source : resolve(rendererRoot, `.${source}`);
      const message = checkImport(file, source, resolved?.replace(/[?#].*$/, ''), root);
      if (message) fail(this, message);
      return null;
    },
    load(id) {
      if (id.startsWith('\0')) return null;
      const file = id.replace(/[?#].*$/, '');
      const p = rel(root, file);
      const forbiddenPackage = /node_modules\/(@tensorflow\/|onnxruntime|onnx-proto|electron\/)/.test(p);
      if (forbiddenPackage || (!p.startsWith('..') && !p.includes('node_modules/') && areaOf(p) === 'outside')) {
        fail(this, `bundling ${p}, which is outside the renderer and its shared core`);
      }
      return null;
    },
  };
}
