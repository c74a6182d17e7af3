import { z } from 'zod';
import { defineNode, InferError, readState, writeState, type NodeCtx } from '../core/defineNode';
import { flatSize, tensorShape } from '../core/objective';
import type { Ops } from '../core/ops';
import { reduceMax } from '../core/reduce';
import type { FnValue } from '../core/values';

/**
 * Vector quantisation with a learned codebook (VQ-VAE, van den Oord et al. 2017; seed 000
 * section 11). Symbols: z_e the encoder output, cut into N vectors of dimension d; e_1..e_K
 * the codebook [K, d]; k_n = argmin_k ||z_e,n - e_k|| the code of position n; sg[.] stop-gradient.
 *   z_q,n = e_{k_n},  passed on as z_e + sg[z_q - z_e] (straight-through: the decoder's
 *   gradient reaches the encoder as if quantisation were the identity)          (eq. 1-2)
 *   codebook term ||sg[z_e] - e||^2 (moves the codes),  commitment beta ||z_e - sg[e]||^2 (eq. 3)
 * Usage: the fraction of the N positions of a row that picked each code; the loss reports
 * the perplexity exp(H(mean usage)) of a batch (K when every code is used equally).
 * EMA codebook (the paper's appendix A.1, `update: 'ema'`): instead of the codebook term,
 * every training step moves each code to a running mean of the vectors that picked it,
 *   N_k <- g N_k + (1 - g) n_k,   m_k <- g m_k + (1 - g) sum_{n: k_n = k} z_e,n,   e_k = m_k / N_k
 * (node state, started at N_k = 1, m_k = e_k, so an unused code stays where it is, also once
 * N_k has decayed below 1e-6).
 */
export const quantizer = defineNode({
  type: 'vq.quantizer',
  version: 1,
  title: 'Vector quantiser (codebook)',
  category: 'encoder',
  role: 'network',
  inputs: { ze: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'the encoder output z_e: N vectors of dimension d, flat [N d]' } },
  outputs: {
    zq: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'the quantised z_q with the straight-through gradient, [N d]' },
    codes: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'the code index k_n of each position, [N] (integers, no gradient)' },
    codebookLoss: { type: { kind: 'Tensor' }, doc: '||sg[z_e] - e||^2 per row' },
    commitLoss: { type: { kind: 'Tensor' }, doc: 'beta ||z_e - sg[e]||^2 per row' },
    usage: { type: { kind: 'Tensor' }, doc: 'the fraction of the row\'s positions that picked each code, [K]' },
    fn: { type: { kind: 'Fn' }, doc: 'codes [N] -> z_q [N d], the codebook lookup (samplers)' },
  },
  params: z.object({
    /** K: codebook entries */
    codes: z.number().int().min(2).max(4096).default(32),
    /** d: dimension of each code vector (z_e is cut into N = size / d of them) */
    codeDim: z.number().int().min(1).max(512).default(4),
    /** beta: weight of the commitment term */
    beta: z.number().min(0).max(10).default(0.25),
    /** gradient: the codebook term trains the codes; ema: running means of the vectors each code receives */
    update: z.enum(['gradient', 'ema']).default('gradient'),
    /** ema: the running means' decay g per training step */
    decay: z.number().min(0).lt(1).default(0.99),
  }),
  math: {
    latex:
      'k_n = \\arg\\min_k \\lVert z_{e,n} - e_k \\rVert,\\quad z_q = z_e + \\operatorname{sg}[e_{k} - z_e],\\quad \\mathcal{L}_{\\text{vq}} = \\lVert \\operatorname{sg}[z_e] - e_k \\rVert^2 + \\beta \\lVert z_e - \\operatorname{sg}[e_k] \\rVert^2',
    explain:
      'The encoder\'s output is cut into N small vectors, and each is replaced by the nearest of K learned code vectors: an image becomes a grid of N discrete codes. Rounding has no gradient, so the decoder\'s gradient is copied straight through to the encoder. Two extra terms train the codebook: one moves each chosen code towards the encoder outputs that picked it, the other (commitment) keeps the encoder close to its codes. With no prior in the loss, the codes are fitted afterwards by a separate model of the code grid.',
  },
  fixture: { inputs: { ze: { kind: 'Tensor', shape: [6] } }, params: { codes: 5, codeDim: 2 } },
  ui: { codes: { units: 'codes' }, beta: { advanced: true }, update: { advanced: true }, decay: { advanced: true, showWhen: { update: ['ema'] } } },
  describe: (p) => ({ latent: { text: `a grid of discrete codes (${p.codes} per position) from nearest-neighbour quantisation of the encoder output`, rank: 3 } }),
  infer(shapes, p) {
    const M = flatSize(tensorShape(shapes, 'ze'));
    if (M % p.codeDim !== 0) throw new InferError('ze', `"ze" has ${M} values, not a multiple of codeDim ${p.codeDim}`, 'bad-input');
    const N = M / p.codeDim;
    return {
      zq: { kind: 'Tensor', shape: [M] },
      codes: { kind: 'Tensor', shape: [N] },
      codebookLoss: { kind: 'Tensor', shape: [1] },
      commitLoss: { kind: 'Tensor', shape: [1] },
      usage: { kind: 'Tensor', shape: [p.codes] },
      fn: { kind: 'Fn', in: [N], out: [M], timeConditioned: false },
    };
  },
  build(ctx, p, shapes): { codebook: any; fn: FnValue<any> } {
    const M = flatSize((shapes.ze as { shape: number[] }).shape);
    const N = M / p.codeDim;
    const K = p.codes;
    const { ops } = ctx;
    const codebook = p.update === 'ema' ? readState(ctx, 'codebook', [K, p.codeDim], { kind: 'normal', std: 1 }) : ctx.param('codebook', [K, p.codeDim], { kind: 'normal', std: 1 });
    const classes = ops.constant(Float32Array.from({ length: K }, (_, k) => k), [1, 1, K]);
    const fn: FnValue<any> = {
      kind: 'Fn',
      owner: ctx.nodeId,
      in: [N],
      out: [M],
      timeConditioned: false,
      call: (codes) => {
        const oneHot = ops.sub(ops.scalar(1), ops.minimum(ops.abs(ops.sub(ops.reshape(codes, [-1, N, 1]), classes)), ops.scalar(1)));
        return ops.reshape(ops.matmul(oneHot, codebook), [-1, M]);
      },
    };
    return { codebook, fn };
  },
  staticOutputs: ['fn'],
  apply(ctx, { inputs, params: p, built }) {
    const { ops } = ctx;
    const d = p.codeDim;
    const K = p.codes;
    const M = ops.shape(inputs.ze).slice(1).reduce((a, b) => a * b, 1);
    const N = M / d;
    const z = ops.reshape(inputs.ze, [-1, N, d]); // [B, N, d]
    const oneHot = nearestCode(ops, z, built.codebook, K); // [B, N, K]
    const e = ops.matmul(oneHot, built.codebook); // [B, N, d], gradient to the codebook
    const perRow = (sq: any) => ops.reshape(ops.sum(sq, [1, 2]), [-1, 1]);
    // with the EMA update the codes follow running means instead of the codebook term
    const codebookLoss = p.update === 'ema' ? ops.mul(perRow(ops.square(ops.sub(z, e))), ops.scalar(0)) : perRow(ops.square(ops.sub(ops.stopGradient(z), e)));
    if (p.update === 'ema') emaUpdate(ctx, ops.stopGradient(z), oneHot, built.codebook, K, d, p.decay);
    const commitLoss = ops.mul(perRow(ops.square(ops.sub(z, ops.stopGradient(e)))), ops.scalar(p.beta));
    const zq = ops.reshape(ops.add(z, ops.stopGradient(ops.sub(e, z))), [-1, M]);
    const index = ops.constant(Float32Array.from({ length: K }, (_, k) => k), [K, 1]);
    const codes = ops.reshape(ops.matmul(oneHot, index), [-1, N]);
    const usage = ops.mean(oneHot, [1]);
    return { zq, codes, codebookLoss, commitLoss, usage, fn: built.fn };
  },
});

