/**
 * Electron hardening that needs no Electron binary: a packaged app ignores
 * ELECTRON_RENDERER_URL (it loads app://genloom/, keeps the strict CSP and trusts no other
 * origin), the fuses that scripts/fuses.ts applies after packaging, and the renderer
 * taking the web-mode token out of the address bar.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { removeTokenFromAddress } from '../src-renderer/api';
import { FUSE_SETTINGS, fuseConfig } from '../scripts/fuseSettings';

const m = vi.hoisted(() => ({
  isPackaged: false,
  handlers: new Map<string, (...args: any[]) => any>(),
  windows: [] as any[],
  headerHooks: [] as ((details: any, cb: (r: any) => void) => void)[],
}));

vi.mock('electron', () => {
  class BrowserWindow {
    static getAllWindows = () => m.windows;
    webContents = { on() {}, setWindowOpenHandler() {}, send() {} };
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
  }
  const app = {
    get isPackaged() {
      return m.isPackaged;
    },
    getPath: (name: string) => `/fake/${name}`,
    setPath: vi.fn(),
    enableSandbox: vi.fn(),
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    on: vi.fn(),
    quit: vi.fn(),
  };
  const electron = {
    app,
    BrowserWindow,
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (fn: any) => m.headerHooks.push(fn) },
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn(),
      },
    },
    ipcMain: { handle: (ch: string, fn: any) => m.handlers.set(ch, fn), removeHandler: (ch: string) => m.handlers.delete(ch) },
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
    dialog: { showOpenDialog: vi.fn(), showSaveDialog: vi.fn() },
    utilityProcess: { fork: vi.fn() },
  };
  return { ...electron, default: electron };
});

const electronMain = await import('../src-main/app/electronMain');
const { CALL_CHANNEL } = await import('../src-main/app/ipcChannels');

const DEV_URL = 'http://localhost:5173';

describe('ELECTRON_RENDERER_URL: development only', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  afterEach(() => {
    delete process.env.ELECTRON_RENDERER_URL;
    m.windows.length = 0;
    m.headerHooks.length = 0;
  });

  async function start(isPackaged: boolean) {
    m.isPackaged = isPackaged;
    process.env.ELECTRON_RENDERER_URL = DEV_URL;
    const dataDir = await mkdtemp(join(tmpdir(), 'genloom-electron-sec-'));
    dirs.push(dataDir);
    await mkdir(join(dataDir, 'renderer'));
    await writeFile(join(dataDir, 'renderer', 'index.html'), '<!doctype html>');
    const app = await electronMain.startElectronApp({ dataDir, rendererDir: join(dataDir, 'renderer'), preloadPath: '/p.cjs', trainingEntry: '/t.js', training: vi.fn() as any });
    let csp = '';
    m.headerHooks[0]!({ responseHeaders: {} }, (r) => (csp = r.responseHeaders['Content-Security-Policy'][0]));
    const call = (url: string) => m.handlers.get(CALL_CHANNEL)!({ senderFrame: { url } }, { id: 1, method: 'recentFiles', params: {} });
    return { app, url: m.windows[0].url as string, csp, call };
  }

  it('a packaged app ignores it: app://genloom/, the strict CSP, the dev origin not trusted', async () => {
    const s = await start(true);
    expect(s.url).toBe('app://genloom/index.html');
    expect(s.csp).toContain("script-src 'self';");
    expect(s.csp).not.toContain('unsafe-inline\' http');
    expect(s.csp).not.toContain('localhost:5173');
    expect(await s.call(`${DEV_URL}/`)).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await s.call('app://genloom/index.html')).toMatchObject({ ok: true });
    await s.app.studio.dispose();
  });

  it('an unpackaged app (electron-vite dev) loads the dev server and trusts its origin', async () => {
    const s = await start(false);
    expect(s.url).toBe(DEV_URL);
    expect(s.csp).toContain('localhost:5173');
    expect(await s.call(`${DEV_URL}/`)).toMatchObject({ ok: true });
    await s.app.studio.dispose();
  });

  it('devRendererUrl: packaged never; unpackaged only http(s) URLs', () => {
    expect(electronMain.devRendererUrl(true, DEV_URL, {})).toBeUndefined();
    expect(electronMain.devRendererUrl(true, undefined, { ELECTRON_RENDERER_URL: DEV_URL })).toBeUndefined();
    expect(electronMain.devRendererUrl(false, undefined, { ELECTRON_RENDERER_URL: DEV_URL })).toBe(DEV_URL);
    expect(electronMain.devRendererUrl(false, undefined, {})).toBeUndefined();
    expect(electronMain.devRendererUrl(false, 'file:///etc/passwd', {})).toBeUndefined();
    expect(electronMain.devRendererUrl(false, 'not a url', {})).toBeUndefined();
  });
});

describe('Electron fuses of the packaged app', () => {
  it('RunAsNode and NODE_OPTIONS off, asar integrity and asar-only loading on', () => {
    expect(FUSE_SETTINGS).toMatchObject({
      RunAsNode: false,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableEmbeddedAsarIntegrityValidation: true,
      OnlyLoadAppFromAsar: true,
    });
  });

  // the enum of @electron/fuses 1.x (FuseV1Options), for when the package is not installed
  const V1 = { RunAsNode: 0, EnableCookieEncryption: 1, EnableNodeOptionsEnvironmentVariable: 2, EnableNodeCliInspectArguments: 3, EnableEmbeddedAsarIntegrityValidation: 4, OnlyLoadAppFromAsar: 5 };

  it('the config handed to flipFuses maps every setting to its fuse index', async () => {
    const name = '@electron/fuses';
    const real = (await import(/* @vite-ignore */ name).catch(() => undefined)) as { FuseV1Options: Record<string, number>; FuseVersion: { V1: string } } | undefined;
    const options = real?.FuseV1Options ?? V1;
    const config = fuseConfig(options, real?.FuseVersion.V1 ?? '1');
    expect(config).toMatchObject({
      version: '1',
      [options.RunAsNode!]: false,
      [options.EnableNodeOptionsEnvironmentVariable!]: false,
      [options.EnableEmbeddedAsarIntegrityValidation!]: true,
      [options.OnlyLoadAppFromAsar!]: true,
    });
    expect(Object.keys(config)).toHaveLength(Object.keys(FUSE_SETTINGS).length + 1);
    expect(() => fuseConfig({}, '1')).toThrow(/no fuse RunAsNode/);
  });
});

