/**
 * The transition operator of a generative stochastic network, as the loss and the chain
 * sampler see it. Bengio, Yao, Alain & Vincent 2013 ("Generalized Denoising Auto-Encoders
 * as Generative Models", section 2 and Theorem 1) and Bengio et al. 2014 ("Deep Generative
 * Stochastic Networks Trainable by Backprop", section 3) define the Markov chain
 *   x~_t ~ C(x~ | x_t),   x_{t+1} ~ P_theta(x | x~_t)
 * whose stationary distribution estimates the data distribution when P_theta(x | x~) is a
 * consistent estimator of the true reverse conditional P(x | x~) and the chain is ergodic.
 * Here
 *   C:        x~ = x + sigma eps,  eps ~ N(0, I)                      (Gaussian corruption)
 *   P_theta:  N(x; mu_theta(x~), diag exp(2 s_theta(x~)))            (heteroscedastic diagonal Gaussian)
 *
 * One port carries the operator: an Fn whose `call(x_t)` draws the corruption inside and
 * returns the reconstruction parameters of P(x_{t+1} | C(x_t)), shaped [B, 2, ...event]
 * (index 0: mu, index 1: s = log std). The walkback loss scores the ORIGINAL x under them
 * and the sampler draws x_{t+1} from them; both share sigma because it lives in the Fn.
 */
import { diagNormal } from '../core/dists';
import { InferError } from '../core/defineNode';
import type { Ops } from '../core/ops';
import type { PortShape } from '../core/ports';
import type { FnValue } from '../core/values';

/**
 * The Fn of a transition node. Beyond `call` (one transition's reconstruction parameters,
 * corruption drawn inside) and `sample` (a whole transition x_t -> x_{t+1}), it exposes
 * its two halves, for inspection and tests.
 */
export interface TransitionFn<T> extends FnValue<T> {
  /** the corruption scale sigma of C */
  sigma: number;
  /** x~ = x + sigma eps */
  corrupt(x: T): T;
  /** the parameters [B, 2, ...event] of P_theta(x | x~) at a given x~ (no noise drawn) */
  reconstruct(xTilde: T): T;
}

/** mu and s = log std of P(x | x~), each [B, ...event], from the Fn's [B, 2, ...event] output */
export function splitRecon<T>(ops: Ops<T>, out: T, event: number[]): { mu: T; logStd: T } {
  // read as [B, 2, d] (an Fn that returns the flat [B, 2d] is read the same way)
  const pair = ops.reshape(out, [-1, 2, event.reduce((a, b) => a * b, 1)]);
  return {
    mu: ops.reshape(ops.sliceAxis(pair, 1, 0, 1), [-1, ...event]),
    logStd: ops.reshape(ops.sliceAxis(pair, 1, 1, 1), [-1, ...event]),
  };
}

/**
 * log P_theta(x | x~) per row [B]: the diagonal Gaussian log-density
 *   -1/2 sum_j ((x_j - mu_j)^2 exp(-2 s_j) + 2 s_j + log 2 pi)
 * of x under the parameters `out` = [B, 2, ...event].
 */
export function reconLogProb<T>(ops: Ops<T>, x: T, out: T, event: number[]): T {
  const { mu, logStd } = splitRecon(ops, out, event);
  return diagNormal(ops, mu, logStd, event).logProb(x);
}

/** a draw x ~ N(mu, diag exp(2 s)) from the parameters `out` (reparameterised: x = mu + exp(s) z) */
export function drawRecon<T>(ops: Ops<T>, out: T, event: number[]): T {
  const { mu, logStd } = splitRecon(ops, out, event);
  return ops.add(mu, ops.mul(ops.exp(logStd), ops.randomNormalLike(mu)));
}

/** the mean mu_theta(x~) of the parameters `out` */
export function reconMean<T>(ops: Ops<T>, out: T, event: number[]): T {
  return splitRecon(ops, out, event).mu;
}

/**
 * The transition Fn on `port`, checked: connected, an Fn without time, mapping [B, ...d]
 * to the reconstruction parameters [B, 2, ...d].
 */
export function transitionFn(shapes: Record<string, PortShape | undefined>, port: string) {
  const f = shapes[port];
  if (!f) throw new InferError(port, `connect a GSN transition operator to "${port}"`, 'bad-input');
  if (f.kind !== 'Fn') throw new InferError(port, `"${port}" must be a transition operator (an Fn), got ${f.kind}`, 'bad-input');
  if (f.timeConditioned) throw new InferError(port, `the transition operator on "${port}" must not take a time input`, 'bad-input');
  const ok = f.out.length === f.in.length + 1 && f.out[0] === 2 && f.in.every((d, i) => f.out[i + 1] === d);
  if (!ok) {
    throw new InferError(
      port,
      `the network on "${port}" maps [B, ${f.in.join(', ')}] to [B, ${f.out.join(', ')}]; a transition operator returns the mean and log std of P(x | x~), [B, 2, ${f.in.join(', ')}]`,
    );
  }
  return f;
}
