/**
 * IPC channel names shared by the Electron main process and the preload bridge. No imports:
 * the sandboxed preload bundles this file and nothing else but `electron`.
 */
/** renderer -> main: ipcRenderer.invoke(CALL_CHANNEL, { id, method, params }) -> response */
export const CALL_CHANNEL = 'genloom:call';
/** main -> renderer: webContents.send(EVENT_CHANNEL, ApiEvent) */
export const EVENT_CHANNEL = 'genloom:event';
