/**
 * Diffusion as a stochastic differential equation (Song, Sohl-Dickstein, Kingma, Kumar,
 * Ermon & Poole 2021, "Score-based generative modeling through stochastic differential
 * equations"; seed 000, sec. 10; seed 001, sec. 9; seed 003, "What's more?").
 *
 * Symbol map (paper -> code):
 *   x(t), t in [0, T = 1]      the state; t = 0 is the data, t = 1 the prior
 *   f(x, t) = f(t) x           drift (linear in x for all three SDEs: `f`)
 *   g(t)                       diffusion coefficient (`g2` = g(t)^2)
 *   beta(t)                    VP / sub-VP noise rate; B(t) = int_0^t beta(s) ds
 *   sigma(t)                   VE noise scale
 *   p_0t(x(t) | x(0)) = N(m(t) x(0), s(t)^2 I)   the perturbation kernel (`m`, `s`)
 *   s_theta(x, t)              the score network, ~ grad_x log p_t(x)
 *   epsilon                    the standard normal noise of x(t) = m x(0) + s epsilon
 *   eps (the paper's epsilon)  the smallest time `tEps` (sampling stops, likelihood starts there)
 *
 * Forward SDE (eq. 5):           dx = f(x, t) dt + g(t) dw
 * VE SDE (eq. 9):                dx = sqrt(d[sigma^2(t)]/dt) dw,   sigma(t) = sigma_min (sigma_max / sigma_min)^t
 * VP SDE (eq. 11):               dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw
 * sub-VP SDE (eq. 12):           dx = -1/2 beta(t) x dt + sqrt(beta(t) (1 - e^{-2 B(t)})) dw
 * Perturbation kernels (eq. 29, Appendix B):
 *   VE:     N(x(0), sigma(t)^2 I)  (the reference code's std sigma(t): x(0) is the data blurred by
 *           sigma_min; the paper's kernel sigma(t)^2 - sigma(0)^2 differs by sigma_min^2, here 1e-4)
 *   VP:     N(e^{-B/2} x(0), (1 - e^{-B}) I)
 *   sub-VP: N(e^{-B/2} x(0), (1 - e^{-B})^2 I)
 * Linear VP (Appendix B): beta(t) = beta_min + t (beta_max - beta_min): the limit of DDPM's
 * linear schedule beta_i = beta(i / N) / N as N -> infinity (beta_min = 0.1, beta_max = 20
 * is DDPM's 1e-4 .. 0.02 at N = 1000). Cosine VP: alpha-bar(t) = e^{-B(t)} = f(t) / f(0),
 * f(t) = cos^2((t + s)/(1 + s) pi/2) (Nichol & Dhariwal 2021, eq. 17, in continuous time), so
 * beta(t) = pi/(1 + s) tan((t + s)/(1 + s) pi/2); it grows without bound at t = 1, so it is
 * clipped at beta_clip from t_c on (where the tangent reaches it), and B(t) grows linearly
 * there: the marginals stay in closed form.
 *
 * Every coefficient is written once over a small scalar algebra (`Alg`): on numbers (tables,
 * tests) and on Ops tensors of per-row times (ODE solvers that step between table times,
 * the parameterisation converter), so the two views cannot drift apart.
 */
import type { Ops } from '../core/ops';
import type { ScheduleValue } from '../core/values';

/** the scalar algebra the coefficients are written over: numbers, or [B] tensors of Ops */
export interface Alg<V> {
  c(n: number): V;
  add(a: V, b: V): V;
  sub(a: V, b: V): V;
  mul(a: V, b: V): V;
  div(a: V, b: V): V;
  exp(a: V): V;
  log(a: V): V;
  sqrt(a: V): V;
  sin(a: V): V;
  cos(a: V): V;
  /** min(a, n) */
  minN(a: V, n: number): V;
  relu(a: V): V;
}

export const NUM: Alg<number> = {
  c: (n) => n,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  sin: Math.sin,
  cos: Math.cos,
  minN: (a, n) => Math.min(a, n),
  relu: (a) => Math.max(a, 0),
};

export function opsAlg<T>(ops: Ops<T>): Alg<T> {
  return {
    c: (n) => ops.scalar(n),
    add: (a, b) => ops.add(a, b),
    sub: (a, b) => ops.sub(a, b),
    mul: (a, b) => ops.mul(a, b),
    div: (a, b) => ops.div(a, b),
    exp: (a) => ops.exp(a),
    log: (a) => ops.log(a),
    sqrt: (a) => ops.sqrt(a),
    sin: (a) => ops.sin(a),
    cos: (a) => ops.cos(a),
    minN: (a, n) => ops.minimum(a, ops.scalar(n)),
    relu: (a) => ops.relu(a),
  };
}

