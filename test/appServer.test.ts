/**
 * Web mode end to end over real sockets: static files with their content types and CSP,
 * /health, the token on the WebSocket upgrade, malformed messages, every template through
 * validate, a short training run streamed to every client, and ONNX export of that run.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EventSchema, ResponseSchema, type ApiEvent } from '../src-main/api/contract';
import { startWebServer, type WebServer } from '../src-main/app/webServer';
import { readTemplate, TEMPLATE_NAMES } from '../src-main/document/templates';

const ROOT = join(import.meta.dirname, '..');
const HAS_SESSION = existsSync(join(ROOT, 'src-main/session/TrainingSession.ts'));
const HAS_EXPORT = existsSync(join(ROOT, 'src-main/export/exportModel.ts'));

interface Reply {
  id: number;
  ok: boolean;
  result?: any;
  error?: { code: string; message: string; details?: unknown };
}

/** a test client: numbered requests, replies matched by id, events collected */
class Client {
  readonly events: ApiEvent[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private readonly eventWaiters: { pred: (e: ApiEvent) => boolean; resolve: (e: ApiEvent) => void }[] = [];
  readonly replies: Reply[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if ('event' in msg) {
        const e = EventSchema.parse(msg);
        this.events.push(e);
        for (const w of [...this.eventWaiters]) {
          if (w.pred(e)) {
            this.eventWaiters.splice(this.eventWaiters.indexOf(w), 1);
            w.resolve(e);
          }
        }
        return;
      }
      expect(ResponseSchema.safeParse(msg).success).toBe(true);
      this.replies.push(msg);
      const w = this.waiting.get(msg.id);
      if (w) {
        this.waiting.delete(msg.id);
        w(msg);
      }
    });
  }
  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
    });
  }
  raw(text: string | Buffer, id: number): Promise<Reply> {
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(text);
    });
  }
  call(method: string, params: unknown): Promise<Reply> {
    const id = this.nextId++;
    return this.raw(JSON.stringify({ id, method, params }), id);
  }
  async ok(method: string, params: unknown): Promise<any> {
    const r = await this.call(method, params);
    if (!r.ok) throw new Error(`${method}: ${r.error?.code} ${r.error?.message}`);
    return r.result;
  }
  nextEvent(pred: (e: ApiEvent) => boolean, timeoutMs = 60_000): Promise<ApiEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching event in ${timeoutMs} ms; got ${this.events.map((e) => e.payload.type).join(',')}`)), timeoutMs);
      this.eventWaiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
  }
  close() {
    this.ws.close();
  }
}

/** the HTTP status of a refused upgrade (or 101 when it was accepted) */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', (e) => {
      if (!/Unexpected server response/.test(e.message)) reject(e);
    });
  });
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, any>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** a template with tiny networks: a few training steps take milliseconds */
async function tinyTemplate(id: string) {
  const doc = readTemplate(id) as any;
  for (const n of doc.nodes) if (Array.isArray(n.params?.hidden)) n.params.hidden = [8];
  return doc;
}

describe('web mode server', () => {
  let dir: string;
  let server: WebServer;
  let wsUrl: string;
  let client: Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'genloom-web-'));
    const staticDir = join(dir, 'web');
    await mkdir(join(staticDir, 'assets'), { recursive: true });
    await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>Genloom</title><script type="module" src="./assets/index.js"></script>');
    await writeFile(join(staticDir, 'assets', 'index.js'), 'console.log("studio")');
    await writeFile(join(staticDir, 'assets', 'index.css'), 'body{}');
    await writeFile(join(staticDir, 'assets', 'KaTeX_Main.woff2'), Buffer.from([0x77, 0x4f, 0x46, 0x32]));
    await writeFile(join(dir, 'secret.txt'), 'not for you');
    server = await startWebServer({ port: 0, dataDir: join(dir, 'data'), staticDir });
    wsUrl = `ws://127.0.0.1:${server.port}/api?token=${server.token}`;
    client = await Client.open(wsUrl);
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a loopback URL with a 32-byte hex token', () => {
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
  });

  it('serves /health', async () => {
    const r = await get(server.port, '/health');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ ok: true });
  });

  it('serves the renderer with content types, a strict CSP and no sniffing', async () => {
    const index = await get(server.port, `/?token=${server.token}`);
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.body).toContain('<title>Genloom</title>');
    const csp: string = index.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect((await get(server.port, '/assets/index.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get(server.port, '/assets/index.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(server.port, '/assets/KaTeX_Main.woff2')).headers['content-type']).toBe('font/woff2');
    expect((await get(server.port, '/assets/missing.js')).status).toBe(404);
    // client-side routes get the page
    expect((await get(server.port, '/graph/editor')).body).toContain('<title>Genloom</title>');
  });

  it('never serves a file outside the renderer folder', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%00']) {
      const r = await get(server.port, path);
      expect(r.status, path).not.toBe(200);
      expect(r.body).not.toContain('not for you');
    }
  });

  it('answers only to loopback host names', async () => {
    expect((await get(server.port, '/health', { host: 'evil.example' })).status).toBe(421);
    expect((await get(server.port, '/health', { host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('rejects a WebSocket without the right token with 401', async () => {
    const base = `ws://127.0.0.1:${server.port}/api`;
    expect(await upgradeStatus(base)).toBe(401);
    expect(await upgradeStatus(`${base}?token=`)).toBe(401);
    expect(await upgradeStatus(`${base}?token=${'0'.repeat(64)}`)).toBe(401);
    expect(await upgradeStatus(`${base}?token=${server.token.slice(1)}`)).toBe(401);
    expect(await upgradeStatus(`ws://127.0.0.1:${server.port}/other?token=${server.token}`)).toBe(404);
    expect(await upgradeStatus(wsUrl, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(wsUrl, { origin: `http://127.0.0.1:${server.port}` })).toBe(101);
    expect(await upgradeStatus(wsUrl)).toBe(101);
  });

  it('answers a malformed message with an error and keeps running', async () => {
    const bad = await client.raw('{"id": 1, "method": "listTemplates", ', -1);
    expect(bad).toMatchObject({ id: -1, ok: false, error: { code: 'bad-request' } });
    const unknown = await client.raw(JSON.stringify({ id: 900, method: 'format C:', params: {} }), 900);
    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
    const badParams = await client.raw(JSON.stringify({ id: 901, method: 'startTraining', params: { doc: {}, steps: 0 } }), 901);
    expect(badParams).toMatchObject({ ok: false, error: { code: 'bad-params' } });
    const binary = await client.raw(Buffer.from([1, 2, 3]), -1);
    expect(binary).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    // the same connection and the server still work
    expect(await client.ok('recentFiles', {})).toEqual([]);
    expect((await get(server.port, '/health')).status).toBe(200);
  });

  it('validates every template over the API: ok, with a program', async () => {
    const templates = await client.ok('listTemplates', {});
    expect(templates.map((t: { id: string }) => t.id)).toEqual([...TEMPLATE_NAMES]);
    for (const t of templates) {
      const r = await client.ok('validate', { doc: t.doc });
      expect(r.ok, t.id).toBe(true);
      expect(r.program, t.id).toMatch(/\S/);
    }
  });

  it('autosave and restore over the API', async () => {
    const doc = await tinyTemplate('vae-moons');
    const { savedAt } = await client.ok('autosave', { doc });
    expect(await client.ok('restoreAutosave', {})).toEqual({ doc, savedAt });
    const saved = await client.ok('saveFile', { doc, saveAs: false });
    expect(saved.path).toMatch(/VAE-on-two-moons\.genloom\.json$/);
    expect(await client.ok('restoreAutosave', {})).toBeNull();
    expect(await client.ok('recentFiles', {})).toEqual([saved.path]);
  });

  describe.skipIf(!HAS_SESSION)('training', () => {
    let runId: string;

    it('streams ~30 steps of a tiny VAE to every client, then stops', async () => {
      const second = await Client.open(wsUrl);
      try {
        const doc = await tinyTemplate('vae-moons');
        const started = await client.ok('startTraining', { doc, steps: 30, seed: 1, batchSize: 64, logEvery: 5, sampleEvery: 1000, checkpointEvery: 1000 });
        runId = started.runId;
        expect(started.runDir).toContain(join(dir, 'data', 'runs'));
        const stopped = await client.nextEvent((e) => e.runId === runId && e.payload.type === 'stopped', 80_000);
        expect(stopped.payload).toMatchObject({ type: 'stopped', reason: 'done', step: 30 });
        const steps = client.events.filter((e) => e.runId === runId && e.payload.type === 'step').map((e) => (e.payload as { step: number }).step);
        expect(steps).toEqual([5, 10, 15, 20, 25, 30]);
        const first = client.events.find((e) => e.runId === runId)!;
        expect(first.payload.type).toBe('started');
        // the other client saw the same events
        await second.nextEvent((e) => e.runId === runId && e.payload.type === 'stopped', 5_000);
        expect(second.events.filter((e) => e.runId === runId).map((e) => e.payload.type)).toEqual(
          client.events.filter((e) => e.runId === runId).map((e) => e.payload.type),
        );
      } finally {
        second.close();
      }
    });

    it('stops a long run on request', async () => {
      const doc = await tinyTemplate('gan-8gaussians');
      const { runId: long } = await client.ok('startTraining', { doc, steps: 1_000_000, batchSize: 32, logEvery: 5 });
      await client.nextEvent((e) => e.runId === long && e.payload.type === 'step', 60_000);
      await client.ok('pauseTraining', { runId: long });
      await client.nextEvent((e) => e.runId === long && e.payload.type === 'paused', 20_000);
      await client.ok('resumeTraining', { runId: long });
      await client.nextEvent((e) => e.runId === long && e.payload.type === 'resumed', 20_000);
      await client.ok('stopTraining', { runId: long });
      const stopped = await client.nextEvent((e) => e.runId === long && e.payload.type === 'stopped', 30_000);
      expect(stopped.payload).toMatchObject({ reason: 'user' });
      expect((stopped.payload as { step: number }).step).toBeLessThan(1_000_000);
    });

    it.skipIf(!HAS_EXPORT)('exports the trained run to ONNX with a parity report', async () => {
      const targets = await client.ok('exportTargets', { runId });
      expect(targets.length).toBeGreaterThan(0);
      const r = await client.ok('exportOnnx', { runId, target: targets[0].id });
      expect(r.bytes).toBeGreaterThan(0);
      expect(existsSync(r.path)).toBe(true);
      expect(r.parity).toMatchObject({ pass: true, target: targets[0].id });
      const bad = await client.call('exportOnnx', { runId, target: 'no-such-target' });
      expect(bad).toMatchObject({ ok: false, error: { code: 'handler-error' } });
    });
  });

  it('close() stops the server', async () => {
    const s = await startWebServer({ port: 0, dataDir: join(dir, 'data2'), staticDir: join(dir, 'web') });
    const c = await Client.open(`ws://127.0.0.1:${s.port}/api?token=${s.token}`);
    const closed = new Promise((r) => c.ws.once('close', r));
    await s.close();
    await closed;
    await expect(get(s.port, '/health')).rejects.toThrow();
  });
});
