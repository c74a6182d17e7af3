/**
 * A small, fast, seeded pseudo-random number generator.
 *
 * Generator: xoshiro128** (Blackman & Vigna, 2018), 128 bits of state, period 2^128 - 1,
 * all arithmetic in 32-bit integers (Math.imul and >>> 0), so it is exact in JavaScript.
 * Seeding: the 128-bit state is filled by splitmix32 from the seed, which spreads nearby
 * seeds (0, 1, 2, ...) over unrelated states and can never yield the all-zero state in practice.
 *
 * Same seed -> same sequence, on every platform.
 */

/** Anything indexable and writable with a length: plain arrays and typed arrays. */
export interface MutableArrayLike<T> {
  readonly length: number;
  [index: number]: T;
}

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;
const GOLDEN = 0x9e3779b9;

/** The splitmix32 output function (a 32-bit avalanche mix). */
function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** Folds any finite number (negative, fractional, beyond 2^32) into two 32-bit words. */
function seedWords(seed: number): [number, number] {
  if (!Number.isFinite(seed)) throw new RangeError(`Rng: seed must be a finite number, got ${seed}`);
  const whole = Math.floor(seed);
  const frac = seed - whole;
  const lo = whole >>> 0; // low 32 bits (two's complement for negatives)
  const hi = (Math.floor(whole / TWO_POW_32) >>> 0) ^ mix32(Math.floor(frac * TWO_POW_32) >>> 0);
  return [lo, hi];
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** The seed key, kept so that fork() depends on the seed only, not on draws made so far. */
  private readonly keyLo: number;
  private readonly keyHi: number;
  /** The spare normal deviate of the last polar-method pair (NaN when none). */
  private spare = NaN;

  constructor(seed: number) {
    const [lo, hi] = seedWords(seed);
    this.keyLo = lo;
    this.keyHi = hi;
    // splitmix32: state advances by the golden ratio, each output is mix32(state).
    let sm = (lo ^ mix32(hi ^ 0x6a09e667)) >>> 0;
    const next = (): number => {
      sm = (sm + GOLDEN) >>> 0;
      return mix32(sm);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the one forbidden state
  }

  /** The next raw 32-bit output, an integer in [0, 2^32). */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    // result = rotl(s1 * 5, 7) * 9
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = (n3 << 11) | (n3 >>> 21);
    return result;
  }

  /** Uniform on [0, 1) with 32 random bits (resolution 2^-32). */
  uniform(): number {
    return this.nextU32() * INV_TWO_POW_32;
  }

  /**
   * Standard normal N(0, 1) by Marsaglia's polar method: draw (u, v) uniform in the square
   * [-1, 1)^2 until 0 < s = u^2 + v^2 < 1, then u*f and v*f with f = sqrt(-2 ln s / s) are two
   * independent N(0, 1) deviates; the second is cached and returned by the next call.
   */
  normal(): number {
    const spare = this.spare;
    if (spare === spare) {
      // not NaN: a cached deviate is waiting
      this.spare = NaN;
      return spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = this.nextU32() * (2 * INV_TWO_POW_32) - 1;
      v = this.nextU32() * (2 * INV_TWO_POW_32) - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }

  /** Uniform integer in [0, n), exactly unbiased (rejection of the top partial block); 1 <= n <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    // accept x < limit, where limit is the largest multiple of n not above 2^32
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** In-place Fisher–Yates shuffle (every permutation equally likely). Works on typed arrays too. */
  shuffle<T>(a: MutableArrayLike<T>): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
  }

  /**
   * An independent derived stream. The result depends only on this generator's seed and on
   * `stream` (not on how many numbers were drawn so far), so `new Rng(s).fork(k)` is reproducible,
   * and forks of forks give further distinct streams.
   */
  fork(stream: number): Rng {
    const [slo, shi] = seedWords(stream);
    // Hash (key, stream) into a new 53-bit seed; the constants keep fork(0) distinct from the parent.
    const a = mix32((this.keyLo ^ mix32(slo ^ 0x243f6a88)) >>> 0);
    const b = mix32((this.keyHi ^ mix32(shi ^ 0x85a308d3) ^ a) >>> 0);
    return new Rng(a + (b & 0x1fffff) * TWO_POW_32);
  }
}
