/**
 * The preload bridge (sandboxed, CommonJS: out/preload/index.cjs). Exposes exactly
 *   window.genloom = { call(method, params), onEvent(listener) }
 * and never ipcRenderer itself. `call` resolves with the result, or rejects with a plain
 * { code, message, details? } (contextBridge copies plain objects, not Error subclasses).
 * All validation happens in the main process (dispatch); this file only relays.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { CALL_CHANNEL, EVENT_CHANNEL } from './ipcChannels';

type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { code: string; message: string; details?: unknown } };

let nextId = 1;

export const bridge = {
  async call(method: unknown, params: unknown): Promise<unknown> {
    const id = nextId++;
    let response: Response;
    try {
      response = (await ipcRenderer.invoke(CALL_CHANNEL, { id, method, params })) as Response;
    } catch (e) {
      throw { code: 'bad-request', message: e instanceof Error ? e.message : String(e) };
    }
    if (response && response.ok === true) return response.result;
    const error = response && response.ok === false ? response.error : { code: 'bad-request', message: 'the host sent no response' };
    throw error.details === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, details: error.details };
  },
  onEvent(listener: unknown): () => void {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
    const relay = (_event: unknown, payload: unknown) => {
      (listener as (e: unknown) => void)(payload);
    };
    ipcRenderer.on(EVENT_CHANNEL, relay);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, relay);
    };
  },
};

contextBridge.exposeInMainWorld('genloom', bridge);
