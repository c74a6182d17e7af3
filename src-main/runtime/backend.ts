/**
 * Picks and initialises the tfjs backend for training / sampling in the main process
 * (plain Node, a worker thread or an Electron utility process).
 *
 * Chain: 'tensorflow' (optional @tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node) ->
 * 'wasm' (@tensorflow/tfjs-backend-wasm; SIMD, no threads under Node) -> 'cpu'.
 *
 * There is exactly one `tf` module instance: everything registers onto the
 * `@tensorflow/tfjs` imported here (tfjs-node registers its 'tensorflow' backend on the
 * shared @tensorflow/tfjs-core engine; if it brought its own copy of tfjs-core the
 * backend never appears on ours and is treated as unavailable).
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendInfo {
  backend: string;
  tf: typeof tf;
}

const TFJS_NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

let initialized = false;
let pending: Promise<BackendInfo> | null = null;
let wasmRegistered: Promise<boolean> | null = null;

/**
 * Initialises a backend and returns it with the shared `tf` namespace.
 *
 * - No preference: tries 'tensorflow' silently, then 'wasm', then 'cpu'.
 * - 'tensorflow': throws if neither tfjs-node-gpu nor tfjs-node can be loaded.
 * - 'wasm': falls back to 'cpu' (with a warning) if the wasm binary cannot be loaded.
 * - 'cpu': the pure-JS backend.
 *
 * Idempotent: once a backend is active, a call without a preference, or with the
 * preference already active, returns it without re-initialising. A call naming another
 * backend switches to it. Concurrent calls are serialised.
 */
export function initBackend(pref?: BackendName): Promise<BackendInfo> {
  const run = async (): Promise<BackendInfo> => {
    if (initialized && (pref === undefined || pref === tf.getBackend())) {
      return { backend: tf.getBackend(), tf };
    }
    const backend = await selectBackend(pref);
    initialized = true;
    return { backend, tf };
  };
  const next = (pending ?? Promise.resolve()).then(run, run);
  pending = next.catch(() => ({ backend: tf.getBackend(), tf }));
  return next;
}

async function selectBackend(pref: BackendName | undefined): Promise<string> {
  if (pref !== undefined && !(BACKENDS as readonly string[]).includes(pref)) {
    throw new Error(`Unknown backend '${String(pref)}'; expected one of ${BACKENDS.join(', ')}`);
  }
  if (pref === undefined || pref === 'tensorflow') {
    const errors: string[] = [];
    if (await tryTensorflow(errors)) return 'tensorflow';
    if (pref === 'tensorflow') {
      throw new Error(
        `Backend 'tensorflow' was requested but is not available: install ` +
          `@tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1), ` +
          `version ${tf.version_core}, next to @tensorflow/tfjs. Details: ${errors.join('; ')}`,
      );
    }
  }
  if (pref === undefined || pref === 'wasm') {
    if (await tryWasm()) return 'wasm';
    if (pref === 'wasm') console.warn('[genloom] wasm backend unavailable, falling back to cpu');
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('Could not initialise the tfjs cpu backend');
  await tf.ready();
  return 'cpu';
}

async function tryTensorflow(errors: string[]): Promise<boolean> {
  for (const pkg of TFJS_NODE_PACKAGES) {
    try {
      // A variable specifier keeps bundlers and tsc from resolving these optional packages.
      await import(/* @vite-ignore */ pkg);
    } catch (e) {
      errors.push(`${pkg}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    if (tf.findBackendFactory('tensorflow') == null) {
      errors.push(`${pkg} loaded but registered no 'tensorflow' backend on this @tensorflow/tfjs (version mismatch?)`);
      continue;
    }
    try {
      if (await tf.setBackend('tensorflow')) {
        await tf.ready();
        return true;
      }
      errors.push(`${pkg}: setBackend('tensorflow') failed`);
    } catch (e) {
      errors.push(`${pkg}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return false;
}

/** Directory holding the tfjs-backend-wasm .wasm binaries (its dist folder), with a trailing separator. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

function registerWasm(): Promise<boolean> {
  wasmRegistered ??= (async () => {
    try {
      const mod: Record<string, unknown> = await import('@tensorflow/tfjs-backend-wasm');
      const setWasmPaths = (mod.setWasmPaths ??
        (mod.default as Record<string, unknown> | undefined)?.setWasmPaths) as
        | ((prefix: string) => void)
        | undefined;
      // Under plain Node the emscripten loader finds the binaries next to its own file
      // (__dirname); once bundled (electron-vite) that is no longer true, so point it at
      // the package's dist folder explicitly. It reads the file from disk under Node.
      try {
        setWasmPaths?.(wasmBinaryDir());
      } catch {
        /* not resolvable (bundled without node_modules): keep the loader's default */
      }
      return tf.findBackendFactory('wasm') != null;
    } catch {
      return false;
    }
  })();
  return wasmRegistered;
}

async function tryWasm(): Promise<boolean> {
  if (!(await registerWasm())) return false;
  try {
    if (!(await tf.setBackend('wasm'))) return false;
    await tf.ready();
    return true;
  } catch {
    return false;
  }
}
