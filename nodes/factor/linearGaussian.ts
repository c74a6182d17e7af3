import { z } from 'zod';
import { defineNode, InferError, readState, writeState, type NodeCtx } from '../core/defineNode';
import { cholesky, eye, forwardSolve, logDetFromCholesky, spdInverse } from '../core/linalg';
import { flatSize, tensorShape } from '../core/objective';
import type { Ops } from '../core/ops';
import type { DistValue } from '../core/values';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Factor analysis and probabilistic PCA (seed 000 section 12; Bishop, PRML section 12.2;
 * Tipping & Bishop 1999; Ghahramani & Hinton 1996). Symbols: x in R^D, z in R^L (L < D),
 * mu [D], W [D, L] the factor loadings, Psi = diag(psi) the noise (factor analysis: one
 * variance per dimension; PPCA: Psi = sigma^2 I), e = x - mu, S the data covariance.
 *   z ~ N(0, I_L),  x | z ~ N(mu + W z, Psi),  so  p(x) = N(x; mu, C),  C = W W^T + Psi
 * log p(x) through the Woodbury identity with M = I + W^T Psi^-1 W [L, L] (PRML 12.41-12.44):
 *   log|C| = log|Psi| + log|M|,   e^T C^-1 e = e^T Psi^-1 e - u^T M^-1 u,  u = W^T Psi^-1 e
 * so the cost is O(D L) per point, never a D x D matrix.
 * Fitting works on the mean and covariance S of every row seen so far, which the node keeps
 * as state (`accumulateMoments`): a training step merges its batch into them, then takes
 * `iterations` EM steps (or rounds of subspace iteration) on them, so every step fits all
 * the data seen, whatever the batch size. EM step (PRML 12.54-12.57; FA, 12.69-12.70):
 *   E:  E[z_n] = M^-1 W^T Psi^-1 e_n,  S_zz = (1/n) sum_n E[z_n z_n^T],  S_xz = (1/n) sum_n e_n E[z_n]^T
 *   M:  W <- S_xz S_zz^-1,
 *       FA:   psi <- diag(S - W_new S_xz^T)
 *       PPCA: sigma^2 <- tr(S - W_new S_xz^T) / D
 * and mu <- the mean (its maximum-likelihood value in closed form).
 * PPCA in closed form (Tipping & Bishop 1999, eqs 7-8): with lambda_1 >= ... >= lambda_D the
 * eigenvalues of S and U_L the top-L eigenvectors,
 *   sigma^2 = (1 / (D - L)) sum_{j > L} lambda_j,   W = U_L (Lambda_L - sigma^2 I)^(1/2) (up to a rotation)
 * The top-L subspace Q comes from orthogonal (subspace) iteration Q <- orth(S Q), with the
 * orthonormalisation by Cholesky QR; then with T = Q^T S Q, sigma^2 = (tr S - tr T) / (D - L)
 * and W = Q chol(T - sigma^2 I), which has W W^T = U_L (Lambda_L - sigma^2 I) U_L^T.
 */
