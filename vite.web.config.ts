/**
 * Builds the studio's renderer (src-renderer/) for web mode: `vite build -c vite.web.config.ts`
 * writes dist/web, which the web-mode server (src-main/app/webServer.ts) serves next to its
 * WebSocket API. `vite -c vite.web.config.ts` serves it for development (point it at a
 * running host with ?token=...; the dev server proxies /api to GENLOOM_API, default
 * ws://127.0.0.1:7777).
 *
 * The renderer imports only its own files, the shared core and a few packages: the
 * `renderer-boundary` plugin (scripts/rendererBoundary.ts) fails the build otherwise.
 */
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { rendererBoundary } from './scripts/rendererBoundary.ts';

const root = fileURLToPath(new URL('./src-renderer', import.meta.url));

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
  plugins: [rendererBoundary({ root: path.resolve(root, '..'), rendererRoot: root }), react(), devCsp()],
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
