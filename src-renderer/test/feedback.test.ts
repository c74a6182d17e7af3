/** Pure parts of the studio's feedback: param checks, ignored params, error texts, host addresses, the evaluating state. */
import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../src-main/api/contract';
import type { StudioClient } from '../api';
import { apiUrlFromAddress } from '../api';
import { checkParam } from '../components/ParamForm';
import { ignoredParams } from '../model/paramContext';
import { specOf } from '../model/registry';
import { TrainingStore } from '../model/training';
import { failureText } from '../studio';

describe('checkParam: a new value against the whole params schema, in words', () => {
  const enc = specOf('encoder.gaussian')!;
  it('says what is wrong with an out-of-range or fractional value; accepts a good one', () => {
    expect(checkParam(enc, { hidden: [8], latentDim: 2 }, ['latentDim'], -2)).toBe('must be ≥ 1');
    expect(checkParam(enc, { hidden: [8], latentDim: 2 }, ['latentDim'], 2.5)).toBe('must be an integer');
    expect(checkParam(enc, { hidden: [8], latentDim: 2 }, ['latentDim'], 3)).toBeUndefined();
  });
  it('reports only the edited field', () => {
    expect(checkParam(enc, { hidden: [8], latentDim: -5 }, ['hidden'], [16])).toBeUndefined();
  });
});

describe('ignoredParams: dim of a flow layer whose prev is connected', () => {
  const coupling = specOf('flow.affineCoupling')!;
  it('ignores dim only while prev is connected', () => {
    expect(ignoredParams(coupling, new Set(['prev'])).get('dim')).toMatch(/previous layer/);
    expect(ignoredParams(coupling, new Set()).size).toBe(0);
    expect(ignoredParams(specOf('encoder.gaussian')!, new Set(['x'])).size).toBe(0);
  });
});

describe('failureText: the path said once', () => {
  it('drops the host prefix and the system error repeating the path', () => {
    const p = '/data/graphs/missing.genloom.json';
    const t = failureText('Could not open', 'missing.genloom.json', new Error(`cannot open ${p}: ENOENT: no such file or directory, open '${p}'`));
    expect(t).toBe('Could not open missing.genloom.json: no such file or directory');
    expect(failureText('Could not save', 'a.json', new Error('disk full'))).toBe('Could not save a.json: disk full');
    // the web host's form: the absolute path twice after its own prefix
    const host = failureText('Could not open', 'missing.genloom.json', new Error(`cannot open ${p}: ${p}: cannot read the file: the file does not exist (ENOENT)`));
    expect(host.split('missing.genloom.json').length - 1).toBe(1);
    expect(host).toMatch(/does not exist/);
  });
});

describe('apiUrlFromAddress', () => {
  const page = { protocol: 'http:', host: '127.0.0.1:5000' };
  it('turns the printed address into the socket URL; needs the token', () => {
    expect(apiUrlFromAddress('http://127.0.0.1:6001/?token=abc', page)).toEqual({ url: 'ws://127.0.0.1:6001/api?token=abc', token: 'abc' });
    expect(apiUrlFromAddress('/?token=t2', page)).toEqual({ url: 'ws://127.0.0.1:5000/api?token=t2', token: 't2' });
    expect(apiUrlFromAddress('http://127.0.0.1:6001/', page)).toHaveProperty('error');
    expect(apiUrlFromAddress('', page)).toHaveProperty('error');
  });
});

describe('TrainingStore: evaluating', () => {
  it('shows the evaluation between its first event and the metrics', () => {
    let listener: (e: ApiEvent) => void = () => {};
    const client = { onEvent: (l: (e: ApiEvent) => void) => ((listener = l), () => {}) } as unknown as StudioClient;
    const store = new TrainingStore(client, () => 1);
    store.starting(10);
    store.started('r1', '/runs/r1');
    const send = (payload: unknown) => {
      listener({ event: 'train', runId: 'r1', payload } as unknown as ApiEvent);
      store.flush();
    };
    send({ type: 'evaluating', step: 10, done: 1, total: 3, what: 'sampler.energy' });
    expect(store.getState().evaluating).toEqual({ step: 10, done: 1, total: 3, what: 'sampler.energy' });
    send({ type: 'metrics', step: 10, metrics: { a: 1 } });
    expect(store.getState().evaluating).toBeNull();
  });
});
