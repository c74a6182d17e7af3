/**
 * The docs/REFERENCE.md metrics of a trained program, against a fresh held-out sample:
 * - every sampler on point data: multi-scale MMD^2, energy distance, sliced W2, and mode
 *   coverage where the dataset is a mixture of known modes (8gaussians, ring8, grid25);
 * - every exact-likelihood model: held-out NLL in nats per example;
 * - every objective that declares loss-term evaluators: e.g. the held-out negative ELBO
 *   (recon + kl) of a VAE, with its terms;
 * - every latent-variable objective that declares an importance-sampled NLL (iwae.ts): e.g.
 *   `elbo.iwaeNll`, -log (1/K) sum_k p(x, z_k) / q(z_k|x) with K = 5000, a tighter bound than
 *   the negative ELBO. It costs K decoder evaluations per row, so it uses few rows: at most
 *   n, the declared number (200) and IWAE_BUDGET (n / 2000) / (K dim) (iwae.ts), i.e. 200
 *   rows of a 2-D set, 10 MNIST images at n = 2000.
 * - every RBM objective (nodes/rbm/): held-out NLL = mean F(v) + log Z with log Z by annealed
 *   importance sampling (ais.ts), its standard error (`...SE`), the upper end of its 95%
 *   interval (`...Upper95`) and the log Z estimate (`${objective}.logZ`).
 * Keys are `${nodeId}.${metric}`.
 */
import type { Program } from '../compile/compile';
import { Rng } from '../data/rng';
import { isToyName, toyModes } from '../data/toy';
import type { DataFeed, Trainer } from '../runtime/Trainer';
import { energyDistance, mmd2MultiScale, modeCoverage, slicedW2 } from './metrics';
import { heldOutAisNll } from './ais';
import { heldOutIwaeNll, iwaeRowCount } from './iwae';

export interface EvaluateOptions {
  /** samples and held-out rows per metric (REFERENCE floors are for n = 2000) */
  n?: number;
  seed?: number;
  /** skip sample metrics (e.g. while training, where only losses matter) */
  samples?: boolean;
  /** importance-sampled NLL: draws per row (default: the declared K) and held-out rows (default: see above) */
  iwae?: { samples?: number; rows?: number };
  /** after each evaluator: done of total, and which one (the studio shows it as 'evaluating') */
  onProgress?: (done: number, total: number, what?: string) => void;
  /** AIS of an RBM's log Z: temperatures, annealing runs and held-out rows (default: the declared ones, min(n, 10000) rows) */
  ais?: { betas?: number; chains?: number; rows?: number };
}

/** point sets up to this dimension get sample metrics; images get likelihood bounds */
const MAX_POINT_DIM = 16;

export function evaluateRun(trainer: Trainer, program: Program, feeds: Map<string, DataFeed>, opts: EvaluateOptions = {}): Record<string, number> {
  const n = opts.n ?? 2000;
  const seed = opts.seed ?? 12345;
  const out: Record<string, number> = {};
  const total = program.evaluators.length;
  let done = 0;
  const progress = (what: string) => opts.onProgress?.(++done, total, what);
  for (const e of program.evaluators) {
    if (e.kind === 'terms' || e.kind === 'iwae' || e.kind === 'ais') continue;
    const feed = feeds.get(e.data);
    if (!feed) {
      progress(e.kind);
      continue;
    }
    if (e.kind === 'nll') {
      out[`${e.dist.node}.nll`] = trainer.heldOutNll(e.dist, e.data, Math.min(n, feed.size?.test ?? n));
      progress(`${e.dist.node}.nll`);
      continue;
    }
    if (opts.samples === false || feed.dim > MAX_POINT_DIM) {
      progress(e.sampler);
      continue;
    }
    const x = trainer.sample(e.sampler, n, seed).data;
    const y = feed.heldOut(n);
    const k = e.sampler;
    out[`${k}.energy`] = energyDistance(x, y, feed.dim);
    out[`${k}.mmd2`] = mmd2MultiScale(x, y, feed.dim);
    out[`${k}.sw2`] = slicedW2(x, y, feed.dim, new Rng(seed));
    const name = program.data.find((d) => d.nodeId === e.data)?.dataset ?? '';
    const modes = isToyName(name) ? toyModes(name) : undefined;
    if (modes) {
      const c = modeCoverage(x, feed.dim, modes);
      out[`${k}.modes`] = c.modesCaptured;
      out[`${k}.totalModes`] = c.totalModes;
      out[`${k}.highQuality`] = c.highQualityFraction;
    }
    progress(`${k} samples`);
  }
  for (const e of program.evaluators) {
    if (e.kind !== 'terms') continue;
    const terms = trainer.heldOutTerms(e.objective, Math.min(n, 1000));
    out[`${e.objective}.${e.metric}`] = e.sum.reduce((a, k) => a + (terms[k] ?? NaN), 0);
    for (const k of e.report) out[`${e.objective}.${k}`] = terms[k] ?? NaN;
    progress(`${e.objective}.${e.metric}`);
  }
  for (const e of program.evaluators) {
    if (e.kind !== 'iwae') continue;
    const feed = feeds.get(e.data);
    if (!feed) {
      progress(e.kind);
      continue;
    }
    const samples = opts.iwae?.samples ?? e.samples;
    const rows = opts.iwae?.rows ?? iwaeRowCount(e, feed.dim, n, samples);
    out[`${e.objective}.${e.metric}`] = heldOutIwaeNll(trainer, e, feed, rows, samples, seed);
    progress(`${e.objective}.${e.metric}`);
  }
  for (const e of program.evaluators) {
    if (e.kind !== 'ais') continue;
    const feed = feeds.get(e.data);
    if (!feed) {
      progress(e.kind);
      continue;
    }
    const r = heldOutAisNll(trainer, e, feed, { rows: Math.min(n, 10000, feed.size?.test ?? Infinity), seed, ...opts.ais });
    if (!r) {
      progress(e.kind);
      continue;
    }
    const k = `${e.objective}.${e.metric}`;
    out[k] = r.nll;
    out[`${k}SE`] = r.se;
    out[`${k}Upper95`] = r.nll + 1.96 * r.se;
    out[`${e.objective}.logZ`] = r.logZ;
    progress(`${e.objective}.${e.metric}`);
  }
  return out;
}
