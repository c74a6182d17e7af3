/**
 * The renderer's StudioApi. Two transports, one contract (src-main/api/contract.ts):
 * - Electron: the preload bridge `window.genloom = { call(method, params), onEvent(cb) }`;
 * - web mode: a WebSocket to `ws://<host>/api?token=<token from the page URL>`, with request
 *   ids matched to responses, requests queued while (re)connecting, and reconnection with
 *   backoff.
 * Params are checked against the contract before they leave; results and events are
 * validated when they arrive, so a malformed message is a clear error, never a crash.
 */
import { z } from 'zod';
import {
  ApiErrorSchema,
  EventSchema,
  Methods,
  ResponseSchema,
  type ApiEvent,
  type MethodName,
  type Params,
  type Result,
  type StudioApi,
  TOKEN_PARAM,
  WS_PATH,
} from '../src-main/api/contract';

export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** what the Electron preload exposes */
export interface GenloomBridge {
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: (e: unknown) => void): (() => void) | void;
}

declare global {
  interface Window {
    genloom?: GenloomBridge;
  }
}

/**
 * 'refused': the host answers (GET /health) but does not let this page's socket in: it was
 * restarted and has a new token (its WebSocket upgrade says 401, which a page cannot read).
 * Reconnecting needs the new address (see WebSocketClient.retarget).
 */
export type ConnectionState = 'connecting' | 'open' | 'closed' | 'refused';

export interface StudioClient extends StudioApi {
  readonly transport: 'electron' | 'websocket';
  connection(): ConnectionState;
  onConnection(listener: (s: ConnectionState) => void): () => void;
  /** web mode: reconnect to the host at this address (the URL it printed); an error text, or undefined */
  retarget?(address: string): string | undefined;
}

/**
 * The API socket URL for a host address as printed at start ("http://127.0.0.1:5173/?token=…"),
 * or an error text. The token is required; host and port default to the current page's.
 */
