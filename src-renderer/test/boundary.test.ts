/**
 * The renderer's boundary (scripts/rendererBoundary.ts), statically: every import of a
 * renderer file and of the shared core stays inside them and their packages. The builds
 * run the same check as a Vite plugin.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { areaOf, boundaryEntries, checkImport, REPO_ROOT, scanRendererBoundary } from '../../scripts/rendererBoundary';

const at = (p: string) => resolve(REPO_ROOT, p);

describe('the renderer boundary', () => {
  it('holds over the renderer and the shared core', () => {
    const entries = boundaryEntries();
    expect(entries.some((f) => f.endsWith('src-renderer/main.tsx'))).toBe(true);
    expect(entries.some((f) => f.endsWith('nodes/index.ts'))).toBe(true);
    expect(scanRendererBoundary().map((v) => `${v.file}:${v.line}: ${v.message}`)).toEqual([]);
  });

  it('places files in the renderer, the shared core or outside', () => {
    expect(areaOf('src-renderer/components/Canvas.tsx')).toBe('renderer');
    expect(areaOf('nodes/core/ports.ts')).toBe('core');
    expect(areaOf('src-main/api/trainingProtocol.ts')).toBe('core');
    expect(areaOf('src-main/document/schema.ts')).toBe('core');
    expect(areaOf('src-main/document/templates.ts')).toBe('outside');
    expect(areaOf('src-main/runtime/trainLoop.ts')).toBe('outside');
  });

  it('refuses host modules, Node built-ins, tfjs and onnxruntime, in the renderer and in nodes/', () => {
    const canvas = at('src-renderer/components/Canvas.tsx');
    const node = at('nodes/vae/index.ts');
    expect(checkImport(canvas, '../../src-main/document/schema', undefined)).toBeUndefined();
    expect(checkImport(canvas, '../../nodes/index', undefined)).toBeUndefined();
    expect(checkImport(canvas, '@xyflow/react', undefined)).toBeUndefined();
    expect(checkImport(canvas, '../../src-main/runtime/trainLoop', undefined)).toMatch(/outside the renderer's shared core/);
    expect(checkImport(canvas, '../../src-main/app/handlers', undefined)).toMatch(/src-main\/app\/handlers/);
    expect(checkImport(canvas, 'node:fs', undefined)).toMatch(/Node built-ins/);
    expect(checkImport(canvas, 'fs', undefined)).toMatch(/Node built-ins/);
    expect(checkImport(canvas, '@tensorflow/tfjs', undefined)).toMatch(/tfjs runs in the host/);
    expect(checkImport(canvas, 'onnxruntime-web', undefined)).toMatch(/ONNX/);
    expect(checkImport(canvas, 'electron', undefined)).toMatch(/preload bridge/);
    expect(checkImport(node, 'zod', undefined)).toBeUndefined();
    expect(checkImport(node, '@tensorflow/tfjs', undefined)).toMatch(/tfjs/);
    expect(checkImport(node, 'node:worker_threads', undefined)).toMatch(/Node built-ins/);
    expect(checkImport(node, 'react', undefined)).toMatch(/the shared core may import only zod/);
    expect(checkImport(node, '../../src-main/export/OnnxOps', undefined)).toMatch(/outside/);
    expect(checkImport(node, '../../src-renderer/studio', undefined)).toMatch(/must not depend on the renderer/);
  });
});
