/**
 * Parity between the tfjs trainer and the PyTorch program: one training round on tfjs with
 * every random draw and every data batch recorded, the same round replayed by train.py
 * (`--replay FILE`, noise and batches in call order), and the loss terms and updated weights
 * compared. Under torchrun each process replays its rows of the recorded batch, which
 * checks data parallelism against one process at the full batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { Program } from '../compile/compile';
import { createFeeds } from '../runtime/feeds';
import { importedSources, importWeights, loadImportedWeights } from '../runtime/importedWeights';
import { encodeSafetensors, type TensorInput } from '../runtime/safetensors';
import { readLatestCheckpoint } from '../runtime/runFolder';
import { scoped } from '../runtime/tfScope';
import { Trainer, type TermValues } from '../runtime/Trainer';
import { TfjsOps } from '../runtime/TfjsOps';

type Weights = Map<string, { shape: number[]; data: Float32Array }>;

export interface RecordedRound {
  init: Weights;
  after: Weights;
  terms: TermValues;
  /** the replay file's bytes (noise/i, feed/<node>/<i>) */
  replay: Uint8Array;
  draws: number;
}

const DRAWS = ['randomNormal', 'randomNormalLike', 'randomUniformLike', 'randomIntLike'] as const;
const KIND: Record<(typeof DRAWS)[number], string> = { randomNormal: 'normal', randomNormalLike: 'normal', randomUniformLike: 'uniform', randomIntLike: 'int' };

/** one tfjs training round (every objective, its steps per round) with its draws and batches recorded */
export async function recordTfjsRound(program: Program, opts: { seed: number; batchSize: number; teacher?: Weights }): Promise<RecordedRound> {
  const feeds = createFeeds(program, { seed: opts.seed });
  const tensors = new Map<string, TensorInput>();
  const meta: Record<string, string> = { batch: String(opts.batchSize) };
  let k = 0;
  const fed = new Map<string, number>();
  for (const [id, f] of feeds) {
    const batch = f.batch.bind(f);
    f.batch = (n, rng) => {
      const x = batch(n, rng);
      const i = fed.get(id) ?? 0;
      fed.set(id, i + 1);
      tensors.set(`feed/${id}/${i}`, { shape: [n, f.dim], data: Float32Array.from(x) });
      return x;
    };
  }
  const t = new Trainer(program, feeds, { seed: opts.seed, batchSize: opts.batchSize });
  try {
    // imported networks: the given teacher weights, else their runs'
    if (opts.teacher) await scoped(() => { for (const source of importedSources(t).keys()) importWeights(t, source, opts.teacher!); });
    else await scoped(() => loadImportedWeights(t));
    const ops = t.ops as unknown as Record<string, (...a: unknown[]) => tf.Tensor>;
    for (const name of DRAWS) {
      const base = (TfjsOps.prototype as unknown as Record<string, (...a: unknown[]) => tf.Tensor>)[name]!;
      ops[name] = function (this: unknown, ...args: unknown[]) {
        const y = base.apply(t.ops, args);
        tensors.set(`noise/${k}`, { shape: y.shape, data: Float32Array.from(y.dataSync()) });
        meta[`noise/${k}`] = KIND[name];
        k++;
        return y;
      };
    }
    const init = t.store.snapshot();
    const terms = await scoped(() => t.round(true)!);
    meta.noise = String(k);
    return { init, after: t.store.snapshot(), terms, replay: encodeSafetensors(tensors, meta), draws: k };
  } finally {
    t.dispose();
  }
}

export interface ParityReport {
  /** the largest relative difference of a loss term, |a - b| / max(|b|, 1) */
  maxTermRel: number;
  worstTerm: string;
  /** the tfjs and PyTorch values of the worst term */
  worstTermValues: [number, number];
  /** the largest relative difference of a weight tensor after the round, ||a - b|| / ||b|| (2-norm) */
  maxWeightRel: number;
  worstWeight: string;
  /** the largest elementwise difference |a - b| of any weight (Adam's first step divides by |g| + 1e-7, so a gradient near 0 amplifies rounding) */
  maxWeightAbs: number;
  /** the largest change a weight made in the round (a round that changes nothing proves nothing) */
  maxUpdate: number;
}

/** the weights and loss terms of one round: tfjs's, or those a PyTorch run's checkpoint holds */
export interface RoundResult {
  weights: Weights;
  terms: TermValues;
}

export async function readRunResult(runDir: string): Promise<RoundResult> {
  const ck = await readLatestCheckpoint(runDir);
  return { weights: ck.weights, terms: ck.state.losses ?? {} };
}

/** how far `got` is from `want` after the same round from the weights `init` */
export function compareRounds(got: RoundResult, want: RoundResult, init: Weights): ParityReport {
  let maxWeightRel = 0;
  let worstWeight = '';
  let maxWeightAbs = 0;
  let maxUpdate = 0;
  for (const [name, w] of want.weights) {
    const g = got.weights.get(name);
    if (!g) throw new Error(`the PyTorch checkpoint has no tensor "${name}"`);
    if (g.data.length !== w.data.length) throw new Error(`"${name}" has ${g.data.length} values in the PyTorch checkpoint, ${w.data.length} on tfjs`);
    const before = init.get(name)?.data;
    let d2 = 0;
    let b2 = 0;
    for (let i = 0; i < w.data.length; i++) {
      const d = g.data[i]! - w.data[i]!;
      d2 += d * d;
      b2 += w.data[i]! * w.data[i]!;
      maxWeightAbs = Math.max(maxWeightAbs, Number.isNaN(d) ? Infinity : Math.abs(d));
      maxUpdate = Math.max(maxUpdate, Math.abs(w.data[i]! - (before?.[i] ?? 0)));
    }
    const r = d2 === 0 ? 0 : Math.sqrt(d2) / Math.max(Math.sqrt(b2), 1e-6);
    if (!(r <= maxWeightRel)) {
      maxWeightRel = Number.isNaN(r) ? Infinity : r;
      worstWeight = name;
    }
  }
  let maxTermRel = 0;
  let worstTerm = '';
  let worstTermValues: [number, number] = [0, 0];
  for (const [obj, terms] of Object.entries(want.terms)) {
    for (const [term, v] of Object.entries(terms)) {
      const g = got.terms[obj]?.[term];
      const r = g === undefined ? Infinity : Math.abs(g - v) / Math.max(Math.abs(v), 1);
      if (!(r <= maxTermRel)) {
        maxTermRel = Number.isNaN(r) ? Infinity : r;
        worstTerm = `${obj}.${term}`;
        worstTermValues = [v, g ?? NaN];
      }
    }
  }
  return { maxTermRel, worstTerm, worstTermValues, maxWeightRel, worstWeight, maxWeightAbs, maxUpdate };
}