export const linearGaussian = defineNode({
  type: 'factor.linearGaussian',
  version: 1,
  title: 'Factor analysis / PPCA',
  category: 'prior',
  role: 'network',
  inputs: {
    x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'the data the model is fitted to (its shape fixes D; the EM or closed-form step reads it)' },
  },
  outputs: {
    p: { type: { kind: 'Dist' }, doc: 'p(x) = N(x; mu, W W^T + Psi)' },
  },
  params: z
    .object({
      latentDim: z.number().int().min(1).max(64).default(2),
      /** diagonal: factor analysis (one noise variance per dimension); isotropic: probabilistic PCA */
      noise: z.enum(['diagonal', 'isotropic']).default('diagonal'),
      /** em: one EM step per training step; eigen: PPCA's closed-form fit in one step */
      solver: z.enum(['em', 'eigen']).default('em'),
      /** per training step, on the statistics so far: EM steps, or rounds of subspace iteration (eigen) */
      iterations: z.number().int().min(1).max(1000).default(5),
      /** the smallest noise variance a fit may set */
      minVariance: z.number().positive().max(10).default(1e-4),
    })
    .refine((p) => !(p.solver === 'eigen' && p.noise === 'diagonal'), {
      message: 'the closed-form (eigen) fit exists for PPCA only: set noise to "isotropic", or fit factor analysis by EM',
      path: ['solver'],
    }),
  math: {
    latex:
      'z \\sim \\mathcal{N}(0, I_L),\\quad x \\mid z \\sim \\mathcal{N}(\\mu + W z, \\Psi),\\quad p(x) = \\mathcal{N}(x; \\mu, W W^\\top + \\Psi),\\quad \\Psi = \\begin{cases}\\operatorname{diag}\\psi & \\text{FA}\\\\ \\sigma^2 I & \\text{PPCA}\\end{cases}',
    explain:
      'A linear-Gaussian latent-variable model: a few continuous factors z, mapped linearly into data space, plus Gaussian noise. The marginal p(x) is a Gaussian whose covariance is low rank plus noise, so the likelihood is exact. Factor analysis gives every dimension its own noise variance; probabilistic PCA shares one, and then the maximum-likelihood fit is PCA itself: W spans the top principal directions, and sigma^2 is the average variance left out. Both are fitted without a learning rate: by EM (the E-step infers each point\'s factors, the M-step refits W and the noise in closed form), or, for PPCA, in one step from the eigenvectors of the data covariance. It is the linear ancestor of the VAE.',
  },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [4] } }, params: { latentDim: 2 } },
  exports: [{ kind: 'density', port: 'p', doc: 'log p(x), exact' }],
  ui: {
    solver: { units: '' },
    iterations: { advanced: true, units: 'per step' },
    minVariance: { advanced: true },
  },
  describe: (p) => ({
    latent: { text: `${p.latentDim} continuous Gaussian factors z, mapped linearly: x = mu + W z + noise (${p.noise === 'diagonal' ? 'one variance per dimension' : 'one shared variance'})`, rank: 2 },
  }),
  infer(shapes, p) {
    const x = tensorShape(shapes, 'x');
    const D = flatSize(x);
    if (p.latentDim >= D) throw new InferError('x', `latentDim ${p.latentDim} must be below the data dimension ${D} of "x"`, 'bad-input');
    return { p: { kind: 'Dist', event: x } };
  },
  build(ctx, p, shapes): { p: DistValue<any> } {
    const event = (shapes.x as { shape: number[] }).shape;
    const D = flatSize(event);
    const L = p.latentDim;
    const { ops } = ctx;
    const mu = ctx.param('mu', [D], { kind: 'zeros' });
    const w = ctx.param('w', [D, L], { kind: 'normal', std: 0.1 });
    const logPsi = ctx.param('logPsi', [p.noise === 'diagonal' ? D : 1], { kind: 'zeros' });
    const logProb = (x: any) => {
      const e = ops.sub(ops.reshape(x, [-1, D]), mu);
      const psiInv = ops.exp(ops.neg(logPsi));
      const wp = ops.mul(w, ops.reshape(psiInv, [-1, 1])); // Psi^-1 W [D, L]
      const R = cholesky(ops, ops.add(eye(ops, L), ops.matmul(ops.transpose(w), wp)), L); // M = R R^T
      const v = forwardSolve(ops, R, ops.transpose(ops.matmul(e, wp)), L); // R^-1 u [L, B]: u^T M^-1 u = ||v||^2
      const quad = ops.sub(ops.sum(ops.mul(ops.square(e), psiInv), [1]), ops.sum(ops.square(v), [0]));
      const logDetPsi = p.noise === 'diagonal' ? ops.sum(logPsi) : ops.mul(ops.sum(logPsi), ops.scalar(D));
      const logDet = ops.add(logDetPsi, logDetFromCholesky(ops, R, L));
      return ops.mul(ops.add(ops.add(quad, logDet), ops.scalar(D * LOG_2PI)), ops.scalar(-0.5));
    };
    const dist: DistValue<any> = {
      kind: 'Dist',
      family: 'linearGaussian',
      event,
      logProb,
      // x = mu + W z + Psi^(1/2) eps
      sample: (n) => {
        const z = ops.randomNormal([n, L]);
        const eps = ops.randomNormal([n, D]);
        const x = ops.add(ops.add(mu, ops.matmul(z, ops.transpose(w))), ops.mul(ops.exp(ops.mul(logPsi, ops.scalar(0.5))), eps));
        return ops.stopGradient(ops.reshape(x, [-1, ...event]));
      },
      mean: () => ops.reshape(mu, [1, ...event]),
      params: { mu, w, logPsi },
    };
    return { p: dist };
  },
  staticOutputs: ['p'],
  apply: (_ctx, { built }) => ({ p: built.p }),
  update(ctx, { inputs, params, built }) {
    const { ops } = ctx;
    const L = params.latentDim;
    const D = flatSize(ops.shape(inputs.x).slice(1));
    const { mu, S } = accumulateMoments(ctx, ops.reshape(inputs.x, [-1, D]), D);
    const { w, logPsi } = built.p.params;
    const floor = ops.scalar(params.minVariance);
    if (params.solver === 'eigen') return { mu, ...ppcaClosedForm(ops, S, w, D, L, params.iterations, floor) };
    const diagS = ops.sum(ops.mul(S, eye(ops, D)), [1]);
    const [wNew, logPsiNew] = ops.loop(params.iterations, [w, logPsi], (_i, [w, logPsi]) => emStep(ops, S, diagS, w!, logPsi!, D, L, params.noise, floor));
    return { mu, w: wNew!, logPsi: logPsiNew! };
  },
});

