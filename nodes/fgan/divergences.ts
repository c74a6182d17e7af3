/**
 * The f-divergences of f-GAN (Nowozin, Cseke & Tomioka 2016), one row per divergence.
 *
 * An f-divergence (eq. 1): D_f(P || Q) = ∫ q(x) f(p(x) / q(x)) dx, f convex, f(1) = 0.
 * The Fenchel conjugate f*(t) = sup_u { u t - f(u) } gives the variational lower bound of
 * Section 2.2 (Nguyen, Wainwright & Jordan), tight at T*(x) = f'(p(x) / q(x)):
 *
 *   D_f(P || Q) >= sup_T  E_{x~P}[T(x)] - E_{x~Q}[f*(T(x))].
 *
 * The critic's raw output V(x) in R is mapped into the domain of f* by an output
 * activation, T(x) = g_f(V(x)) (Table 2), and the f-GAN objective is (eq. 6)
 *
 *   F(theta, omega) = E_{x~P}[g_f(V_omega(x))] - E_{x~Q_theta}[f*(g_f(V_omega(x)))],
 *
 * maximised by the critic (omega), minimised by the generator (theta).
 *
 * Each row gives, in the paper's notation (Table 1: f; Table 2: g_f, dom f*, f*):
 *
 * | id        | f(u)                               | g_f(v)                 | dom f*     | f*(t)              |
 * | kl        | u log u                            | v                      | R          | exp(t - 1)         |
 * | reverseKl | -log u                             | -exp(-v)               | R_-        | -1 - log(-t)       |
 * | pearson   | (u - 1)^2                          | v                      | R          | t^2 / 4 + t        |
 * | hellinger | (sqrt(u) - 1)^2                    | 1 - exp(-v)            | t < 1      | t / (1 - t)        |
 * | js        | u log u - (u + 1) log((u + 1) / 2) | log 2 - log(1 + e^-v)  | t < log 2  | -log(2 - exp(t))   |
 * | gan       | u log u - (u + 1) log(u + 1)       | -log(1 + e^-v)         | R_-        | -log(1 - exp(t))   |
 *
 * With these f, D_f for `js` is ∫ p log(2p / (p + q)) + q log(2q / (p + q)) dx = 2 JS(P || Q)
 * (JS with its usual weights 1/2 on KL(P || M) and KL(Q || M), M = (P + Q) / 2), at most
 * 2 log 2; for `gan` it is 2 JS(P || Q) - log 4, the GAN value at the optimal discriminator.
 *
 * `activation` computes g_f(v); `conjugateOfActivation` computes f*(g_f(v)) written in v,
 * which is what the losses use: the composition is exact but the direct forms below stay
 * finite where f*(t) would cancel catastrophically near the edge of its domain (js: 2 -
 * exp(t) -> 0). `conjugate` is f*(t) itself, as in Table 2 (the tests check that
 * conjugate(activation(v)) = conjugateOfActivation(v)).
 */
import type { Ops } from '../core/ops';

export const DIVERGENCES = ['kl', 'reverseKl', 'pearson', 'hellinger', 'js', 'gan'] as const;
export type Divergence = (typeof DIVERGENCES)[number];

export interface DivergenceRow {
  /** what the compare view and the inspector say is minimised */
  label: string;
  /** D_f(P || Q) written out (P = data, Q = generator) */
  dLatex: string;
  fLatex: string;
  gLatex: string;
  conjLatex: string;
  /** T = g_f(v) (Table 2) */
  activation<T>(ops: Ops<T>, v: T): T;
  /** f*(t) on dom f* (Table 2) */
  conjugate<T>(ops: Ops<T>, t: T): T;
  /** f*(g_f(v)), in closed form in v */
  conjugateOfActivation<T>(ops: Ops<T>, v: T): T;
}

const LOG2 = Math.LN2;

