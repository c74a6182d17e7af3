import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiCallError, BridgeClient, WebSocketClient } from '../api';

class FakeSocket {
  static OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((m: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(t: string) {
    this.sent.push(t);
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  reply(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.stubGlobal('WebSocket', FakeSocket);
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('WebSocketClient', () => {
  it('queues requests until open, matches responses by id, validates results', async () => {
    const c = new WebSocketClient('ws://127.0.0.1:1/api?token=t');
    const ws = FakeSocket.all[0]!;
    expect(ws.url).toContain('token=t');
    const p1 = c.call('recentFiles', {});
    const p2 = c.call('autosave', { doc: { a: 1 } });
    expect(ws.sent).toHaveLength(0);
    ws.open();
    expect(ws.sent.map((s) => JSON.parse(s).method)).toEqual(['recentFiles', 'autosave']);
    const [r1, r2] = ws.sent.map((s) => JSON.parse(s));
    ws.reply({ id: r2.id, ok: true, result: { savedAt: 5 } });
    ws.reply({ id: r1.id, ok: true, result: ['/a.json'] });
    await expect(p1).resolves.toEqual(['/a.json']);
    await expect(p2).resolves.toEqual({ savedAt: 5 });
    // a malformed result is an error, not a crash
    const p3 = c.call('recentFiles', {});
    ws.reply({ id: JSON.parse(ws.sent[2]!).id, ok: true, result: 'nope' });
    await expect(p3).rejects.toMatchObject({ code: 'bad-response' });
    // a host error keeps its code and message
    const p4 = c.call('openFile', { path: 'x' });
    ws.reply({ id: JSON.parse(ws.sent[3]!).id, ok: false, error: { code: 'handler-error', message: 'cannot open x' } });
    await expect(p4).rejects.toEqual(new ApiCallError('handler-error', 'cannot open x'));
    c.dispose();
  });

  it('checks params before sending (defaults applied)', async () => {
    const c = new WebSocketClient('ws://x/api');
    FakeSocket.all[0]!.open();
    await expect(c.call('startTraining', { doc: {}, steps: 0 })).rejects.toMatchObject({ code: 'bad-params' });
    c.call('saveFile', { doc: {} }).catch(() => {});
    expect(JSON.parse(FakeSocket.all[0]!.sent[0]!).params).toEqual({ doc: {}, saveAs: false });
    c.dispose();
  });

  it('validates events, fails in-flight calls on disconnect, and reconnects', async () => {
    const c = new WebSocketClient('ws://x/api');
    const states: string[] = [];
    c.onConnection((s) => states.push(s));
    const events: unknown[] = [];
    c.onEvent((e) => events.push(e));
    const ws = FakeSocket.all[0]!;
    ws.open();
    ws.reply({ event: 'train', runId: 'r', payload: { type: 'warning', message: 'hi' } });
    ws.reply({ event: 'train', runId: 'r', payload: { type: 'bogus' } });
    expect(events).toHaveLength(1);
    const pending = c.call('recentFiles', {});
    ws.close();
    await expect(pending).rejects.toMatchObject({ code: 'disconnected' });
    expect(c.connection()).toBe('closed');
    vi.advanceTimersByTime(300);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1]!.open();
    expect(states).toEqual(['open', 'closed', 'connecting', 'open']);
    c.dispose();
  });
});

describe('BridgeClient (Electron preload)', () => {
  it('resolves results and maps plain-object rejections to ApiCallError', async () => {
    let push: (e: unknown) => void = () => {};
    const bridge = {
      call: vi.fn(async (method: string) => {
        if (method === 'recentFiles') return ['/b.json'];
        throw { code: 'handler-error', message: 'no dialog' };
      }),
      onEvent: (cb: (e: unknown) => void) => ((push = cb), () => {}),
    };
    const c = new BridgeClient(bridge);
    await expect(c.call('recentFiles', {})).resolves.toEqual(['/b.json']);
    await expect(c.call('openFile', {})).rejects.toEqual(new ApiCallError('handler-error', 'no dialog'));
    const seen: unknown[] = [];
    c.onEvent((e) => seen.push(e));
    push({ event: 'train', runId: 'r', payload: { type: 'paused', step: 3 } });
    push({ nonsense: true });
    expect(seen).toEqual([{ event: 'train', runId: 'r', payload: { type: 'paused', step: 3 } }]);
  });
});
