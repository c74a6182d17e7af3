/**
 * The VQ-VAE family (nodes/vqvae/): the quantiser picks the nearest code, passes the
 * decoder's gradient straight through to the encoder, sends the codebook term's gradient
 * to the codes only and the commitment term's to the encoder only; the loss reports the
 * perplexity of code use; vqvae-mnist meets its bars (code use at least K/4, held-out
 * reconstruction far below independent pixels, the code prior below the uniform prior's
 * N log K) where the trivial baselines fail them.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { nearestCode, quantizer } from '../nodes/vqvae/quantizer';
import { vqvae } from '../nodes/vqvae/index';
import { evaluateRun } from '../src-main/eval/evaluate';
import { onnxParityForNode } from '../src-main/export/conformance';
import { initBackend } from '../src-main/runtime/backend';
import { TfjsOps } from '../src-main/runtime/TfjsOps';
import { independentPixelsNll } from './baselines';
import { trainTemplate } from './trainTemplate';

let ops: TfjsOps;
beforeAll(async () => {
  await initBackend('cpu');
  ops = new TfjsOps({ seed: 0 });
});

/** the quantiser on fixed inputs: K codes of dimension d, z_e [B, N d] */
function quantise(ze: tf.Tensor, codebook: tf.Tensor, K: number, d: number) {
  const p = quantizer.params.parse({ codes: K, codeDim: d, beta: 0.25 });
  const ctx = { ops, nodeId: 'vq', param: () => codebook, batchSize: ze.shape[0]!, mode: 'train' as const, feed: () => ze };
  const shapes = { ze: { kind: 'Tensor' as const, shape: [ze.shape[1]!] } };
  const built = quantizer.build!(ctx as never, p, shapes as never, {} as never);
  return quantizer.apply(ctx as never, { inputs: { ze } as never, params: p, shapes: shapes as never, built }) as Record<string, any>;
}