/** the coefficients of a linear SDE at time t */
export interface Coefficients<V> {
  /** drift f(x, t) = f x */
  f: V;
  /** g(t)^2 */
  g2: V;
  /** kernel mean factor m(t): E[x(t) | x(0)] = m x(0) */
  m: V;
  /** kernel standard deviation s(t) */
  s: V;
}

export type SdeKind = 'vp' | 'subVp' | 've';

export interface Sde {
  kind: SdeKind;
  /** e.g. "VP SDE, linear beta(t) from 0.1 to 20" */
  label: string;
  /** the smallest time: samplers stop there, the likelihood starts there */
  tEps: number;
  coefficients<V>(a: Alg<V>, t: V): Coefficients<V>;
  /**
   * The time at which the kernel's noise-to-signal ratio s(t) / m(t) equals sigma: the
   * inverse of the equivalent VE level (x(t) / m = x(0) + (s / m) epsilon). Absent where it
   * has no closed form (the cosine VP schedule).
   */
  timeAt?<V>(a: Alg<V>, sigma: V): V;
}

/** a Schedule value that carries its SDE: its discrete view (T = N steps) feeds DDPM nodes too */
export interface SdeSchedule extends ScheduleValue {
  sde: Sde;
}

export type VpBeta = { kind: 'linear'; betaMin: number; betaMax: number } | { kind: 'cosine'; s: number; betaClip: number };

/** B(t) = int_0^t beta and beta(t) of a VP schedule */
function vpIntegral<V>(a: Alg<V>, b: VpBeta, t: V): { B: V; beta: V } {
  if (b.kind === 'linear') {
    const d = b.betaMax - b.betaMin;
    return { B: a.mul(t, a.add(a.c(b.betaMin), a.mul(t, a.c(d / 2)))), beta: a.add(a.c(b.betaMin), a.mul(t, a.c(d))) };
  }
  const tc = cosineClipTime(b);
  const k = Math.PI / 2 / (1 + b.s);
  const tt = a.minN(t, tc);
  const u = a.mul(a.add(tt, a.c(b.s)), a.c(k));
  const cos0 = Math.cos(b.s * k);
  // B = -log(f(t) / f(0)) = -2 log(cos u / cos u0), plus beta_clip (t - t_c) past t_c
  const B = a.add(a.mul(a.log(a.div(a.cos(u), a.c(cos0))), a.c(-2)), a.mul(a.relu(a.sub(t, a.c(tc))), a.c(b.betaClip)));
  const beta = a.minN(a.mul(a.div(a.sin(u), a.cos(u)), a.c(2 * k)), b.betaClip);
  return { B, beta };
}

/** t_c: where the cosine schedule's beta(t) = pi/(1 + s) tan((t + s)/(1 + s) pi/2) reaches beta_clip (1 when it never does) */
export function cosineClipTime(b: { s: number; betaClip: number }): number {
  const k = Math.PI / 2 / (1 + b.s);
  const tc = Math.atan(b.betaClip / (2 * k)) / k - b.s;
  return Math.min(tc, 1);
}

/**
 * t with B(t) = B for the linear beta(t): B = beta_min t + (beta_max - beta_min) t^2 / 2, so
 * t = 2 B / (beta_min + sqrt(beta_min^2 + 2 (beta_max - beta_min) B)) (the root without cancellation)
 */
function linearTimeOfB<V>(a: Alg<V>, b: { betaMin: number; betaMax: number }, B: V): V {
  const d = b.betaMax - b.betaMin;
  return a.div(a.mul(B, a.c(2)), a.add(a.c(b.betaMin), a.sqrt(a.add(a.c(b.betaMin * b.betaMin), a.mul(B, a.c(2 * d))))));
}

