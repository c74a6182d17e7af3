/**
 * Interpreter overhead: a compiled program's training step against a hand-written tfjs step
 * of the same model (the DDPM template's denoiser: sinusoidal time embedding + SiLU MLP,
 * epsilon-MSE, Adam), on the same backend, interleaved in one run so machine noise hits both.
 */
import * as tf from '@tensorflow/tfjs';
import { loadProgramOrThrow } from '../src-main/compile/loadProgram';
import { Rng } from '../src-main/data/rng';
import { sampleToy } from '../src-main/data/toy';
import { initialValues } from '../src-main/runtime/ParamStore';
import { Trainer, type DataFeed } from '../src-main/runtime/Trainer';
import { readTemplate } from '../src-main/document/templates';

const B = 256;

const template = () => readTemplate('ddpm-swissroll') as any;

/** the same model written directly in tfjs, sized from the template */
function handWritten(seed: number) {
  const rng = new Rng(seed);
  const denoiser = template().nodes.find((n: { id: string }) => n.id === 'denoiser').params;
  const sizes = [2 + denoiser.timeEmbedding, ...denoiser.hidden, 2];
  const vars: tf.Variable[] = [];
  const layers = sizes.slice(1).map((out, i) => {
    const w = tf.variable(tf.tensor(initialValues({ shape: [sizes[i]!, out], init: { kind: 'glorot' } }, rng), [sizes[i]!, out]));
    const b = tf.variable(tf.zeros([out]));
    vars.push(w, b);
    return { w, b };
  });
  const half = denoiser.timeEmbedding / 2;
  const freqs = tf.tensor(Array.from({ length: half }, (_, k) => Math.pow(10000, (-2 * k) / denoiser.timeEmbedding)), [1, half]);
  const abar: number[] = [];
  let prod = 1;
  for (let i = 0; i < 1000; i++) {
    prod *= 1 - (1e-4 + ((0.02 - 1e-4) * i) / 999);
    abar.push(prod);
  }
  const sqrtAb = tf.tensor(abar.map(Math.sqrt), [1000, 1]);
  const sqrt1m = tf.tensor(abar.map((a) => Math.sqrt(1 - a)), [1000, 1]);
  const lr = template().nodes.find((n: { id: string }) => n.id === 'loss').params.optimizer.lr;
  const opt = tf.train.adam(lr);
  let s = 0;
  return () =>
    tf.tidy(() => {
      const r = new Rng(seed + s++);
      const x0 = tf.tensor2d(sampleToy('swissroll', B, r), [B, 2]);
      opt.minimize(
        () => {
          const tv = new Float32Array(B);
          for (let k = 0; k < B; k++) tv[k] = r.int(1000);
          const t = tf.tensor1d(tv).toInt();
          const eps = tf.randomNormal([B, 2], 0, 1, 'float32', s + 1);
          const xt = tf.gather(sqrtAb, t).mul(x0).add(tf.gather(sqrt1m, t).mul(eps));
          const tw = t.toFloat().reshape([-1, 1]).mul(freqs);
          let h = tf.concat([xt, tf.sin(tw), tf.cos(tw)], 1);
          layers.forEach((l, i) => {
            h = h.matMul(l.w).add(l.b);
            if (i < layers.length - 1) h = h.mul(tf.sigmoid(h));
          });
          return h.sub(eps).square().mean() as tf.Scalar;
        },
        false,
        vars,
      );
    });
}

function compiled(seed: number) {
  const doc = template();
  const { program } = loadProgramOrThrow(doc, (m) => new Error(m));
  const held = new Rng(1);
  const feed: DataFeed = { dim: 2, batch: (n, rng) => sampleToy('swissroll', n, rng), heldOut: (n) => sampleToy('swissroll', n, held) };
  const trainer = new Trainer(program, new Map([['data', feed]]), { seed, batchSize: B });
  return () => trainer.round(false);
}

export function benchInterpreter(opts: { steps?: number; repeats?: number } = {}): { handMs: number; compiledMs: number; ratio: number } {
  const steps = opts.steps ?? 100;
  const repeats = opts.repeats ?? 5;
  const a = handWritten(1);
  const b = compiled(1);
  for (let i = 0; i < 20; i++) (a(), b()); // warm-up
  const hand: number[] = [];
  const comp: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let t = performance.now();
    for (let i = 0; i < steps; i++) a();
    hand.push((performance.now() - t) / steps);
    t = performance.now();
    for (let i = 0; i < steps; i++) b();
    comp.push((performance.now() - t) / steps);
  }
  const median = (v: number[]) => v.slice().sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
  const ratios = hand.map((h, i) => comp[i]! / h);
  return { handMs: median(hand), compiledMs: median(comp), ratio: median(ratios) };
}
