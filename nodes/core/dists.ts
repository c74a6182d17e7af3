/**
 * Distributions over Ops. Symbols :
 *   N(mu, diag sigma^2)   diagonal Gaussian, log-std parameterised (s = log sigma)
 *   Bern(sigmoid(l))       Bernoulli with logits l
 *   p_X(x) = p_Z(f^-1(x)) |det d f^-1/dx|   change of variables (transformed dist)
 */
import type { Ops } from './ops';
import { cumsum, logSoftmax, logSumExp } from './reduce';
import type { BijectorValue, DistValue } from './values';
import { sumEvent } from './values';

const LOG_2PI = Math.log(2 * Math.PI);

export function standardNormal<T>(ops: Ops<T>, event: number[]): DistValue<T> {
  const draw = (n: number) => ops.randomNormal([n, ...event]);
  return {
    kind: 'Dist',
    family: 'standardNormal',
    event,
    sample: draw,
    rsample: draw,
    // log N(x; 0, I) = -0.5 (x^2 + log 2 pi), summed over the event
    logProb: (x) => sumEvent(ops, ops.mul(ops.add(ops.square(x), ops.scalar(LOG_2PI)), ops.scalar(-0.5))),
    params: {},
  };
}

/** N(mu, diag exp(2 logStd)); mu and logStd are [B, ...event] or broadcastable params. */
export function diagNormal<T>(ops: Ops<T>, mu: T, logStd: T, event: number[], batched = true): DistValue<T> {
  const rsample = (n: number) => {
    // x = mu + sigma * eps, eps ~ N(0, I)   (the reparameterisation trick,  / VAE)
    const eps = batched ? ops.randomNormalLike(mu) : ops.randomNormal([n, ...event]);
    return ops.add(mu, ops.mul(ops.exp(logStd), eps));
  };
  return {
    kind: 'Dist',
    family: 'diagNormal',
    event,
    sample: (n) => ops.stopGradient(rsample(n)),
    rsample,
    // log N(x; mu, sigma^2) = -0.5 ((x - mu)^2 / sigma^2 + 2 log sigma + log 2 pi)
    logProb: (x) => {
      const z = ops.mul(ops.sub(x, mu), ops.exp(ops.neg(logStd)));
      const per = ops.add(ops.add(ops.square(z), ops.mul(logStd, ops.scalar(2))), ops.scalar(LOG_2PI));
      return sumEvent(ops, ops.mul(per, ops.scalar(-0.5)));
    },
    mean: () => mu,
    params: { mu, logStd },
  };
}

/** Bernoulli(sigmoid(logits)) per pixel. */
export function bernoulli<T>(ops: Ops<T>, logits: T, event: number[]): DistValue<T> {
  return {
    kind: 'Dist',
    family: 'bernoulli',
    event,
    sample: () => {
      const u = ops.randomUniformLike(logits);
      // x = 1[u < p]. Ops has no comparison op, so the indicator is clip(1e6 (p - u), 0, 1):
      // exactly 0 or 1 unless |p - u| < 1e-6 (probability ~2e-6 per pixel). No gradient is needed.
      const p = ops.sigmoid(logits);
      return ops.stopGradient(ops.clip(ops.mul(ops.sub(p, u), ops.scalar(1e6)), 0, 1));
    },
    // log Bern(x; sigmoid(l)) = x l - softplus(l)
    logProb: (x) => sumEvent(ops, ops.sub(ops.mul(x, logits), ops.softplus(logits))),
    mean: () => ops.sigmoid(logits),
    params: { logits },
  };
}

/** X = f(Z), Z ~ base: exact log-likelihood by the change of variables. */
export function transformed<T>(ops: Ops<T>, base: DistValue<T>, flow: BijectorValue<T>): DistValue<T> {
  return {
    kind: 'Dist',
    family: 'transformed',
    event: base.event,
    sample: (n) => ops.stopGradient(flow.forward(base.sample(n)).y),
    rsample: base.rsample ? (n) => flow.forward(base.rsample!(n)).y : undefined,
    // log p_X(x) = log p_Z(f^-1(x)) + log |det d f^-1 / dx|
    logProb: (x) => {
      const { x: z, logDet } = flow.inverse(x);
      return ops.add(base.logProb(z), logDet);
    },
    params: {},
  };
}

/**
 * KL(q || p) in closed form where it exists, per row [B]; undefined otherwise.
 * KL(N(mu, s^2) || N(0, 1)) = 0.5 (mu^2 + s^2 - 1 - ln s^2)   (docs/REFERENCE.md closed forms)
 */