/**
 * One EM step in the data's moments (E[z_n] = M^-1 W^T Psi^-1 e_n, so the sums over rows are
 * products with S):
 *   S_xz = S Psi^-1 W M^-1,   S_zz = M^-1 + M^-1 W^T Psi^-1 S Psi^-1 W M^-1
 * then the M-step W <- S_xz S_zz^-1, Psi <- diag(S - W_new S_xz^T) (PPCA: its mean).
 */
function emStep<T>(ops: Ops<T>, S: T, diagS: T, w: T, logPsi: T, D: number, L: number, noise: 'diagonal' | 'isotropic', floor: T): T[] {
  const wp = ops.mul(w, ops.reshape(ops.exp(ops.neg(logPsi)), [-1, 1])); // Psi^-1 W [D, L]
  const Minv = spdInverse(ops, ops.add(eye(ops, L), ops.matmul(ops.transpose(w), wp)), L);
  const sw = ops.matmul(S, wp); // [D, L]
  const sxz = ops.matmul(sw, Minv);
  const szz = ops.add(Minv, ops.matmul(ops.matmul(Minv, ops.matmul(ops.transpose(wp), sw)), Minv));
  const wNew = ops.matmul(sxz, spdInverse(ops, szz, L));
  const resid = ops.sub(diagS, ops.sum(ops.mul(sxz, wNew), [1])); // [D]
  const psi = noise === 'diagonal' ? resid : ops.reshape(ops.div(ops.sum(resid), ops.scalar(D)), [1]);
  return [wNew, ops.log(ops.maximum(psi, floor))];
}

/**
 * The mean and covariance of every row seen so far (node state: count n, mean m, scatter
 * M = sum (x - m)(x - m)^T), merged with a batch by Chan et al.'s pairwise update:
 *   n' = n + b,  m' = m + (b / n') d,  M' = M + M_b + (n b / n') d d^T,  d = mean_b - m
 * Both fits need only these sufficient statistics, so a step sees every batch so far: a
 * small batch cannot make the fit degenerate (fewer rows than factors), and on a finite set
 * the statistics are those of the training split once it has been seen.
 */
