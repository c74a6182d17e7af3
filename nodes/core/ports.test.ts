import { describe, expect, it } from 'vitest';
import { canConnect, formatShape, PORT_KINDS, type PortType } from './ports';

const t = (semantic?: string): PortType => ({ kind: 'Tensor', ...(semantic && { semantic: semantic as never }) });
const k = (kind: Exclude<PortType['kind'], 'Tensor'>): PortType => ({ kind });

describe('canConnect', () => {
  // from, to, allowed
  const table: [PortType, PortType, boolean][] = [
    [t('data'), t('data'), true],
    [t('data'), t(), true],
    [t(), t('latent'), true],
    [t('any'), t('noise'), true],
    [t('data'), t('latent'), false],
    [t('latent'), t('data'), false],
    [t('noise'), t('time'), false],
    [t('logit'), t('data'), false],
    [t('score'), t('velocity'), false],
    [k('Dist'), k('Dist'), true],
    [k('Fn'), k('Fn'), true],
    [k('Bijector'), k('Bijector'), true],
    [k('Schedule'), k('Schedule'), true],
    [k('Loss'), k('Loss'), true],
    [k('Dist'), t('data'), false],
    [t('data'), k('Dist'), false],
    [k('Fn'), k('Bijector'), false],
    [k('Schedule'), t(), false],
    [k('Loss'), t(), false],
    [k('Bijector'), k('Dist'), false],
  ];
  it.each(table)('%j -> %j: %s', (from, to, ok) => {
    expect(canConnect(from, to).ok).toBe(ok);
  });
  it('connects every kind to itself and to no other kind', () => {
    for (const a of PORT_KINDS) {
      for (const b of PORT_KINDS) {
        const pa = a === 'Tensor' ? t() : k(a as never);
        const pb = b === 'Tensor' ? t() : k(b as never);
        expect(canConnect(pa, pb).ok).toBe(a === b);
      }
    }
  });
  it('explains a refusal with both port types', () => {
    const r = canConnect(k('Dist'), t('data'));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe('cannot connect Dist to Tensor<data>');
    const s = canConnect(t('data'), t('latent'));
    expect(!s.ok && s.reason).toMatch(/Tensor<data> to Tensor<latent>/);
  });
  it('formats shapes with a symbolic batch', () => {
    expect(formatShape({ kind: 'Tensor', shape: [2] })).toBe('[B, 2]');
    expect(formatShape({ kind: 'Tensor', shape: [] })).toBe('[B]');
    expect(formatShape({ kind: 'Fn', in: [2], out: [2], timeConditioned: true })).toBe('Fn[B, 2] x t -> [B, 2]');
  });
});
