/**
 * The Electron main process. Security, in order of defence:
 * - every renderer is sandboxed (app.enableSandbox), with contextIsolation on, Node
 *   integration off, webSecurity on, no <webview>;
 * - the renderer is served from a privileged `app://genloom/` scheme (not file://), with a
 *   strict CSP as a response header, also added to every response by
 *   session.webRequest.onHeadersReceived;
 * - navigation, redirects, new windows, webviews and permission requests are all denied;
 * - the only way in is ipcMain.handle('genloom:call'), from our own frame, through the
 *   same dispatcher as web mode: every message validated, bad input an error reply.
 * - a dev server URL (ELECTRON_RENDERER_URL) is honoured only when the app is not packaged;
 *   packaged builds also carry Electron fuses (scripts/fuses.ts: no RunAsNode, no
 *   NODE_OPTIONS, asar integrity, the app only from its asar).
 * Training runs in a utilityProcess per run (utilityHost.ts).
 *
 * The entry point that calls startElectronApp() is electronEntry.ts; this module only
 * defines, so it can be unit-tested with `electron` mocked.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  protocol,
  session,
  utilityProcess,
  type IpcMainInvokeEvent,
  type Session,
  type WebContents,
  type WebPreferences,
} from 'electron';
import { readFile, realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_ID } from '../api/contract';
import { createDispatcher, type Dispatch } from './dispatch';
import { createStudio, type Dialogs, type Studio, type TrainingHost } from './handlers';
import { CALL_CHANNEL, EVENT_CHANNEL } from './ipcChannels';
import { contentTypeFor, electronCsp } from './security';
import { utilityProcessHost } from './utilityHost';

export const APP_SCHEME = 'app';
export const APP_HOST = 'genloom';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** the folder of the built main bundle (out/main) */
const here = (() => {
  try {
    return fileURLToPath(new URL('.', import.meta.url));
  } catch {
    return process.cwd();
  }
})();

export interface ElectronAppOptions {
  /** default: <appData>/Genloom (the same folder web mode uses) */
  dataDir?: string;
  /** the folder holding nodes/<family>/templates/: <resources> when packaged, else the repository */
  templateRoot?: string;
  /** the built renderer (default: out/renderer) */
  rendererDir?: string;
  /** the built preload (default: out/preload/index.cjs) */
  preloadPath?: string;
  /** the built utilityProcess entry (default: out/main/trainingProcess.js) */
  trainingEntry?: string;
  /** dev server URL (electron-vite dev sets ELECTRON_RENDERER_URL); honoured only when the app is not packaged */
  rendererUrl?: string;
  /** the built export utilityProcess entry (default: out/main/exportProcess.js) */
  exportEntry?: string;
  /** override the training host (tests) */
  training?: TrainingHost;
}

export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    sandbox: true,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/** deny navigation, redirects, new windows and webviews on a webContents */
export function hardenWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** a strict CSP on every response of the session; every permission request denied */
export function hardenSession(sess: Session, csp: string): void {
  sess.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(details.responseHeaders ?? {})) {
      if (k.toLowerCase() !== 'content-security-policy') headers[k] = v;
    }
    headers['Content-Security-Policy'] = [csp];
    callback({ responseHeaders: headers });
  });
  sess.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  sess.setPermissionCheckHandler(() => false);
}

/** serve rendererDir at app://genloom/ (never a file outside it) */
export function registerAppProtocol(rendererDir: string, csp: string): void {
  const root = resolve(rendererDir);
  protocol.handle(APP_SCHEME, async (request) => {
    const notFound = () => new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return notFound();
    }
    if (url.host !== APP_HOST || request.method !== 'GET') return notFound();
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return notFound();
    }
    const file = resolve(root, `.${rel === '/' ? '/index.html' : rel}`);
    if (!file.startsWith(root + sep)) return notFound();
    try {
      const real = await realpath(file);
      const realRoot = await realpath(root);
      if (!real.startsWith(realRoot + sep)) return notFound();
      const body = await readFile(real);
      return new Response(body, {
        headers: { 'content-type': contentTypeFor(real), 'content-security-policy': csp, 'x-content-type-options': 'nosniff' },
      });
    } catch {
      return notFound();
    }
  });
}

/** the frames allowed to call the API: our app origin, or the dev server in development */
export function trustedSender(allowedOrigins: readonly string[]) {
  return (event: Pick<IpcMainInvokeEvent, 'senderFrame'>): boolean => {
    const url = event.senderFrame?.url;
    if (!url) return false;
    try {
      const u = new URL(url);
      const origin = u.protocol === `${APP_SCHEME}:` ? `${u.protocol}//${u.host}` : u.origin;
      return allowedOrigins.includes(origin);
    } catch {
      return false;
    }
  };
}