export const DIVERGENCE_TABLE: { readonly [K in Divergence]: DivergenceRow } = {
  // f(u) = u log u; T* = 1 + log(p/q)
  kl: {
    label: 'the Kullback-Leibler divergence KL(p_data || p_g)',
    dLatex: '\\int p\\log\\frac{p}{q}\\,dx',
    fLatex: 'u\\log u',
    gLatex: 'v',
    conjLatex: 'e^{t-1}',
    activation: (_ops, v) => v,
    conjugate: (ops, t) => ops.exp(ops.sub(t, ops.scalar(1))),
    // f*(g(v)) = exp(v - 1)
    conjugateOfActivation: (ops, v) => ops.exp(ops.sub(v, ops.scalar(1))),
  },
  // f(u) = -log u; T* = -q/p
  reverseKl: {
    label: 'the reverse Kullback-Leibler divergence KL(p_g || p_data)',
    dLatex: '\\int q\\log\\frac{q}{p}\\,dx',
    fLatex: '-\\log u',
    gLatex: '-e^{-v}',
    conjLatex: '-1-\\log(-t)',
    activation: (ops, v) => ops.neg(ops.exp(ops.neg(v))),
    conjugate: (ops, t) => ops.sub(ops.scalar(-1), ops.log(ops.neg(t))),
    // -1 - log(exp(-v)) = v - 1
    conjugateOfActivation: (ops, v) => ops.sub(v, ops.scalar(1)),
  },
  // f(u) = (u - 1)^2; T* = 2 (p/q - 1)
  pearson: {
    label: 'the Pearson chi-squared divergence chi^2(p_data || p_g)',
    dLatex: '\\int \\frac{(p-q)^2}{q}\\,dx',
    fLatex: '(u-1)^2',
    gLatex: 'v',
    conjLatex: '\\tfrac{1}{4}t^2+t',
    activation: (_ops, v) => v,
    conjugate: (ops, t) => ops.add(ops.mul(ops.square(t), ops.scalar(0.25)), t),
    conjugateOfActivation: (ops, v) => ops.add(ops.mul(ops.square(v), ops.scalar(0.25)), v),
  },
  // f(u) = (sqrt u - 1)^2; T* = 1 - sqrt(q/p)
  hellinger: {
    label: 'the squared Hellinger distance H^2(p_data, p_g)',
    dLatex: '\\int \\big(\\sqrt{p}-\\sqrt{q}\\big)^2 dx',
    fLatex: '(\\sqrt{u}-1)^2',
    gLatex: '1-e^{-v}',
    conjLatex: '\\frac{t}{1-t}',
    activation: (ops, v) => ops.sub(ops.scalar(1), ops.exp(ops.neg(v))),
    conjugate: (ops, t) => ops.div(t, ops.sub(ops.scalar(1), t)),
    // (1 - e^-v) / e^-v = e^v - 1
    conjugateOfActivation: (ops, v) => ops.sub(ops.exp(v), ops.scalar(1)),
  },
  // f(u) = u log u - (u + 1) log((u + 1)/2); T* = log(2p / (p + q))
  js: {
    label: 'the Jensen-Shannon divergence (as 2 JS(p_data || p_g))',
    dLatex: '\\int p\\log\\frac{2p}{p+q}+q\\log\\frac{2q}{p+q}\\,dx = 2\\,\\mathrm{JS}',
    fLatex: 'u\\log u-(u+1)\\log\\tfrac{u+1}{2}',
    gLatex: '\\log 2-\\log(1+e^{-v})',
    conjLatex: '-\\log(2-e^{t})',
    activation: (ops, v) => ops.sub(ops.scalar(LOG2), ops.softplus(ops.neg(v))),
    conjugate: (ops, t) => ops.neg(ops.log(ops.sub(ops.scalar(2), ops.exp(t)))),
    // e^T = 2 sigmoid(v), 2 - e^T = 2 sigmoid(-v): f* = -log 2 + softplus(v)
    conjugateOfActivation: (ops, v) => ops.sub(ops.softplus(v), ops.scalar(LOG2)),
  },
  // f(u) = u log u - (u + 1) log(u + 1); T* = log(p / (p + q)) = log D*
  gan: {
    label: 'the GAN divergence 2 JS(p_data || p_g) - log 4',
    dLatex: '\\int p\\log\\frac{2p}{p+q}+q\\log\\frac{2q}{p+q}\\,dx-\\log 4',
    fLatex: 'u\\log u-(u+1)\\log(u+1)',
    gLatex: '-\\log(1+e^{-v})',
    conjLatex: '-\\log(1-e^{t})',
    activation: (ops, v) => ops.neg(ops.softplus(ops.neg(v))),
    conjugate: (ops, t) => ops.neg(ops.log(ops.sub(ops.scalar(1), ops.exp(t)))),
    // e^T = sigmoid(v), 1 - e^T = sigmoid(-v): f* = softplus(v) = -log(1 - D)
    conjugateOfActivation: (ops, v) => ops.softplus(v),
  },
};
