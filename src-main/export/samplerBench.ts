/**
 * Speed of the exported DDPM sampler: 2000 points with the ddpm-swissroll template's
 * 1000-step sampler (its full-size denoiser), onnxruntime-node on the exported model
 * (noise drawn inside, one Loop) against the same sampler run by the Runner on tfjs wasm,
 * side by side in one process. Weights are the template's initial ones (speed does not
 * depend on training). Model loading is timed apart from sampling.
 *
 * tfjs on wasm has no threads under Node, so the ratio is taken like for like against
 * onnxruntime with one intra-op thread (`onnxMs`); onnxruntime with its default thread
 * pool is timed too (`onnxDefaultThreadsMs`: on a 2-core machine shared with other work it
 * can be slower than one thread).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../runtime/backend';
import { exportOnnx } from './exportModel';
import { openSession } from './ort';
import { trainTemplate } from './templateFixture';

export interface SamplerBenchResult {
  /** onnxruntime-node, one intra-op thread */
  onnxMs: number;
  tfjsMs: number;
  /** tfjsMs / onnxMs */
  ratio: number;
  /** onnxruntime-node with its default thread pool */
  onnxDefaultThreadsMs: number;
  /** onnxruntime session creation (not part of onnxMs) */
  onnxLoadMs: number;
  backend: string;
  points: number;
  steps: number;
  modelBytes: number;
}

export async function benchDdpmSampler(opts: { points?: number } = {}): Promise<SamplerBenchResult> {
  const points = opts.points ?? 2000;
  const previous = tf.getBackend();
  const { backend } = await initBackend('wasm');
  try {
    const { program, trainer, weights } = trainTemplate('ddpm-swissroll', { steps: 0 });
    // the sampler with the most network calls: the template's full-length (T-step) sampler
    const calls = (id: string) => {
      const n = program.graph.nodes.get(id)!;
      return n.spec.describe?.(n.params, n.inShapes as never).sampler?.calls ?? 0;
    };
    const sampler = [...program.samplers].sort((a, b) => calls(b.nodeId) - calls(a.nodeId))[0];
    if (!sampler) throw new Error('the ddpm-swissroll template has no sampler');
    const model = exportOnnx(program, weights, `sampler:${sampler.nodeId}`, { noise: 'internal' });

    let onnxLoadMs = 0;
    const timeOnnx = async (threads?: number) => {
      const t0 = performance.now();
      const session = await openSession(model.bytes, threads ? { threads } : {});
      onnxLoadMs = performance.now() - t0;
      try {
        const t1 = performance.now();
        const out = await session.run({ n: { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(points)) } });
        if (out.samples?.shape[0] !== points) throw new Error('the ONNX sampler returned the wrong number of points');
        return performance.now() - t1;
      } finally {
        await session.release();
      }
    };
    const onnxMs = await timeOnnx(1);
    const onnxDefaultThreadsMs = await timeOnnx();

    const t2 = performance.now();
    const s = trainer.sample(sampler.nodeId, points);
    const tfjsMs = performance.now() - t2;
    if (s.shape[0] !== points) throw new Error('the tfjs sampler returned the wrong number of points');
    trainer.dispose();
    const steps = (program.graph.nodes.get('schedule')?.params as { T?: number } | undefined)?.T ?? 1000;
    return { onnxMs, tfjsMs, ratio: tfjsMs / onnxMs, onnxDefaultThreadsMs, onnxLoadMs, backend, points, steps, modelBytes: model.bytes.byteLength };
  } finally {
    if (previous && previous !== tf.getBackend()) await tf.setBackend(previous);
  }
}
