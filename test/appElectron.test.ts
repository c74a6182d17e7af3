/**
 * The Electron main process and preload with `electron` mocked: window options are secure,
 * navigation and new windows are denied, the CSP is set on every response, IPC goes through
 * the dispatcher and bad input gets an error reply; the preload exposes only call/onEvent;
 * the utilityProcess training host relays the protocol.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResponseSchema } from '../src-main/api/contract';
import type { TrainEvent } from '../src-main/api/trainingProtocol';
import { readTemplate } from '../src-main/document/templates';

const m = vi.hoisted(() => {
  const handlers = new Map<string, (...args: any[]) => any>();
  const windows: any[] = [];
  const appEvents = new Map<string, (...args: any[]) => any>();
  const protocolHandlers = new Map<string, (req: Request) => Promise<Response>>();
  const headerHooks: ((details: any, cb: (r: any) => void) => void)[] = [];
  const exposed = new Map<string, any>();
  const rendererListeners = new Map<string, Set<(...a: any[]) => void>>();
  return { handlers, windows, appEvents, protocolHandlers, headerHooks, exposed, rendererListeners, invoke: null as any, forks: [] as any[] };
});

vi.mock('electron', () => {
  class FakeWebContents {
    events = new Map<string, (...a: any[]) => void>();
    openHandler: ((d: any) => any) | undefined;
    sent: [string, unknown][] = [];
    on(ev: string, fn: (...a: any[]) => void) {
      this.events.set(ev, fn);
      return this;
    }
    setWindowOpenHandler(fn: (d: any) => any) {
      this.openHandler = fn;
    }
    send(channel: string, payload: unknown) {
      this.sent.push([channel, payload]);
    }
  }
  class BrowserWindow {
    static getAllWindows = () => m.windows.filter((w) => !w.destroyed);
    webContents = new FakeWebContents();
    destroyed = false;
    url: string | undefined;
    constructor(readonly options: any) {
      m.windows.push(this);
    }
    loadURL(url: string) {
      this.url = url;
      return Promise.resolve();
    }
    once() {}
    on() {}
    isDestroyed() {
      return this.destroyed;
    }
    isMinimized() {
      return false;
    }
    restore() {}
    focus() {}
    show() {}
  }
  const session = {
    defaultSession: {
      webRequest: { onHeadersReceived: (fn: any) => m.headerHooks.push(fn) },
      setPermissionRequestHandler: vi.fn(),
      setPermissionCheckHandler: vi.fn(),
    },
  };
  const app = {
    isPackaged: false,
    getPath: (name: string) => `/fake/${name}`,
    setPath: vi.fn(),
    enableSandbox: vi.fn(),
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    on: (ev: string, fn: any) => m.appEvents.set(ev, fn),
    quit: vi.fn(),
    exit: vi.fn(),
  };
  const ipcMain = {
    handle: (ch: string, fn: any) => m.handlers.set(ch, fn),
    removeHandler: (ch: string) => m.handlers.delete(ch),
  };
  const protocol = {
    registerSchemesAsPrivileged: vi.fn(),
    handle: (scheme: string, fn: any) => m.protocolHandlers.set(scheme, fn),
  };
  const dialog = { showOpenDialog: vi.fn(), showSaveDialog: vi.fn() };
  const utilityProcess = {
    fork: vi.fn((...args: unknown[]) => {
      const child = Object.assign(new EventEmitter(), { posted: [] as unknown[], args, postMessage(msg: unknown) { child.posted.push(msg); }, kill: vi.fn(() => true) });
      m.forks.push(child);
      return child;
    }),
  };
  const contextBridge = { exposeInMainWorld: (key: string, api: unknown) => m.exposed.set(key, api) };
  const ipcRenderer = {
    invoke: (...args: unknown[]) => m.invoke(...args),
    on: (ch: string, fn: any) => {
      if (!m.rendererListeners.has(ch)) m.rendererListeners.set(ch, new Set());
      m.rendererListeners.get(ch)!.add(fn);
    },
    removeListener: (ch: string, fn: any) => m.rendererListeners.get(ch)?.delete(fn),
  };
  const electron = { app, BrowserWindow, session, ipcMain, protocol, dialog, utilityProcess, contextBridge, ipcRenderer };
  return { ...electron, default: electron };
});

const electronMain = await import('../src-main/app/electronMain');
const { CALL_CHANNEL, EVENT_CHANNEL } = await import('../src-main/app/ipcChannels');

const trusted = { senderFrame: { url: 'app://genloom/index.html' } };

describe('Electron main process', () => {
  let dataDir: string;
  let rendererDir: string;
  let started: Awaited<ReturnType<typeof electronMain.startElectronApp>>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'genloom-electron-'));
    rendererDir = join(dataDir, 'renderer');
    await mkdir(join(rendererDir, 'assets'), { recursive: true });
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Genloom</title>');
    await writeFile(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(join(dataDir, 'secret.txt'), 'secret');
    started = await electronMain.startElectronApp({
      dataDir,
      rendererDir,
      preloadPath: '/out/preload/index.cjs',
      trainingEntry: '/out/main/trainingProcess.js',
    });
  });
  afterAll(async () => {
    await started.studio.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('sandboxes every renderer and opens one window with secure options', async () => {
    const { app, protocol } = await import('electron');
    expect(app.enableSandbox).toHaveBeenCalled();
    expect(protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([expect.objectContaining({ scheme: 'app' })]);
    expect(m.windows).toHaveLength(1);
    const prefs = m.windows[0].options.webPreferences;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      preload: '/out/preload/index.cjs',
    });
    expect(m.windows[0].url).toBe('app://genloom/index.html');
  });

  it('denies navigation, redirects, webviews and new windows', () => {
    const wc = m.windows[0].webContents;
    for (const ev of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const event = { preventDefault: vi.fn() };
      wc.events.get(ev)!(event, 'https://evil.example/');
      expect(event.preventDefault).toHaveBeenCalled();
    }
    expect(wc.openHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    // every other webContents too
    const other = { on: vi.fn(), setWindowOpenHandler: vi.fn() };
    m.appEvents.get('web-contents-created')!({}, other);
    expect(other.on).toHaveBeenCalledWith('will-navigate', expect.any(Function));
    expect(other.setWindowOpenHandler.mock.calls[0][0]()).toEqual({ action: 'deny' });
  });

  it('puts a strict CSP on every response and denies permissions', async () => {
    const { session } = await import('electron');
    expect(m.headerHooks).toHaveLength(1);
    let out: any;
    m.headerHooks[0]!({ responseHeaders: { 'content-security-policy': ["default-src *"], 'X-Other': ['1'] } }, (r) => (out = r));
    const keys = Object.keys(out.responseHeaders);
    expect(keys.filter((k) => k.toLowerCase() === 'content-security-policy')).toEqual(['Content-Security-Policy']);
    const csp: string = out.responseHeaders['Content-Security-Policy'][0];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(out.responseHeaders['X-Other']).toEqual(['1']);
    const cb = vi.fn();
    (session.defaultSession.setPermissionRequestHandler as any).mock.calls[0][0]({}, 'camera', cb);
    expect(cb).toHaveBeenCalledWith(false);
  });

  it('serves the renderer at app://genloom/ and nothing outside it', async () => {
    const handle = m.protocolHandlers.get('app')!;
    const index = await handle(new Request('app://genloom/index.html'));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    const js = await handle(new Request('app://genloom/assets/app.js'));
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    for (const bad of ['app://genloom/../secret.txt', 'app://genloom/%2e%2e/secret.txt', 'app://other/index.html', 'app://genloom/nope.js']) {
      expect((await handle(new Request(bad))).status).toBe(404);
    }
  });

  it('IPC calls go through dispatch', async () => {
    const handler = m.handlers.get(CALL_CHANNEL)!;
    expect(handler).toBeTypeOf('function');
    const r = await handler(trusted, { id: 1, method: 'listTemplates', params: {} });
    expect(ResponseSchema.safeParse(r).success).toBe(true);
    expect(r.ok).toBe(true);
    expect(r.result.map((t: { id: string }) => t.id)).toContain('vae-moons');
  });

  it('a malformed call gets an error reply, never a throw', async () => {
    const handler = m.handlers.get(CALL_CHANNEL)!;
    for (const [raw, code] of [
      [undefined, 'bad-request'],
      ['not json', 'bad-request'],
      [{ id: 2, method: 'rm -rf', params: {} }, 'unknown-method'],
      [{ id: 3, method: 'startTraining', params: { steps: 'many' } }, 'bad-params'],
      [{ id: 4, method: 'openFile', params: { path: join(dataDir, 'missing.json') } }, 'handler-error'],
    ] as const) {
      const r = await handler(trusted, raw);
      expect(ResponseSchema.safeParse(r).success).toBe(true);
      expect(r).toMatchObject({ ok: false, error: { code } });
    }
  });

  it('refuses calls from frames that are not the studio', async () => {
    const handler = m.handlers.get(CALL_CHANNEL)!;
    for (const event of [{ senderFrame: { url: 'https://evil.example/' } }, { senderFrame: null }, {}]) {
      const r = await handler(event, { id: 1, method: 'listTemplates', params: {} });
      expect(r).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    }
  });

  it('trains in a utilityProcess and sends its events to the window', async () => {
    const handler = m.handlers.get(CALL_CHANNEL)!;
    const doc = readTemplate('vae-moons') as any;
    const r = await handler(trusted, { id: 5, method: 'startTraining', params: { doc, steps: 30 } });
    expect(r.ok).toBe(true);
    const child = m.forks.at(-1);
    expect(child.args[0]).toBe('/out/main/trainingProcess.js');
    expect(child.posted).toEqual([]); // held until the child has spawned
    child.emit('spawn');
    expect(child.posted[0]).toMatchObject({ type: 'start', request: { steps: 30, runDir: r.result.runDir } });
    const step: TrainEvent = { type: 'step', step: 10, totalSteps: 30, stepsPerSec: 50, etaSec: 0.4, losses: { elbo: { recon: 1, kl: 0.5 } } };
    child.emit('message', step);
    child.emit('message', { type: 'step', step: 'garbage' }); // dropped with a warning
    await handler(trusted, { id: 6, method: 'stopTraining', params: { runId: r.result.runId } });
    expect(child.posted.at(-1)).toEqual({ type: 'stop' });
    child.emit('exit', 0); // died without a 'stopped': the window still hears the run end
    const sent = m.windows[0].webContents.sent.filter(([ch]: [string]) => ch === EVENT_CHANNEL).map(([, e]: [string, any]) => e);
    expect(sent.map((e: any) => e.payload.type)).toEqual(['step', 'warning', 'stopped']);
    expect(sent[0]).toEqual({ event: 'train', runId: r.result.runId, payload: step });
    expect(sent[2].payload).toMatchObject({ reason: 'error', step: 10 });
  });
});

describe('export in a utilityProcess', () => {
  it('sends the job once spawned and resolves with the reply; an early exit is an error', async () => {
    const { utilityProcessRunner } = await import('../src-main/app/exportBackend');
    const children: any[] = [];
    const run = utilityProcessRunner(() => {
      const c = Object.assign(new EventEmitter(), { posted: [] as unknown[], postMessage(m: unknown) { c.posted.push(m); }, kill: () => true });
      children.push(c);
      return c as any;
    });
    const job = { doc: {}, runDir: '/r', target: 'sampler:x', noise: 'internal' as const, path: '/r/x.onnx' };
    const p = run(job);
    children[0].emit('spawn');
    expect(children[0].posted).toEqual([job]);
    children[0].emit('message', { ok: true, result: { path: '/r/x.onnx', bytes: 10, parity: { pass: true } } });
    await expect(p).resolves.toEqual({ path: '/r/x.onnx', bytes: 10, parity: { pass: true } });
    const p2 = run(job);
    children[1].emit('spawn');
    children[1].emit('message', { ok: false, message: 'no checkpoint' });
    await expect(p2).rejects.toThrow('no checkpoint');
    const p3 = run(job);
    children[2].emit('exit', 9);
    await expect(p3).rejects.toThrow(/exited \(code 9\)/);
  });
});

describe('preload', () => {
  beforeEach(() => {
    m.exposed.clear();
    vi.resetModules();
  });

  it('exposes exactly { call, onEvent } as window.genloom, never ipcRenderer', async () => {
    await import('../src-main/app/preload');
    expect([...m.exposed.keys()]).toEqual(['genloom']);
    const api = m.exposed.get('genloom');
    expect(Object.keys(api).sort()).toEqual(['call', 'onEvent']);
    for (const v of Object.values(api)) expect(v).toBeTypeOf('function');
    const { ipcRenderer } = await import('electron');
    expect(Object.values(api)).not.toContain(ipcRenderer);
  });

  it('call resolves with the result, or rejects with a plain { code, message }', async () => {
    await import('../src-main/app/preload');
    const api = m.exposed.get('genloom');
    const seen: unknown[] = [];
    m.invoke = async (channel: string, req: { id: number; method: string }) => {
      seen.push([channel, req]);
      return req.method === 'recentFiles' ? { id: req.id, ok: true, result: ['/x.json'] } : { id: req.id, ok: false, error: { code: 'unknown-method', message: 'unknown method "x"' } };
    };
    expect(await api.call('recentFiles', {})).toEqual(['/x.json']);
    const err = await api.call('x', {}).catch((e: unknown) => e);
    expect(err).toEqual({ code: 'unknown-method', message: 'unknown method "x"' });
    expect(Object.getPrototypeOf(err)).toBe(Object.prototype);
    expect(seen[0]).toEqual([CALL_CHANNEL, { id: 1, method: 'recentFiles', params: {} }]);
  });

  it('onEvent relays host events and unsubscribes', async () => {
    await import('../src-main/app/preload');
    const api = m.exposed.get('genloom');
    const got: unknown[] = [];
    const off = api.onEvent((e: unknown) => got.push(e));
    for (const l of m.rendererListeners.get(EVENT_CHANNEL) ?? []) l({ sender: 'ipc' }, { event: 'train', runId: 'r', payload: { type: 'warning', message: 'hi' } });
    off();
    for (const l of m.rendererListeners.get(EVENT_CHANNEL) ?? []) l({}, { event: 'train' });
    expect(got).toEqual([{ event: 'train', runId: 'r', payload: { type: 'warning', message: 'hi' } }]);
    expect(() => api.onEvent('not a function')).toThrow();
  });
});
