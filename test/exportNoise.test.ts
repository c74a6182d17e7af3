/**
 * The random numbers an exported model draws itself (noise mode 'internal'). Parity checks
 * replace each random node by a read of the shared noise, so they cannot see a wrong
 * distribution in the RandomNormal / RandomUniform nodes: these tests run the models as
 * exported, with onnxruntime's own draws, and check moments:
 * - each random primitive (N(0, 1), U[0, 1), integers uniform in [0, n), draws inside a Loop);
 * - every sampler of the point-data templates, against the trained graph's own samples in
 *   tfjs (same distribution, independent draws).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx } from '../src-main/export/exportModel';
import { buildModel, type Recipe, type RunCtx } from '../src-main/export/harness';
import { runOnnx } from '../src-main/export/ort';
import { trainTemplate } from '../src-main/export/templateFixture';
import { initBackend } from '../src-main/runtime/backend';

beforeAll(async () => {
  await initBackend('cpu');
});

const count = (n: number) => ({ n: { dtype: 'int64' as const, shape: [], data: BigInt64Array.of(BigInt(n)) } });

function stats(data: ArrayLike<number>, dim: number): { mean: number[]; std: number[] } {
  const rows = data.length / dim;
  const mean = Array.from({ length: dim }, (_, j) => {
    let s = 0;
    for (let i = 0; i < rows; i++) s += data[i * dim + j]!;
    return s / rows;
  });
  const std = mean.map((m, j) => {
    let s = 0;
    for (let i = 0; i < rows; i++) s += (data[i * dim + j]! - m) ** 2;
    return Math.sqrt(s / (rows - 1));
  });
  return { mean, std };
}

describe('random primitives of an internal-noise model (onnxruntime draws)', () => {
  const N = 20000;
  const recipe: Recipe = {
    title: 'random primitives',
    inputs: [],
    outputDocs: {},
    countInput: true,
    run: <T,>({ ops: o, batch }: RunCtx<T>) => {
      const normal = o.randomNormal([batch, 4]);
      const [walk] = o.loop(3, [o.zerosLike(normal)], (_i, [x]) => [o.add(x!, o.randomNormalLike(x!))]);
      return {
        normal,
        normalLike: o.randomNormalLike(normal),
        uniform: o.randomUniformLike(normal),
        ints: o.randomIntLike(normal, 7),
        walk: walk!,
      };
    },
  };
  let out: Record<string, { shape: number[]; data: Float32Array }>;
  beforeAll(async () => {
    const model = buildModel(recipe, () => new Float32Array(0), 'internal', { doc: 'noise moments', metadata: {}, producerVersion: 'test' });
    expect(model.inputs.map((i) => i.name)).toEqual(['n']);
    out = await runOnnx(model.bytes, count(N));
  });

  it.each(['normal', 'normalLike'])('%s: N(0, 1) per entry (mean 0, variance 1, 5 sigma)', (name) => {
    const { data, shape } = out[name]!;
    expect(shape).toEqual([N, 4]);
    const s = stats(data, 4);
    for (let j = 0; j < 4; j++) {
      expect(Math.abs(s.mean[j]!)).toBeLessThan(5 / Math.sqrt(N));
      expect(Math.abs(s.std[j]! ** 2 - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    }
  });

  it('uniform: U[0, 1): every value in [0, 1), mean 1/2, variance 1/12', () => {
    const { data } = out.uniform!;
    expect(Math.min(...data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...data)).toBeLessThan(1);
    const s = stats(data, 4);
    for (let j = 0; j < 4; j++) {
      expect(Math.abs(s.mean[j]! - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
      expect(Math.abs(s.std[j]! ** 2 - 1 / 12)).toBeLessThan(0.004);
    }
  });

  it('integers: one per row, each of 0..6 with frequency 1/7', () => {
    const { data, shape } = out.ints!;
    expect(shape).toEqual([N]);
    const freq = new Array(7).fill(0);
    for (const v of data) {
      expect(Number.isInteger(v) && v >= 0 && v < 7).toBe(true);
      freq[v]++;
    }
    for (const f of freq) expect(Math.abs(f / N - 1 / 7)).toBeLessThan(5 * Math.sqrt((1 / 7) * (6 / 7) / N));
  });

  it('draws inside a Loop are fresh each iteration: the sum of 3 has variance 3', () => {
    const s = stats(out.walk!.data, 4);
    for (let j = 0; j < 4; j++) {
      expect(Math.abs(s.mean[j]!)).toBeLessThan(5 * Math.sqrt(3 / N));
      expect(Math.abs(s.std[j]! ** 2 / 3 - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    }
  });
});

describe('exported samplers draw what the trained graph draws (moments, internal noise)', () => {
  it.each([
    // n samples per side; the tolerances are at least 4.5 standard errors of the difference
    ['gan-8gaussians', 'sampler', 'sampler', 4000, 0.1],
    ['vae-moons', 'sampler', 'sampler', 4000, 0.1],
    ['realnvp-moons', 'sampler', 'sampler', 4000, 0.1],
    ['ddpm-swissroll', 'sampler:ddim', 'ddim', 2000, 0.1],
    ['ddpm-swissroll', 'sampler:ddpm', 'ddpm', 1000, 0.15],
  ] as const)('%s %s', async (name, target, samplerNode, n, tol) => {
    const t = trainTemplate(name, { steps: 20, hidden: [16, 16], batchSize: 64 });
    try {
      const model = exportOnnx(t.program, t.weights, target, { noise: 'internal' });
      const onnx = (await runOnnx(model.bytes, count(n))).samples!;
      const dim = onnx.shape[1]!;
      const ref = t.trainer.sample(samplerNode, n, 99);
      const a = stats(onnx.data, dim);
      const b = stats(ref.data, dim);
      for (let j = 0; j < dim; j++) {
        const sd = Math.max(a.std[j]!, b.std[j]!);
        expect(Math.abs(a.mean[j]! - b.mean[j]!) / sd, `mean of dimension ${j}`).toBeLessThan(1.5 * tol);
        expect(Math.abs(Math.log(a.std[j]! / b.std[j]!)), `std of dimension ${j}: onnx ${a.std[j]}, tfjs ${b.std[j]}`).toBeLessThan(tol);
      }
    } finally {
      t.trainer.dispose();
    }
  });
});
