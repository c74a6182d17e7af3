/**
 * Running exported models with onnxruntime-node (CPU). Plain Node only: onnxruntime-node
 * has been reported to crash inside Electron worker threads (ENVIRONMENT.md).
 */
import * as ort from 'onnxruntime-node';
import { ExportError } from './errors';

export type Feed =
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'int64'; shape: number[]; data: BigInt64Array };

export interface OrtOutput {
  shape: number[];
  data: Float32Array;
}

export interface OrtSession {
  run(feeds: Record<string, Feed>): Promise<Record<string, OrtOutput>>;
  inputNames: readonly string[];
  outputNames: readonly string[];
  release(): Promise<void>;
}

export async function openSession(bytes: Uint8Array, opts: { threads?: number } = {}): Promise<OrtSession> {
  let s: ort.InferenceSession;
  try {
    s = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      ...(opts.threads && { intraOpNumThreads: opts.threads }),
    });
  } catch (e) {
    throw new ExportError('runtime-failed', `onnxruntime could not load the model: ${(e as Error).message}`);
  }
  return {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    release: () => s.release(),
    async run(feeds) {
      const t: Record<string, ort.Tensor> = {};
      for (const [k, f] of Object.entries(feeds)) t[k] = new ort.Tensor(f.dtype, f.data, f.shape);
      let r: ort.InferenceSession.ReturnType;
      try {
        r = await s.run(t);
      } catch (e) {
        throw new ExportError('runtime-failed', `onnxruntime failed to run the model: ${(e as Error).message}`);
      }
      const out: Record<string, OrtOutput> = {};
      for (const name of s.outputNames) {
        const v = r[name]!;
        const data = v.data instanceof Float32Array ? v.data : Float32Array.from(v.data as ArrayLike<number>);
        out[name] = { shape: [...v.dims], data };
      }
      return out;
    },
  };
}

/** runs a model once and releases it */
export async function runOnnx(bytes: Uint8Array, feeds: Record<string, Feed>): Promise<Record<string, OrtOutput>> {
  const s = await openSession(bytes);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}