/** one-hot [..., K] of the nearest codebook row for each vector of z [..., d] (no gradient) */
export function nearestCode<T>(ops: Ops<T>, z: T, codebook: T, K: number): T {
  // ||z - e_k||^2 = ||z||^2 - 2 z.e_k + ||e_k||^2; the ||z||^2 term does not change the argmin
  const score = ops.sub(ops.mul(ops.matmul(z, ops.transpose(codebook)), ops.scalar(2)), ops.reshape(ops.sum(ops.square(codebook), [1]), [1, K]));
  const best = reduceMax(ops, score, ops.shape(z).length - 1);
  // score - best is exactly 0 at the best code and negative elsewhere (an absolute margin would
  // vanish in float32 rounding once scores are large)
  return ops.stopGradient(ops.step(ops.add(ops.sub(score, best), ops.scalar(1e-30))));
}

/** the EMA codebook step: new counts, sums and codes as node state (see quantizer) */
function emaUpdate<T>(ctx: NodeCtx<T>, z: T, oneHot: T, codebook: T, K: number, d: number, g: number): void {
  const { ops } = ctx;
  const count = readState(ctx, 'count', [K], { kind: 'ones' });
  const sum = readState(ctx, 'sum', [K, d], { kind: 'zeros' });
  const n = ops.sum(oneHot, [0, 1]); // [K]
  const s = ops.sum(ops.matmul(ops.transpose(oneHot, [0, 2, 1]), z), [0]); // [K, d]
  // before the first step (seeded = 0) the running sums start at the codes themselves (count 1)
  const seeded = readState(ctx, 'seeded', [1], { kind: 'zeros' });
  const m0 = ops.add(ops.mul(seeded, sum), ops.mul(ops.sub(ops.scalar(1), seeded), codebook));
  writeState(ctx, 'seeded', ops.onesLike(seeded));
  const countNew = ops.add(ops.mul(count, ops.scalar(g)), ops.mul(n, ops.scalar(1 - g)));
  const sumNew = ops.add(ops.mul(m0, ops.scalar(g)), ops.mul(s, ops.scalar(1 - g)));
  writeState(ctx, 'count', countNew);
  writeState(ctx, 'sum', sumNew);
  // a code whose count has decayed below 1e-6 (long unused) keeps its place rather than be divided by ~0
  const c = ops.reshape(countNew, [K, 1]);
  const alive = ops.step(ops.sub(c, ops.scalar(1e-6)));
  const moved = ops.div(sumNew, ops.maximum(c, ops.scalar(1e-6)));
  writeState(ctx, 'codebook', ops.add(ops.mul(alive, moved), ops.mul(ops.sub(ops.scalar(1), alive), codebook)));
}
