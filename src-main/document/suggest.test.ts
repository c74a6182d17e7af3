import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from './suggest';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and transpositions', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('tpye', 'type')).toBe(1);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

describe('closestMatch', () => {
  const types = ['flow.affineCoupling', 'flow.actNorm', 'prior.standardNormal', 'loss.elbo', 'loss.mse'];
  it('suggests close names, ignoring case and namespace', () => {
    expect(closestMatch('flow.affineCupling', types)).toBe('flow.affineCoupling');
    expect(closestMatch('Flow.ActNorm', types)).toBe('flow.actNorm');
    expect(closestMatch('elbo', types)).toBe('loss.elbo');
    expect(closestMatch('prior.standardnormal', types)).toBe('prior.standardNormal');
  });
  it('suggests nothing when nothing is close', () => {
    expect(closestMatch('sampler.ddpm', types)).toBeUndefined();
    expect(closestMatch('x', [])).toBeUndefined();
  });
  it('is deterministic on ties', () => {
    expect(closestMatch('ab', ['ac', 'aa'])).toBe('aa');
    expect(closestMatch('ab', ['aa', 'ac'])).toBe('aa');
  });
});
