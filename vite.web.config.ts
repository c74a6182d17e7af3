/**
 * Builds the studio's renderer (src-renderer/) for web mode: `vite build -c vite.web.config.ts`
 * writes dist/web, which the web-mode server (src-main/app/webServer.ts) serves next to its
 * WebSocket API. `vite -c vite.web.config.ts` serves it for development (point it at a
 * running host with ?token=...; the dev server proxies /api to GENLOOM_API, default
 * ws://127.0.0.1:7777).
 *
 * The renderer must never pull in tfjs, onnxruntime, electron, node:* or the training
 * runtime: the `renderer-boundary` plugin fails the build if any of them is imported.
 */
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('./src-renderer', import.meta.url));

const FORBIDDEN: { test: (id: string) => boolean; why: string }[] = [
  { test: (id) => /(^|[\\/])@tensorflow[\\/]/.test(id) || id.startsWith('@tensorflow/'), why: 'tfjs runs in the host, never in the renderer' },
  { test: (id) => id.includes('onnxruntime') || id.includes('onnx-proto'), why: 'ONNX export runs in the host' },
  { test: (id) => id === 'electron' || id.startsWith('electron/'), why: 'the renderer talks to Electron only through the preload bridge' },
  { test: (id) => id.startsWith('node:') || ['fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto'].includes(id), why: 'the renderer is sandboxed: no Node built-ins' },
  { test: (id) => /src-main[\\/](runtime|compile|export|app)[\\/](?!protocol\.ts)/.test(id), why: 'only src-main/runtime/protocol.ts of the host runtime may be imported' },
];

/** fails the build when the renderer reaches for something it must not bundle */
function rendererBoundary(): Plugin {
  return {
    name: 'renderer-boundary',
    enforce: 'pre',
    resolveId(source, importer) {
      if (!importer) return null;
      for (const f of FORBIDDEN) {
        if (f.test(source)) this.error(`renderer-boundary: ${importer} imports "${source}" (${f.why})`);
      }
      return null;
    },
    load(id) {
      for (const f of FORBIDDEN) if (f.test(id)) this.error(`renderer-boundary: bundling ${id} (${f.why})`);
      return null;
    },
  };
}

/**
 * The CSP in index.html forbids inline scripts; Vite's dev server (React Refresh preamble,
 * HMR client) needs them, so it is relaxed in `serve` only. Builds keep it strict.
 */
function devCsp(): Plugin {
  return {
    name: 'dev-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      return html.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace("connect-src 'self'", "connect-src 'self' ws: http:");
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [rendererBoundary(), react(), devCsp()],
  publicDir: false,
  build: {
    outDir: path.resolve(root, '../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
    // no inlined data: URLs for fonts; KaTeX fonts ship as files next to the bundle
    assetsInlineLimit: 0,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': { target: process.env.GENLOOM_API ?? 'ws://127.0.0.1:7777', ws: true } },
  },
});
