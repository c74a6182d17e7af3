/**
 * Content types and Content-Security-Policies of the studio's renderer, shared by the
 * web-mode server and the Electron app protocol.
 */
import { extname } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** directives both transports share: no inline or remote script, no plugins, no framing */
function baseDirectives(connectSrc: string): string[] {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // React Flow, KaTeX and uPlot set inline style attributes
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${connectSrc}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
  ];
}

/** web mode: the page may talk to its own server's WebSocket only */
export function webCsp(port: number): string {
  return baseDirectives(`'self' ws://127.0.0.1:${port} ws://localhost:${port}`).join('; ');
}

/**
 * Electron: no network at all (the API is the preload bridge). Under `electron-vite dev`
 * (a dev server URL), Vite's inline React Refresh preamble and its HMR socket are allowed
 * for that origin only; builds never get this.
 */
export function electronCsp(devServerUrl?: string): string {
  if (!devServerUrl) return baseDirectives("'self'").join('; ');
  const origin = new URL(devServerUrl).origin;
  const ws = origin.replace(/^http/, 'ws');
  return baseDirectives(`'self' ${origin} ${ws}`)
    .map((d) => (d.startsWith('script-src') ? `script-src 'self' 'unsafe-inline' ${origin}` : d))
    .join('; ');
}