export function analyticKl<T>(ops: Ops<T>, q: DistValue<T>, p: DistValue<T>): T | undefined {
  if (q.family === 'diagNormal' && p.family === 'standardNormal') {
    const { mu, logStd } = q.params;
    const twoLog = ops.mul(logStd, ops.scalar(2));
    const per = ops.sub(ops.add(ops.square(mu), ops.exp(twoLog)), ops.add(twoLog, ops.scalar(1)));
    return sumEvent(ops, ops.mul(per, ops.scalar(0.5)));
  }
  if (q.family === 'diagNormal' && p.family === 'diagNormal') {
    // KL = log(s_p/s_q) + (s_q^2 + (mu_q - mu_p)^2) / (2 s_p^2) - 1/2
    const { mu: mq, logStd: sq } = q.params;
    const { mu: mp, logStd: sp } = p.params;
    const varRatio = ops.exp(ops.mul(ops.sub(sq, sp), ops.scalar(2)));
    const diff = ops.mul(ops.sub(mq, mp), ops.exp(ops.neg(sp)));
    const per = ops.add(ops.sub(sp, sq), ops.mul(ops.sub(ops.add(varRatio, ops.square(diff)), ops.scalar(1)), ops.scalar(0.5)));
    return sumEvent(ops, per);
  }
  return undefined;
}

/**
 * A mixture of diagonal Gaussians (seed 000 section 12):
 *   p(x) = sum_k pi_k N(x; mu_k, diag sigma_k^2),  pi = softmax(logits)
 *   log p(x) = logsumexp_k [log pi_k + log N(x; mu_k, sigma_k^2)]
 * `params` gives logits [1, K] (shared) or [B, K] (one mixture per row, a mixture density
 * network), mu and logStd [1, K, D] or [B, K, D], on every use. Sampling is ancestral: k ~ Cat(pi) by inverting the
 * cumulative weights at u ~ U(0, 1), then x = mu_k + sigma_k eps. It has no
 * reparameterised sample (the discrete draw has no gradient). K: the number of components.
 */
export function gaussianMixture<T>(ops: Ops<T>, params: () => MixtureParams<T>, event: number[], K: number): DistValue<T> {
  // computed on use, not here: builds run once with inert ops at compile time, and a
  // reshape of a parameter taken at build time would not follow its updates
  const logPi = () => logSoftmax(ops, params().logits, 1);
  const pick = (oneHot: T, v: T) => ops.sum(ops.mul(ops.reshape(oneHot, [-1, K, 1]), v), [1]);
  const sample = (n: number) => {
    const { logits, mu, logStd } = params();
    // the cumulative weights; the last entry is raised by 1 so that rounding can never leave u above it
    const lastUp = ops.constant(Float32Array.from({ length: K }, (_, k) => (k === K - 1 ? 1 : 0)), [1, K]);
    const w = ops.exp(logPi());
    const cumSum = cumsum(ops, w, 1);
    const cum = ops.add(cumSum, lastUp);
    const before = ops.sub(cumSum, w);
    const rows = ops.shape(logits)[0] === 1 ? ops.randomNormal([n, 1]) : ops.sliceAxis(logits, 1, 0, 1);
    const u = ops.randomUniformLike(rows);
    // component k is drawn when cum_{k-1} <= u < cum_k
    const oneHot = ops.sub(ops.step(ops.sub(cum, u)), ops.step(ops.sub(before, u)));
    const m = pick(oneHot, mu);
    return ops.stopGradient(ops.add(m, ops.mul(ops.exp(pick(oneHot, logStd)), ops.randomNormalLike(m))));
  };
  return {
    kind: 'Dist',
    family: 'gaussianMixture',
    event,
    sample,
    logProb: (x) => {
      const { mu, logStd } = params();
      return logSumExp(ops, mixtureJoint(ops, logPi(), mu, logStd, x), 1);
    },
    mean: () => pick(ops.exp(logPi()), params().mu),
    get params() {
      return { ...params() };
    },
  };
}

/** a gaussianMixture's tensors: logits [1|B, K], mu and logStd [1|B, K, D] */
export interface MixtureParams<T> {
  logits: T;
  mu: T;
  logStd: T;
}

/** log pi_k + log N(x_b; mu_k, sigma_k^2) per row and component: [B, K] */
function mixtureJoint<T>(ops: Ops<T>, logPi: T, mu: T, logStd: T, x: T): T {
  const D = ops.shape(mu)[2]!;
  const z = ops.mul(ops.sub(ops.reshape(x, [-1, 1, D]), mu), ops.exp(ops.neg(logStd)));
  const per = ops.add(ops.add(ops.square(z), ops.mul(logStd, ops.scalar(2))), ops.scalar(LOG_2PI));
  return ops.add(logPi, ops.mul(ops.sum(per, [2]), ops.scalar(-0.5)));
}

/** responsibilities r_bk = p(k | x_b) of a gaussianMixture's components: [B, K] (the E-step) */
export function mixtureResponsibilities<T>(ops: Ops<T>, dist: DistValue<T>, x: T): T {
  const { logits, mu, logStd } = dist.params as { logits: T; mu: T; logStd: T };
  return ops.exp(logSoftmax(ops, mixtureJoint(ops, logSoftmax(ops, logits, 1), mu, logStd, x), 1));
}
