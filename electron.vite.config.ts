/**
 * electron-vite: the desktop app, built into out/.
 *   main      src-main/app/electronEntry.ts -> out/main/index.js (ESM, "type": "module"),
 *             and the training utilityProcess src-main/app/trainingProcess.ts ->
 *             out/main/trainingProcess.js, and the export utilityProcess
 *             src-main/app/exportWorker.ts -> out/main/exportProcess.js; dependencies (tfjs, onnxruntime, ws, zod) stay
 *             external, loaded from node_modules.
 *   preload   src-main/app/preload.ts -> out/preload/index.cjs: CommonJS, because a
 *             sandboxed renderer cannot load an ESM preload; it imports only `electron`.
 *   renderer  src-renderer (React, React Flow) -> out/renderer, served at app://genloom/;
 *             the renderer-boundary plugin (scripts/rendererBoundary.ts) fails the build
 *             when it imports anything outside its own files, the shared core and its packages.
 * Web mode builds the same renderer with vite.web.config.ts into dist/web.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { rendererBoundary } from './scripts/rendererBoundary.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
const here = (p: string) => resolve(root, p);

export default defineConfig({
  main: {
    build: {
      outDir: here('out/main'),
      sourcemap: true,
      rolldownOptions: {
        input: {
          index: here('src-main/app/electronEntry.ts'),
          trainingProcess: here('src-main/app/trainingProcess.ts'),
          exportProcess: here('src-main/app/exportWorker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: here('out/preload'),
      // bundle everything: a sandboxed preload can require only a few Electron modules
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: here('src-main/app/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: here('src-renderer'),
    base: './',
    plugins: [rendererBoundary({ root, rendererRoot: here('src-renderer') }), react()],
    build: {
      outDir: here('out/renderer'),
      emptyOutDir: true,
      // KaTeX fonts ship as files: the CSP has no data: fonts in the renderer's own meta tag
      assetsInlineLimit: 0,
      rolldownOptions: { input: here('src-renderer/index.html') },
    },
  },
});