describe('the web-mode token leaves the address bar', () => {
  function fakeHistory() {
    const calls: [unknown, string, string][] = [];
    return { calls, hist: { state: { k: 1 }, replaceState: (s: unknown, t: string, u: string) => void calls.push([s, t, u]) } };
  }

  it('replaces the URL without the token, keeping path, other parameters and hash', () => {
    const { calls, hist } = fakeHistory();
    const href = 'http://127.0.0.1:4000/studio?x=1&token=abc123&y=2#graph';
    expect(removeTokenFromAddress({ href }, hist as any, (t) => t === 'abc123')).toBe(true);
    expect(calls).toEqual([[{ k: 1 }, '', '/studio?x=1&y=2#graph']]);
    const only = fakeHistory();
    expect(removeTokenFromAddress({ href: 'http://127.0.0.1:4000/?token=abc123' }, only.hist as any, () => true)).toBe(true);
    expect(only.calls[0]![2]).toBe('/');
  });

  it('leaves the URL alone without a token, or when the tab could not remember it (a reload must still connect)', () => {
    const { calls, hist } = fakeHistory();
    expect(removeTokenFromAddress({ href: 'http://127.0.0.1:4000/' }, hist as any, () => true)).toBe(false);
    expect(removeTokenFromAddress({ href: 'http://127.0.0.1:4000/?token=abc' }, hist as any, () => false)).toBe(false);
    expect(calls).toEqual([]);
  });
});