describe('vector quantiser', () => {
  it('picks the nearest code of every position (brute force) and looks it up', () => {
    const K = 7;
    const d = 3;
    const codebook = tf.randomNormal([K, d], 0, 1, 'float32', 1);
    const ze = tf.randomNormal([5, 4 * d], 0, 1, 'float32', 2);
    const out = quantise(ze, codebook, K, d);
    const cb = codebook.arraySync() as number[][];
    const z = ze.arraySync() as number[][];
    const codes = out.codes.arraySync() as number[][];
    const zq = out.zq.arraySync() as number[][];
    for (let b = 0; b < 5; b++) {
      for (let n = 0; n < 4; n++) {
        const v = z[b]!.slice(n * d, n * d + d);
        const dist = cb.map((e) => e.reduce((s, x, i) => s + (x - v[i]!) ** 2, 0));
        const best = dist.indexOf(Math.min(...dist));
        expect(codes[b]![n]).toBe(best);
        for (let i = 0; i < d; i++) expect(zq[b]![n * d + i]).toBeCloseTo(cb[best]![i]!, 5);
      }
    }
    // the lookup Fn of the sampler gives the same z_q from the codes
    expect(tf.max(tf.abs(tf.sub(out.fn.call(out.codes), out.zq))).dataSync()[0]).toBeLessThan(1e-6);
    // usage: the share of each code among the row's positions
    expect(Array.from(tf.sum(out.usage, 1).dataSync()).every((s) => Math.abs(s - 1) < 1e-6)).toBe(true);
  });

  it('straight-through: d sum(r z_q) / d z_e = r; the codebook term moves only the codes, the commitment term only z_e', () => {
    const K = 5;
    const d = 2;
    const codebook = tf.randomNormal([K, d], 0, 1, 'float32', 3);
    const ze = tf.randomNormal([3, 3 * d], 0, 1, 'float32', 4);
    const r = tf.randomNormal([3, 3 * d], 0, 1, 'float32', 5);
    const [gz] = ops.grads((z) => ops.sum(ops.mul(quantise(z, codebook, K, d).zq, r)), [ze]);
    expect(tf.max(tf.abs(tf.sub(gz!, r))).dataSync()[0]).toBeLessThan(1e-6);
    const [gzBook, gcBook] = ops.grads((z, c) => ops.sum(quantise(z, c, K, d).codebookLoss), [ze, codebook]);
    const [gzCommit, gcCommit] = ops.grads((z, c) => ops.sum(quantise(z, c, K, d).commitLoss), [ze, codebook]);
    const norm = (t: tf.Tensor) => tf.sum(tf.abs(t)).dataSync()[0]!;
    expect(norm(gzBook!)).toBe(0);
    expect(norm(gcBook!)).toBeGreaterThan(0.1);
    expect(norm(gcCommit!)).toBe(0);
    expect(norm(gzCommit!)).toBeGreaterThan(0.1);
    // the commitment gradient is 2 beta (z_e - e)
    const e = quantise(ze, codebook, K, d).zq;
    expect(tf.max(tf.abs(tf.sub(gzCommit!, tf.mul(tf.sub(ze, e), 0.5)))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('EMA codebook: each used code moves to the mean of the vectors that pick it, an unused code stays, no codebook term', () => {
    const K = 3;
    const d = 2;
    const p = quantizer.params.parse({ codes: K, codeDim: d, update: 'ema', decay: 0.5 });
    const vars = new Map<string, tf.Variable>();
    const pending = new Map<string, tf.Tensor>();
    const init: Record<string, number[]> = { 'state/codebook': [0, 0, 5, 5, 40, 40], 'state/count': [1, 1, 1], 'state/sum': [0, 0, 0, 0, 0, 0], 'state/seeded': [0] };
    const state = (name: string, shape: number[]) => {
      if (!vars.has(name)) vars.set(name, tf.variable(tf.tensor(init[`state/${name}`]!, shape)));
      return vars.get(name)!;
    };
    const ctx = { ops, nodeId: 'vq', param: () => { throw new Error('EMA codes are state'); }, state, setState: (n: string, v: tf.Tensor) => void pending.set(n, tf.keep(v)), batchSize: 4, mode: 'train' as const, feed: () => { throw new Error('no feed'); } };
    // two clusters of 2-D vectors, around (1, -1) and (6, 4): 2 positions per row, 4 rows
    const ze = tf.tensor2d([[1.2, -1, 6, 4.2], [0.8, -0.8, 6.4, 3.8], [1, -1.2, 5.6, 4], [1.1, -0.9, 6, 4]]);
    const shapes = { ze: { kind: 'Tensor' as const, shape: [2 * d] } };
    const built = quantizer.build!(ctx as never, p, shapes as never, {} as never);
    let out: Record<string, any> = {};
    for (let i = 0; i < 30; i++) {
      out = quantizer.apply(ctx as never, { inputs: { ze } as never, params: p, shapes: shapes as never, built }) as Record<string, any>;
      for (const [n, v] of pending) {
        state(n, v.shape).assign(v);
        v.dispose();
      }
      pending.clear();
    }
    const codes = state('codebook', [K, d]).arraySync() as number[][];
    expect(codes[0]![0]).toBeCloseTo(1.025, 3);
    expect(codes[0]![1]).toBeCloseTo(-0.975, 3);
    expect(codes[1]![0]).toBeCloseTo(6, 3);
    expect(codes[1]![1]).toBeCloseTo(4, 3);
    expect(codes[2]).toEqual([40, 40]);
    expect(tf.sum(out.codebookLoss).dataSync()[0]).toBe(0);
  });

  it('with the EMA codebook the quantiser still has an ONNX form equal to tfjs (the codes read as weights)', async () => {
    const r = await onnxParityForNode(quantizer, { params: { ...quantizer.fixture.params, update: 'ema' }, inputs: quantizer.fixture.inputs });
    expect(r.pass, r.summary).toBe(true);
    expect(r.maxError).toBeLessThanOrEqual(1e-4);
  });

  it('nearestCode gives exactly one code per row, also where the scores are large', () => {
    for (const scale of [1, 100]) {
      const oneHot = nearestCode(ops, tf.randomNormal([50, 3], 0, scale, 'float32', 6), tf.randomNormal([9, 3], 0, scale, 'float32', 7), 9);
      expect(Array.from(tf.sum(oneHot, 1).dataSync()).every((s) => s === 1), `scale ${scale}`).toBe(true);
    }
  });
});

describe('vqvae-mnist (wasm)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it(`a short run: code use, held-out reconstruction and the code prior meet quick bars that the trivial baselines fail`, () => {
    const { trainer, program, feeds, doc } = trainTemplate('vqvae-mnist', { steps: QUICK_STEPS });
    const m = evaluateRun(trainer, program, feeds as never, { n: 1000 });
    const K = doc.nodes.find((n: { id: string }) => n.id === 'vq').params.codes as number;
    const N = 64 / 4;
    // code use: at least K / 4 codes' worth (a collapsed codebook scores 1)
    expect(m['vqloss.perplexity']).toBeGreaterThanOrEqual(K / 4);
    // reconstruction from 16 codes, against independent pixels (which ignore the codes)
    const pixels = independentPixelsNll(feeds.get('data')!, 1000);
    expect(m['vqloss.recon']).toBeLessThanOrEqual(QUICK_RECON);
    expect(pixels).toBeGreaterThan(QUICK_RECON + 40);
    // the prior over codes, against the uniform prior over the code grid
    expect(m['priorNll.nll']).toBeLessThanOrEqual(N * Math.log(K) - 10);
    const s = trainer.sample('sampler', 16, 1);
    expect(s.shape).toEqual([16, 784]);
    expect(s.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    trainer.dispose();
  }, 300_000);

  it('declares its bars', () => {
    expect(vqvae.templates.find((t) => t.name === 'vqvae-mnist')!.bars.length).toBeGreaterThan(0);
  });
});

/** the quick run (the template trains 3000 steps) and its reconstruction bar (nats per image) */
const QUICK_STEPS = 600;
const QUICK_RECON = 140;