export function vpSde(sched: VpBeta, tEps: number, sub = false): Sde {
  const what = sched.kind === 'linear' ? `linear beta(t) from ${sched.betaMin} to ${sched.betaMax}` : `cosine beta(t), s = ${sched.s}, clipped at ${sched.betaClip}`;
  return {
    kind: sub ? 'subVp' : 'vp',
    label: `${sub ? 'sub-VP' : 'VP'} SDE, ${what}`,
    tEps,
    coefficients<V>(a: Alg<V>, t: V): Coefficients<V> {
      const { B, beta } = vpIntegral(a, sched, t);
      const decay = a.exp(a.mul(B, a.c(-1))); // e^{-B} = alpha-bar(t)
      const f = a.mul(beta, a.c(-0.5));
      const m = a.exp(a.mul(B, a.c(-0.5)));
      if (!sub) return { f, g2: beta, m, s: a.sqrt(a.sub(a.c(1), decay)) };
      // sub-VP: g^2 = beta (1 - e^{-2B}), s = 1 - e^{-B}
      return { f, g2: a.mul(beta, a.sub(a.c(1), a.mul(decay, decay))), m, s: a.sub(a.c(1), decay) };
    },
    ...(sched.kind === 'linear' && {
      timeAt<V>(a: Alg<V>, sigma: V): V {
        // VP: sigma^2 = (1 - e^{-B}) / e^{-B} = e^B - 1, so B = ln(1 + sigma^2);
        // sub-VP: sigma = (1 - e^{-B}) e^{B/2} = 2 sinh(B/2), so B = 2 asinh(sigma/2) = 2 ln(sigma/2 + sqrt(sigma^2/4 + 1))
        const B = sub
          ? a.mul(a.log(a.add(a.mul(sigma, a.c(0.5)), a.sqrt(a.add(a.mul(a.mul(sigma, sigma), a.c(0.25)), a.c(1))))), a.c(2))
          : a.log(a.add(a.c(1), a.mul(sigma, sigma)));
        return linearTimeOfB(a, sched, B);
      },
    }),
  };
}

export function veSde(sigmaMin: number, sigmaMax: number, tEps: number): Sde {
  const r = Math.log(sigmaMax / sigmaMin);
  return {
    kind: 've',
    label: `VE SDE, sigma(t) from ${sigmaMin} to ${sigmaMax}`,
    tEps,
    coefficients<V>(a: Alg<V>, t: V): Coefficients<V> {
      const sigma = a.exp(a.add(a.c(Math.log(sigmaMin)), a.mul(t, a.c(r))));
      // g^2 = d sigma^2 / dt = 2 sigma^2 log(sigma_max / sigma_min)
      return { f: a.c(0), g2: a.mul(a.mul(sigma, sigma), a.c(2 * r)), m: a.c(1), s: sigma };
    },
    timeAt: <V>(a: Alg<V>, sigma: V): V => a.div(a.sub(a.log(sigma), a.c(Math.log(sigmaMin))), a.c(r)),
  };
}

/** the coefficients at one time, as numbers */
export function coefAt(sde: Sde, t: number): Coefficients<number> {
  return sde.coefficients(NUM, t);
}

/** the prior p_1 = N(0, s(1)^2 I): VP and sub-VP ~N(0, I), VE N(0, sigma_max^2 I) (the data's part of the variance neglected) */
export function priorStd(sde: Sde): number {
  return coefAt(sde, 1).s;
}

/**
 * The discrete view of an SDE on N steps t_i = i / N, i = 1..N: the signal-to-noise ratio
 * of the kernel as a DDPM alpha-bar, alpha-bar_i = m^2 / (m^2 + s^2) (= m^2 for VP; for VE
 * 1 / (1 + sigma^2), the correspondence of Song et al. 2021, sec. 3.4). DDPM nodes fed by
 * an SDE node use it.
 */
export function sdeSchedule(sde: Sde, N: number, name: string): SdeSchedule {
  const alphaBars = new Float64Array(N);
  const alphas = new Float64Array(N);
  const betas = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const c = coefAt(sde, (i + 1) / N);
    alphaBars[i] = (c.m * c.m) / (c.m * c.m + c.s * c.s);
    alphas[i] = i === 0 ? alphaBars[i]! : alphaBars[i]! / alphaBars[i - 1]!;
    betas[i] = 1 - alphas[i]!;
  }
  return { kind: 'Schedule', name, T: N, betas, alphas, alphaBars, sde };
}

export function isSdeSchedule(s: ScheduleValue): s is SdeSchedule {
  return typeof (s as { sde?: unknown }).sde === 'object' && (s as { sde?: unknown }).sde !== null;
}

/**
 * The SDE a Schedule stands for: its own, or for DDPM's linear schedule (beta_1..beta_T)
 * the VP SDE it discretises, beta(t) = T beta_1 + t T (beta_T - beta_1) (Song et al. 2021,
 * Appendix B: beta_i = beta(i/N) / N), so a DDPM-trained network drives the SDE samplers.
 */
export function sdeOf(s: ScheduleValue): Sde {
  if (isSdeSchedule(s)) return s.sde;
  if (s.name === 'linear') {
    const T = s.T;
    return vpSde({ kind: 'linear', betaMin: T * s.betas[0]!, betaMax: T * s.betas[T - 1]! }, Math.min(1e-3, 1 / T));
  }
  throw new Error(`the "${s.name}" schedule has no SDE form: connect an SDE node (VP, sub-VP or VE) or DDPM's linear schedule`);
}
