/**
 * Port types: a closed union and one `canConnect` function.
 *
 * Shapes are event shapes: the leading batch dimension is implicit and symbolic ("B").
 * A Tensor of shape [2] flows as [B, 2]; a per-example scalar (a time step) has shape [].
 */
export type Semantic = 'data' | 'latent' | 'noise' | 'time' | 'score' | 'velocity' | 'logit' | 'any';

export type PortType =
  | { kind: 'Tensor'; semantic?: Semantic }
  | { kind: 'Dist' }
  | { kind: 'Fn' }
  | { kind: 'Bijector' }
  | { kind: 'Schedule' }
  | { kind: 'Loss' };

export type PortKind = PortType['kind'];
export const PORT_KINDS: readonly PortKind[] = ['Tensor', 'Dist', 'Fn', 'Bijector', 'Schedule', 'Loss'];

/**
 * The time a time-conditioned network or a schedule speaks: discrete steps t in 0..T-1
 * (DDPM) or continuous t in [0, 1] (flow matching, SDEs).
 */
export type TimeDomain = 'discrete' | 'continuous';

/** What shape inference knows about a value flowing on a port. */
export type PortShape =
  | { kind: 'Tensor'; shape: number[] }
  | { kind: 'Dist'; event: number[] }
  | { kind: 'Fn'; in: number[]; out: number[]; timeConditioned: boolean; /** when time conditioned (default discrete) */ time?: TimeDomain }
  | { kind: 'Bijector'; event: number[] }
  | { kind: 'Schedule'; T: number }
  | { kind: 'Loss' };

export interface PortDecl {
  type: PortType;
  /** an input that may stay unconnected */
  optional?: boolean;
  /** shown on hover in the studio */
  doc?: string;
}

export type ConnectResult = { ok: true } | { ok: false; reason: string };

export function describePortType(t: PortType): string {
  return t.kind === 'Tensor' && t.semantic && t.semantic !== 'any' ? `Tensor<${t.semantic}>` : t.kind;
}

/**
 * Whether an output of type `from` may drive an input of type `to`.
 * Kinds must match. Tensor semantics must match unless either side is `any`, except that
 * Semantics are exact; `any` (or none) is the wildcard.
 */
export function canConnect(from: PortType, to: PortType): ConnectResult {
  if (from.kind !== to.kind) {
    return { ok: false, reason: `cannot connect ${describePortType(from)} to ${describePortType(to)}` };
  }
  if (from.kind === 'Tensor' && to.kind === 'Tensor') {
    const a = from.semantic ?? 'any';
    const b = to.semantic ?? 'any';
    if (a !== 'any' && b !== 'any' && a !== b) {
      return { ok: false, reason: `cannot connect ${describePortType(from)} to ${describePortType(to)}: a ${a} tensor is not a ${b} tensor` };
    }
  }
  return { ok: true };
}

export function formatShape(s: PortShape): string {
  const dims = (d: number[]) => `[B${d.map((x) => `, ${x}`).join('')}]`;
  switch (s.kind) {
    case 'Tensor':
      return dims(s.shape);
    case 'Dist':
      return `Dist${dims(s.event)}`;
    case 'Bijector':
      return `Bijector${dims(s.event)}`;
    case 'Fn':
      return `Fn${dims(s.in)}${s.timeConditioned ? (s.time === 'continuous' ? ' x t∈[0,1]' : ' x t') : ''} -> ${dims(s.out)}`;
    case 'Schedule':
      return `Schedule(T=${s.T})`;
    case 'Loss':
      return 'Loss';
  }
}

export function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