/** the single API entry point: ipcMain.handle('genloom:call') through dispatch */
export function registerIpc(dispatch: Dispatch, isTrusted: (event: IpcMainInvokeEvent) => boolean): void {
  ipcMain.removeHandler(CALL_CHANNEL);
  ipcMain.handle(CALL_CHANNEL, async (event, raw: unknown) => {
    try {
      if (!isTrusted(event)) {
        return { id: NO_ID, ok: false, error: { code: 'bad-request', message: 'calls are accepted from the studio window only' } };
      }
    } catch {
      return { id: NO_ID, ok: false, error: { code: 'bad-request', message: 'calls are accepted from the studio window only' } };
    }
    return dispatch(raw);
  });
}

export function electronDialogs(getWindow: () => BrowserWindow | undefined): Dialogs {
  const filters = [{ name: 'Genloom graph', extensions: ['json'] }];
  return {
    async openFile() {
      const win = getWindow();
      const opts = { title: 'Open a graph', properties: ['openFile' as const], filters };
      const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0]!;
    },
    async openDataset() {
      const win = getWindow();
      const opts = { title: 'Choose a CSV dataset', properties: ['openFile' as const], filters: [{ name: 'CSV', extensions: ['csv', 'txt'] }] };
      const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0]!;
    },
    async saveFile(defaultPath) {
      const win = getWindow();
      const opts = { title: 'Save the graph', defaultPath, filters };
      const r = win ? await dialog.showSaveDialog(win, opts) : await dialog.showSaveDialog(opts);
      return r.canceled || !r.filePath ? null : r.filePath;
    },
  };
}

export function createMainWindow(opts: { preloadPath: string; url: string }): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Genloom',
    backgroundColor: '#111418',
    webPreferences: secureWebPreferences(opts.preloadPath),
  });
  hardenWebContents(win.webContents);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(opts.url);
  return win;
}

/** where the studio keeps its data: the same folder in Electron and in web mode */
/**
 * The dev server URL to load, or undefined: only a development build (app.isPackaged
 * false) loads a dev server, relaxes the CSP for it and trusts its origin. A packaged app
 * ignores ELECTRON_RENDERER_URL (and the option) and always loads app://genloom/.
 */
export function devRendererUrl(isPackaged: boolean, option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (isPackaged) return undefined;
  const url = option ?? env.ELECTRON_RENDERER_URL;
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

export function defaultDataDir(): string {
  const fromEnv = process.env.GENLOOM_DATA_DIR;
  return fromEnv ? resolve(fromEnv) : join(app.getPath('appData'), 'Genloom');
}

export interface ElectronApp {
  studio: Studio;
  dispatch: Dispatch;
  window(): BrowserWindow | undefined;
}

export async function startElectronApp(options: ElectronAppOptions = {}): Promise<ElectronApp> {
  const dataDir = options.dataDir ?? defaultDataDir();
  app.setPath('userData', dataDir);
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    throw new Error('Genloom is already running');
  }

  await app.whenReady();
  const rendererUrl = devRendererUrl(app.isPackaged, options.rendererUrl);
  const csp = electronCsp(rendererUrl);
  hardenSession(session.defaultSession, csp);
  registerAppProtocol(options.rendererDir ?? join(here, '../renderer'), csp);

  let win: BrowserWindow | undefined;
  const trainingEntry = options.trainingEntry ?? join(here, 'trainingProcess.js');
  const exportEntry = options.exportEntry ?? join(here, 'exportProcess.js');
  const studio = createStudio({
    dataDir,
    templateRoot: options.templateRoot ?? (app.isPackaged ? process.resourcesPath : join(here, '../..')),
    dialogs: electronDialogs(() => win),
    training: options.training ?? utilityProcessHost(() => utilityProcess.fork(trainingEntry, [], { serviceName: 'Genloom training', stdio: 'inherit' })),
    exporter: async () => {
      const { createExportBackend, utilityProcessRunner } = await import('./exportBackend');
      return createExportBackend(utilityProcessRunner(() => utilityProcess.fork(exportEntry, [], { serviceName: 'Genloom export', stdio: 'inherit' })));
    },
    emit: (e) => {
      for (const w of BrowserWindow.getAllWindows()) if (!w.isDestroyed()) w.webContents.send(EVENT_CHANNEL, e);
    },
  });
  const dispatch = createDispatcher(studio.handlers);
  const origins = [APP_ORIGIN, ...(rendererUrl ? [new URL(rendererUrl).origin] : [])];
  registerIpc(dispatch, trustedSender(origins));

  const open = () => {
    win = createMainWindow({ preloadPath: options.preloadPath ?? join(here, '../preload/index.cjs'), url: rendererUrl ?? `${APP_ORIGIN}/index.html` });
    win.on('closed', () => (win = undefined));
  };
  open();
  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) open();
  });
  app.on('window-all-closed', () => app.quit());
  let disposing = false;
  app.on('before-quit', (event) => {
    if (disposing) return;
    disposing = true;
    event.preventDefault();
    void studio.dispose().finally(() => app.quit());
  });
  return { studio, dispatch, window: () => win };
}