export function apiUrlFromAddress(address: string, page: Pick<Location, 'protocol' | 'host'>): { url: string; token: string } | { error: string } {
  const text = address.trim();
  if (!text) return { error: 'paste the address the studio printed when it started' };
  let u: URL;
  try {
    u = new URL(text, `${page.protocol}//${page.host}/`);
  } catch {
    return { error: 'this is not an address' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { error: 'the address starts with http:// or https://' };
  const token = u.searchParams.get(TOKEN_PARAM);
  if (!token) return { error: `the address has no ${TOKEN_PARAM}= part: copy the whole line` };
  const scheme = u.protocol === 'https:' ? 'wss' : 'ws';
  return { url: `${scheme}://${u.host}${WS_PATH}?${TOKEN_PARAM}=${encodeURIComponent(token)}`, token };
}

function checkParams<M extends MethodName>(method: M, params: Params<M>): unknown {
  const spec = Methods[method];
  if (!spec) throw new ApiCallError('unknown-method', `unknown API method "${String(method)}"`);
  const parsed = spec.params.safeParse(params);
  if (!parsed.success) throw new ApiCallError('bad-params', `${method}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function checkResult<M extends MethodName>(method: M, raw: unknown): Result<M> {
  const parsed = Methods[method].result.safeParse(raw);
  if (!parsed.success) throw new ApiCallError('bad-response', `${method}: the host sent a malformed result: ${z.prettifyError(parsed.error)}`);
  return parsed.data as Result<M>;
}

function toApiError(err: unknown): ApiCallError {
  if (err instanceof ApiCallError) return err;
  const asApi = ApiErrorSchema.safeParse(err);
  if (asApi.success) return new ApiCallError(asApi.data.code, asApi.data.message, asApi.data.details);
  if (err instanceof Error) {
    // Electron's ipcRenderer.invoke wraps thrown errors as "Error invoking remote method 'x': Error: msg"
    const m = /Error invoking remote method '[^']*': (?:\w*Error: )?(.*)$/s.exec(err.message);
    return new ApiCallError('host-error', m ? m[1]! : err.message);
  }
  return new ApiCallError('host-error', String(err));
}

class Listeners<T> {
  private readonly set = new Set<(v: T) => void>();
  add(l: (v: T) => void): () => void {
    this.set.add(l);
    return () => void this.set.delete(l);
  }
  emit(v: T): void {
    for (const l of [...this.set]) {
      try {
        l(v);
      } catch (err) {
        console.error('genloom: listener failed', err);
      }
    }
  }
}

function parseEvent(raw: unknown): ApiEvent | undefined {
  const parsed = EventSchema.safeParse(raw);
  if (!parsed.success) {
    console.warn('genloom: dropped a malformed event from the host', z.prettifyError(parsed.error));
    return undefined;
  }
  return parsed.data;
}

/** Electron: the preload bridge */
export class BridgeClient implements StudioClient {
  readonly transport = 'electron' as const;
  private readonly events = new Listeners<ApiEvent>();
  constructor(private readonly bridge: GenloomBridge) {
    bridge.onEvent((raw) => {
      const e = parseEvent(raw);
      if (e) this.events.emit(e);
    });
  }
  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    const sent = checkParams(method, params);
    let raw: unknown;
    try {
      raw = await this.bridge.call(method, sent);
    } catch (err) {
      throw toApiError(err);
    }
    // a bridge may hand back the wire envelope instead of the bare result
    const env = ResponseSchema.safeParse(raw);
    if (env.success && typeof raw === 'object' && raw !== null && 'id' in raw) {
      if (!env.data.ok) throw new ApiCallError(env.data.error.code, env.data.error.message, env.data.error.details);
      raw = env.data.result;
    }
    return checkResult(method, raw);
  }
  onEvent(listener: (e: ApiEvent) => void): () => void {
    return this.events.add(listener);
  }
  connection(): ConnectionState {
    return 'open';
  }
  onConnection(): () => void {
    return () => {};
  }
}

interface Pending {
  method: MethodName;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** web mode: WebSocket with request ids, a send queue and reconnection */
export class WebSocketClient implements StudioClient {
  readonly transport = 'websocket' as const;
  private ws: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly queue: string[] = [];
  private readonly events = new Listeners<ApiEvent>();
  private readonly states = new Listeners<ConnectionState>();
  private state: ConnectionState = 'connecting';
  private retry = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  /** closes in a row of sockets that never opened while the host answered /health */
  private refusals = 0;

  constructor(
    private url: string,
    /** GET /health of the host: whether it answers (a refused socket then means a wrong token) */
    private readonly probe: (wsUrl: string) => Promise<boolean> = probeHealth,
  ) {
    this.connect();
  }

  retarget(address: string): string | undefined {
    const r = apiUrlFromAddress(address, location);
    if ('error' in r) return r.error;
    try {
      sessionStorage.setItem('genloom.token', r.token);
    } catch {
      /* the tab forgets it on reload */
    }
    this.url = r.url;
    this.retry = 0;
    this.refusals = 0;
    clearTimeout(this.timer);
    const old = this.ws;
    this.ws = undefined;
    old?.close();
    this.connect();
    return undefined;
  }

  private setState(s: ConnectionState) {
    if (s === this.state) return;
    this.state = s;
    this.states.emit(s);
  }

  private connect() {
    if (this.disposed) return;
    this.setState('connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      console.error('genloom: cannot open the API socket', err);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.retry = 0;
      this.refusals = 0;
      this.setState('open');
      for (const m of this.queue.splice(0)) ws.send(m);
    };
    ws.onmessage = (m) => this.receive(m.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      // requests in flight on a dropped socket cannot be answered: fail them, never re-send
      // (startTraining or saveFile are not idempotent)
      for (const [id, p] of this.pending) {
        p.reject(new ApiCallError('disconnected', `${p.method}: the connection to the host was lost`));
        this.pending.delete(id);
      }
      if (opened) {
        this.setState('closed');
        this.scheduleReconnect();
        return;
      }
      // never opened: a host that is down, or one that refuses this token
      const url = this.url;
      void this.probe(url).then((up) => {
        if (this.disposed || this.url !== url || this.ws) return;
        this.refusals = up ? this.refusals + 1 : 0;
        if (this.refusals >= 2) {
          this.setState('refused'); // retrying with the same token cannot succeed
          return;
        }
        this.setState('closed');
        this.scheduleReconnect();
      });
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private scheduleReconnect() {
    if (this.disposed) return;
    const delay = Math.min(5000, 250 * 2 ** this.retry++);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private receive(data: unknown) {
    if (typeof data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      console.warn('genloom: the host sent text that is not JSON');
      return;
    }
    if (msg && typeof msg === 'object' && 'event' in msg) {
      const e = parseEvent(msg);
      if (e) this.events.emit(e);
      return;
    }
    const res = ResponseSchema.safeParse(msg);
    if (!res.success) {
      console.warn('genloom: dropped a malformed response', z.prettifyError(res.error));
      return;
    }
    const p = this.pending.get(res.data.id);
    if (!p) return;
    this.pending.delete(res.data.id);
    if (res.data.ok) {
      try {
        p.resolve(checkResult(p.method, res.data.result));
      } catch (err) {
        p.reject(err);
      }
    } else {
      p.reject(new ApiCallError(res.data.error.code, res.data.error.message, res.data.error.details));
    }
  }

  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    let sent: unknown;
    try {
      sent = checkParams(method, params);
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.nextId++;
    const text = JSON.stringify({ id, method, params: sent });
    return new Promise<Result<M>>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject });
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
      else this.queue.push(text);
    });
  }

  onEvent(listener: (e: ApiEvent) => void): () => void {
    return this.events.add(listener);
  }
  connection(): ConnectionState {
    return this.state;
  }
  onConnection(listener: (s: ConnectionState) => void): () => void {
    return this.states.add(listener);
  }
  dispose() {
    this.disposed = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }
}

async function probeHealth(wsUrl: string): Promise<boolean> {
  try {
    const u = new URL(wsUrl);
    const r = await fetch(`${u.protocol === 'wss:' ? 'https' : 'http'}://${u.host}/health`, { cache: 'no-store' });
    return r.ok;
  } catch {
    return false;
  }
}

/** the page URL's token, remembered for the tab so that a reload without it still connects */
export function apiToken(loc: Location = location): string {
  const fromUrl = new URLSearchParams(loc.search).get('token');
  try {
    if (fromUrl) sessionStorage.setItem('genloom.token', fromUrl);
    return fromUrl ?? sessionStorage.getItem('genloom.token') ?? '';
  } catch {
    return fromUrl ?? '';
  }
}

/**
 * Takes the token out of the address bar (and so out of the history and of what is copied
 * or shared) once it has been read: history.replaceState with the same path, other query
 * parameters and hash. Only when the tab remembers the token (sessionStorage), so that a
 * reload still connects. Returns whether the address was changed.
 */
export function removeTokenFromAddress(
  loc: Pick<Location, 'href'> = location,
  hist: Pick<History, 'replaceState' | 'state'> = history,
  remembered: (token: string) => boolean = (t) => {
    try {
      return sessionStorage.getItem('genloom.token') === t;
    } catch {
      return false;
    }
  },
): boolean {
  let url: URL;
  try {
    url = new URL(loc.href);
  } catch {
    return false;
  }
  const token = url.searchParams.get(TOKEN_PARAM);
  if (token === null || !remembered(token)) return false;
  url.searchParams.delete(TOKEN_PARAM);
  try {
    hist.replaceState(hist.state, '', `${url.pathname}${url.search}${url.hash}`);
  } catch {
    return false;
  }
  return true;
}

export function createApi(): StudioClient {
  if (typeof window !== 'undefined' && window.genloom && typeof window.genloom.call === 'function') {
    return new BridgeClient(window.genloom);
  }
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const token = apiToken();
  removeTokenFromAddress();
  return new WebSocketClient(`${scheme}://${location.host}/api?token=${encodeURIComponent(token)}`);
}

let instance: StudioClient | undefined;
/** the one client of this page */
export function api(): StudioClient {
  return (instance ??= createApi());
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