function accumulateMoments<T>(ctx: NodeCtx<T>, x: T, D: number): { mu: T; S: T } {
  const { ops } = ctx;
  const n = readState(ctx, 'count', [1], { kind: 'zeros' });
  const m = readState(ctx, 'mean', [D], { kind: 'zeros' });
  const M = readState(ctx, 'scatter', [D, D], { kind: 'zeros' });
  const b = ops.sum(ops.fill(ops.sliceAxis(x, 1, 0, 1), 1)); // rows, as a tensor (the batch may be symbolic)
  const mb = ops.mean(x, [0]);
  const eb = ops.sub(x, mb);
  const nNew = ops.add(n, b);
  const d = ops.reshape(ops.sub(mb, m), [D, 1]);
  const mNew = ops.add(m, ops.mul(ops.reshape(d, [D]), ops.div(b, nNew)));
  const MNew = ops.add(ops.add(M, ops.matmul(ops.transpose(eb), eb)), ops.mul(ops.matmul(d, ops.transpose(d)), ops.div(ops.mul(n, b), nNew)));
  writeState(ctx, 'count', nNew);
  writeState(ctx, 'mean', mNew);
  writeState(ctx, 'scatter', MNew);
  return { mu: mNew, S: ops.div(MNew, nNew) };
}

/**
 * PPCA's maximum-likelihood W and log sigma^2 from the data covariance S [D, D] (Tipping &
 * Bishop 1999, eqs 7-8): the top-L subspace of S by subspace iteration started from the
 * current W (so steps continue one another), then sigma^2 = (tr S - tr T) / (D - L) and
 * W = Q chol(T - sigma^2 I), T = Q^T S Q.
 */
export function ppcaClosedForm<T>(ops: Ops<T>, S: T, w: T, D: number, L: number, iterations: number, floor: T): { w: T; logPsi: T } {
  // Q^T with orthonormal rows: Z^T Z = R R^T, Q = Z R^-T, i.e. Q^T = R^-1 Z^T; a jitter of
  // 1e-6 of the mean eigenvalue keeps R finite where S has fewer than L directions (few rows seen)
  const I = eye(ops, L);
  const orth = (z: T) => {
    const g = ops.matmul(ops.transpose(z), z);
    const jitter = ops.mul(ops.sum(ops.mul(g, I)), ops.scalar(1e-6 / L));
    return ops.transpose(forwardSolve(ops, cholesky(ops, ops.add(g, ops.mul(I, jitter)), L), ops.transpose(z), L));
  };
  // a fixed pseudo-random spread keeps the start full rank where W has lost a direction
  const spread = Float32Array.from({ length: D * L }, (_, k) => {
    const h = Math.sin(12.9898 * (k + 1)) * 43758.5453;
    return 1e-3 * (h - Math.floor(h) - 0.5);
  });
  const q0 = orth(ops.add(w, ops.constant(spread, [D, L])));
  const [q] = ops.loop(iterations, [q0], (_i, [q]) => [orth(ops.matmul(S, q!))]);
  const T = ops.matmul(ops.transpose(q!), ops.matmul(S, q!)); // [L, L]
  const trS = ops.sum(ops.mul(S, eye(ops, D)));
  const trT = ops.sum(ops.mul(T, I));
  const sigma2 = ops.maximum(ops.div(ops.sub(trS, trT), ops.scalar(D - L)), floor);
  // where S has fewer than L directions above sigma^2, the pivots are floored (those columns of W stay near 0)
  const w2 = ops.matmul(q!, cholesky(ops, ops.sub(T, ops.mul(I, sigma2)), L, floor));
  return { w: w2, logPsi: ops.reshape(ops.log(sigma2), [1]) };
}
