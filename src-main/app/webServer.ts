/**
 * Web mode: the studio in a browser. One http server on 127.0.0.1 only:
 *   GET /            the built renderer (dist/web): index.html and its assets, with a strict CSP
 *   GET /health      { ok: true }
 *   WS  /api?token=  the API (src-main/api/contract.ts) through dispatch; training events are
 *                    pushed to every authorised client. A missing or wrong token: 401.
 * The token is 32 random bytes (hex), printed in the URL; the page reads it from `?token=`.
 * Requests whose Host is not a loopback name are refused (DNS rebinding), and so are
 * WebSocket upgrades from a non-loopback Origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { NO_ID, TOKEN_PARAM, WS_PATH, type ApiEvent } from '../api/contract';
import { createDispatcher } from './dispatch';
import { contentTypeFor, webCsp } from './security';
import { createStudio, type StudioContext } from './handlers';

export interface WebServerOptions {
  /** 0 (default): a random free port */
  port?: number;
  dataDir: string;
  /** the built renderer (dist/web) */
  staticDir: string;
  /** the folder holding nodes/<family>/templates/ (default: the repository) */
  templateRoot?: string;
  /** a fixed token (tests); default: 32 random bytes, hex */
  token?: string;
  /** overrides for the studio (training host, exporter, the most training runs at once) */
  studio?: Partial<Pick<StudioContext, 'training' | 'exporter' | 'maxTrainingRuns'>>;
  /** largest accepted WebSocket message (default 64 MiB) */
  maxPayload?: number;
}

export interface WebServer {
  /** http://127.0.0.1:<port>/?token=<token> */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}


/** the CSP header of every web-mode response */
export const contentSecurityPolicy = webCsp;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** the hostname of a Host header or Origin URL is a loopback name */
function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host.trim().toLowerCase());
  return !!m && LOOPBACK_HOSTS.has(m[1]!);
}

function isLoopbackOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return true; // not a browser (tests, tools); the token still applies
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && isLoopbackHost(u.host);
  } catch {
    return false;
  }
}

function tokenMatches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function rejectUpgrade(socket: Duplex, status: number, text: string) {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const staticDir = resolve(options.staticDir);
  const clients = new Set<WebSocket>();
  let port = 0;

  const broadcast = (e: ApiEvent) => {
    const text = JSON.stringify(e);
    for (const ws of clients) {
      if (ws.readyState === ws.OPEN) ws.send(text, (err) => err && ws.terminate());
    }
  };
  const studio = createStudio({
    dataDir: options.dataDir,
    templateRoot: options.templateRoot,
    ...options.studio,
    emit: broadcast,
  });
  const dispatch = createDispatcher(studio.handlers);

  function securityHeaders(res: ServerResponse) {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(port));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  }

  function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8') {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    res.end(text);
  }

  /** a file under staticDir for a URL path, or undefined (never outside staticDir) */
  async function staticFile(pathname: string): Promise<string | undefined> {
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return undefined;
    }
    if (rel.includes('\0')) return undefined;
    const candidate = resolve(staticDir, `.${rel.startsWith('/') ? rel : `/${rel}`}`);
    if (candidate !== staticDir && !candidate.startsWith(staticDir + sep)) return undefined;
    try {
      const real = await realpath(candidate);
      const root = await realpath(staticDir);
      if (real !== root && !real.startsWith(root + sep)) return undefined;
      return (await stat(real)).isFile() ? real : undefined;
    } catch {
      return undefined;
    }
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse, file: string) {
    const type = contentTypeFor(file);
    const size = (await stat(file)).size;
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': size,
      // hashed assets may be cached; index.html (it names them) never
      'Cache-Control': file.endsWith('.html') ? 'no-store' : 'no-cache',
    });
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  async function handleHttp(req: IncomingMessage, res: ServerResponse) {
    securityHeaders(res);
    if (!isLoopbackHost(req.headers.host)) return sendText(res, 421, 'Misdirected request: this server answers on 127.0.0.1 only');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/health') {
      return sendText(res, 200, JSON.stringify({ ok: true, clients: clients.size }), 'application/json; charset=utf-8');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendText(res, 405, 'Method not allowed');
    }
    if (url.pathname === WS_PATH) return sendText(res, 426, 'Upgrade required: the API is a WebSocket');
    let decoded: string;
    try {
      decoded = decodeURIComponent(url.pathname);
    } catch {
      return sendText(res, 400, 'Bad request: malformed path');
    }
    if (decoded.includes('\0') || decoded.split(/[\\/]/).includes('..')) return sendText(res, 400, 'Bad request: path outside the studio');
    const file = await staticFile(url.pathname === '/' ? '/index.html' : url.pathname);
    if (file) return serveFile(req, res, file);
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, { 'Cache-Control': 'max-age=86400' });
      return void res.end();
    }
    // single page app: paths without an extension get index.html
    if (!extname(url.pathname)) {
      const index = await staticFile('/index.html');
      if (index) return serveFile(req, res, index);
      return sendText(
        res,
        503,
        `The studio's renderer is not built: ${join(staticDir, 'index.html')} is missing.\nBuild it with: npx vite build -c vite.web.config.ts\n`,
      );
    }
    return sendText(res, 404, 'Not found');
  }

  const server = createServer((req, res) => {
    handleHttp(req, res).catch((e) => {
      console.error('[genloom] http request failed:', e);
      if (!res.headersSent) sendText(res, 500, 'Internal error');
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload ?? 64 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return rejectUpgrade(socket, 400, 'Bad Request');
    }
    if (url.pathname !== WS_PATH) return rejectUpgrade(socket, 404, 'Not Found');
    if (!isLoopbackHost(req.headers.host) || !isLoopbackOrigin(req.headers.origin)) return rejectUpgrade(socket, 403, 'Forbidden');
    if (!tokenMatches(url.searchParams.get(TOKEN_PARAM), token)) return rejectUpgrade(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    clients.add(ws);
    ws.on('message', (data, isBinary) => {
      const reply = isBinary
        ? Promise.resolve({ id: NO_ID, ok: false as const, error: { code: 'bad-request', message: 'binary messages are not accepted: send JSON text' } })
        : dispatch(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'));
      void reply.then((response) => {
        if (ws.readyState !== ws.OPEN) return;
        let text: string;
        try {
          text = JSON.stringify(response);
        } catch (e) {
          text = JSON.stringify({ id: response.id, ok: false, error: { code: 'handler-error', message: `the result cannot be sent: ${String(e)}` } });
        }
        ws.send(text, (err) => err && ws.terminate());
      });
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => clients.delete(ws));
  });

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', rej);
      res();
    });
  });
  port = (server.address() as AddressInfo).port;
  server.on('error', (e) => console.error('[genloom] server error:', e));

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/?${TOKEN_PARAM}=${token}`,
    token,
    port,
    close: () =>
      (closing ??= (async () => {
        await studio.dispose();
        for (const ws of clients) ws.terminate();
        clients.clear();
        await new Promise<void>((res) => wss.close(() => res()));
        await new Promise<void>((res) => {
          server.close(() => res());
          server.closeAllConnections();
        });
      })()),
  };
}
