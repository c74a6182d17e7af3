/**
 * The studio's host half without a transport: the dispatcher (envelope, method, params,
 * handler failures) and the handlers (templates, validate, files, autosave, training
 * bookkeeping with a fake host).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_ERROR_CODES, Methods, NO_ID, ResponseSchema, type ApiEvent, type MethodName } from '../src-main/api/contract';
import { createDispatcher, HandlerError, type Handlers } from '../src-main/app/dispatch';
import { createStudio, slug, type TrainingSessionLike } from '../src-main/app/handlers';
import type { TrainEvent, TrainRequestInput } from '../src-main/api/trainingProtocol';
import { readTemplate } from '../src-main/document/templates';

// in family order (the gallery's order)
const TEMPLATE_IDS = ['vae-moons', 'vae-mnist', 'gan-8gaussians', 'realnvp-moons', 'ddpm-swissroll', 'fm-8gaussians', 'fm-moons', 'ebm-8gaussians', 'iwae-moons', 'iwae-mnist', 'fgan-kl-8gaussians', 'fgan-reversekl-8gaussians', 'fgan-pearson-8gaussians', 'fgan-hellinger-8gaussians', 'fgan-js-8gaussians', 'fgan-gan-8gaussians', 'gsn-moons', 'ncsn-swissroll', 'wgangp-ring8', 'wgangp-grid25', 'wgangp-8gaussians', 'wgan-8gaussians', 'ws-mnist', 'rws-mnist', 'vpsde-moons', 'vesde-8gaussians', 'consistency-8gaussians', 'consistency-distill-8gaussians', 'consistency-distill-ddpm-swissroll', 'gmm-em-8gaussians', 'gmm-sgd-8gaussians', 'kde-moons', 'ar-moons', 'ar-8gaussians', 'made-mnist', 'rbm-mnist', 'dbn-mnist', 'gbrbm-8gaussians', 'ppca-mnist', 'fa-mnist', 'vqvae-mnist'];

const loadTemplate = async (id: string) => readTemplate(id) as any;

/** handlers that answer from a table; every method present (the type demands it) */
function stubHandlers(overrides: Partial<Handlers> = {}): Handlers {
  const h = {} as Record<string, unknown>;
  for (const m of Object.keys(Methods)) h[m] = async () => null;
  return { ...(h as Handlers), ...overrides };
}

describe('dispatch', () => {
  const dispatch = createDispatcher(
    stubHandlers({
      recentFiles: async () => ['/a.genloom.json'],
      autosave: async () => {
        throw new Error('disk on fire');
      },
      restoreAutosave: async () => {
        throw new HandlerError('nothing there', { why: 'empty' });
      },
      // returns something the result schema refuses
      pauseTraining: async () => 'nope' as never,
    }),
    { onHandlerError: () => {} },
  );

  const expectError = async (raw: unknown, code: string, id = NO_ID) => {
    const r = await dispatch(raw);
    expect(ResponseSchema.safeParse(r).success).toBe(true);
    expect(r.ok).toBe(false);
    if (r.ok) return r;
    expect(r.error.code).toBe(code);
    expect(API_ERROR_CODES).toContain(r.error.code);
    expect(r.id).toBe(id);
    return r;
  };

  it('answers a good request with a ResponseSchema-valid result', async () => {
    const r = await dispatch(JSON.stringify({ id: 7, method: 'recentFiles', params: {} }));
    expect(r).toEqual({ id: 7, ok: true, result: ['/a.genloom.json'] });
    // objects (Electron IPC) work the same
    expect(await dispatch({ id: 8, method: 'recentFiles', params: {} })).toEqual({ id: 8, ok: true, result: ['/a.genloom.json'] });
  });

  it('refuses bad JSON and bad envelopes with bad-request', async () => {
    const r = await expectError('{"id": 1, "method": ', 'bad-request');
    expect(r.ok === false && r.error.message).toMatch(/not valid JSON/);
    await expectError('[1,2,3]', 'bad-request');
    await expectError(null, 'bad-request');
    await expectError(42, 'bad-request');
    await expectError({ method: 'recentFiles', params: {} }, 'bad-request');
    await expectError({ id: 3, params: {} }, 'bad-request', 3);
    await expectError({ id: 1.5, method: 'recentFiles' }, 'bad-request');
    await expectError({ id: 4, method: 17 }, 'bad-request', 4);
  });

  it('refuses unknown methods, including prototype names', async () => {
    for (const method of ['nope', 'toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      const r = await expectError({ id: 5, method, params: {} }, 'unknown-method', 5);
      expect(r.ok === false && r.error.message).toContain('unknown method');
    }
  });

  it('refuses bad params with the zod issues as details', async () => {
    const r = await expectError({ id: 6, method: 'startTraining', params: { doc: {}, steps: -3 } }, 'bad-params', 6);
    if (r.ok) return;
    expect(r.error.message).toMatch(/steps/);
    expect(Array.isArray(r.error.details)).toBe(true);
    await expectError({ id: 6, method: 'pauseTraining', params: { runId: 12 } }, 'bad-params', 6);
    await expectError({ id: 6, method: 'openFile', params: 'x' }, 'bad-params', 6);
  });

  it('turns a throwing handler into handler-error, details included', async () => {
    const r = await expectError({ id: 9, method: 'autosave', params: { doc: {} } }, 'handler-error', 9);
    expect(r.ok === false && r.error.message).toBe('disk on fire');
    const r2 = await expectError({ id: 10, method: 'restoreAutosave', params: {} }, 'handler-error', 10);
    expect(r2.ok === false && r2.error.details).toEqual({ why: 'empty' });
  });

  it('refuses a handler result that breaks the contract', async () => {
    const r = await expectError({ id: 11, method: 'pauseTraining', params: { runId: 'x' } }, 'handler-error', 11);
    expect(r.ok === false && r.error.message).toMatch(/invalid result/);
  });

  it('never throws, whatever it is given', async () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('gotcha');
        },
        has() {
          throw new Error('gotcha');
        },
        ownKeys() {
          throw new Error('gotcha');
        },
      },
    );
    for (const raw of [undefined, Symbol('s'), () => 1, hostile, 'x'.repeat(100_000), new Uint8Array(3)]) {
      const r = await dispatch(raw);
      expect(r.ok).toBe(false);
    }
  });
});

describe('handlers', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'genloom-app-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lists the bundled templates', async () => {
    const { handlers } = createStudio({ dataDir });
    const list = await handlers.listTemplates({});
    expect(list.map((t) => t.id)).toEqual(TEMPLATE_IDS);
    for (const t of list) {
      expect(t.title.length).toBeGreaterThan(0);
      expect(t.description.length).toBeGreaterThan(0);
      expect(t.dataset.length).toBeGreaterThan(0);
      expect(Methods.listTemplates.result.safeParse(list).success).toBe(true);
    }
  });

  it.each(TEMPLATE_IDS)('validates template %s: ok, with a printed program', async (id) => {
    const { handlers } = createStudio({ dataDir });
    const r = await handlers.validate({ doc: await loadTemplate(id) });
    expect(r.ok).toBe(true);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.program).toBeTruthy();
    expect(Methods.validate.result.safeParse(r).success).toBe(true);
  });

  it('validate reports document errors and graph diagnostics', async () => {
    const { handlers } = createStudio({ dataDir });
    const notDoc = await handlers.validate({ doc: { hello: 1 } });
    expect(notDoc.ok).toBe(false);
    expect(notDoc.documentErrors?.[0]?.code).toBe('not-genloom');
    expect(await handlers.validate({ doc: undefined })).toMatchObject({ ok: false });

    const doc = await loadTemplate('vae-moons');
    doc.edges = doc.edges.slice(1); // an input left unconnected
    const broken = await handlers.validate({ doc });
    expect(broken.ok).toBe(false);
    expect(broken.program).toBeUndefined();
    expect(broken.diagnostics.some((d) => d.severity === 'error' && d.nodeId)).toBe(true);
    expect(Methods.validate.result.safeParse(broken).success).toBe(true);
  });

  it('autosave and restore round-trip; an explicit save clears the slot', async () => {
    const { handlers } = createStudio({ dataDir });
    expect(await handlers.restoreAutosave({})).toBeNull();
    const doc = await loadTemplate('gan-8gaussians');
    doc.meta.title = 'work in progress';
    const { savedAt } = await handlers.autosave({ doc });
    // a fresh studio (after a crash) finds it
    const after = createStudio({ dataDir }).handlers;
    const restored = await after.restoreAutosave({});
    expect(restored).toEqual({ doc, savedAt });

    const saved = await after.saveFile({ doc, saveAs: false });
    expect(saved?.path).toBe(join(dataDir, 'graphs', 'work-in-progress.genloom.json'));
    expect(await after.restoreAutosave({})).toBeNull();
  });

  it('a corrupt autosave file is not offered', async () => {
    const { handlers } = createStudio({ dataDir });
    await writeFile(join(dataDir, 'autosave.json'), '{"savedAt": 1, "doc": ');
    expect(await handlers.restoreAutosave({})).toBeNull();
  });

  it('save, open and the recent list (persisted)', async () => {
    const { handlers } = createStudio({ dataDir });
    const a = await loadTemplate('vae-moons');
    const b = await loadTemplate('realnvp-moons');
    const pa = (await handlers.saveFile({ doc: a, saveAs: false }))!.path;
    // '..' is refused (studio/confine.ts); a relative path lands in graphs/
    await expect(handlers.saveFile({ doc: b, path: 'flows/../nvp.genloom.json', saveAs: false })).rejects.toThrow(/'\.\.'/);
    const pb = (await handlers.saveFile({ doc: b, path: 'nvp.genloom.json', saveAs: false }))!.path;
    expect(pb).toBe(join(dataDir, 'graphs', 'nvp.genloom.json'));
    await handlers.openFile({ path: pa });
    const again = createStudio({ dataDir }).handlers;
    expect(await again.recentFiles({})).toEqual([pa, pb]);
    const opened = await again.openFile({ path: pb });
    expect(opened?.path).toBe(pb);
    expect((opened?.doc as { nodes: unknown[] }).nodes.length).toBe(b.nodes.length);
    // a file that went away drops out of the list
    await rm(pa);
    expect(await again.recentFiles({})).toEqual([pb]);
  });

  it('open/save errors are clear; web mode without a path uses defaults or refuses', async () => {
    const { handlers } = createStudio({ dataDir });
    await expect(handlers.openFile({})).rejects.toThrow(/needs a path/);
    await expect(handlers.openFile({ path: join(dataDir, 'missing.json') })).rejects.toThrow(/does not exist/);
    await writeFile(join(dataDir, 'bad.json'), '{"format": "genloom", "version": 1, "nodes": [');
    await expect(handlers.openFile({ path: join(dataDir, 'bad.json') })).rejects.toMatchObject({
      details: { documentErrors: [expect.objectContaining({ code: 'bad-json' })] },
    });
    await expect(handlers.saveFile({ doc: { nope: true }, saveAs: false })).rejects.toThrow(/document has errors/);
    await expect(handlers.saveFile({ doc: await loadTemplate('vae-moons'), path: join(dataDir, 'x.txt'), saveAs: false })).rejects.toThrow(/\.json/);
  });

  it('native dialogs are used when present; cancel gives null', async () => {
    const picked: string[] = [];
    const target = join(dataDir, 'picked.genloom.json');
    const { handlers } = createStudio({
      dataDir,
      dialogs: {
        openFile: async () => null,
        saveFile: async (def) => {
          picked.push(def);
          return picked.length === 1 ? target : null;
        },
      },
    });
    const doc = await loadTemplate('vae-moons');
    // a file outside graphs/ that the dialog returned comes with a handle for the next save
    expect(await handlers.saveFile({ doc, saveAs: true })).toEqual({ path: target, handle: expect.stringMatching(/^handle:[0-9a-f]{32}$/) });
    expect(picked[0]).toBe(join(dataDir, 'graphs', 'VAE-on-two-moons.genloom.json'));
    expect(await handlers.saveFile({ doc, saveAs: true })).toBeNull();
    expect(await handlers.openFile({})).toBeNull();
  });

  it('startTraining refuses a broken graph with its diagnostics', async () => {
    const { handlers } = createStudio({ dataDir, training: () => fakeSession().session });
    const doc = await loadTemplate('vae-moons');
    doc.edges = [];
    await expect(handlers.startTraining({ doc, steps: 10, seed: 0 })).rejects.toMatchObject({
      details: { diagnostics: expect.arrayContaining([expect.objectContaining({ severity: 'error' })]) },
    });
  });

  it('runs training on the host it is given and forwards its events', async () => {
    const fakes: ReturnType<typeof fakeSession>[] = [];
    const requests: TrainRequestInput[] = [];
    const events: ApiEvent[] = [];
    const studio = createStudio({
      dataDir,
      training: (req) => {
        requests.push(req);
        const f = fakeSession();
        fakes.push(f);
        return f.session;
      },
    });
    studio.onEvent((e) => events.push(e));
    const h = studio.handlers;
    const doc = await loadTemplate('ddpm-swissroll');
    const { runId, runDir } = await h.startTraining({ doc, steps: 30, seed: 3, logEvery: 5 });
    expect(runId).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-ddpm-swissroll$/);
    expect(runDir).toBe(join(dataDir, 'runs', runId));
    expect(requests[0]).toMatchObject({ runDir, steps: 30, seed: 3, logEvery: 5, batchSize: 256 });
    // a second run in the same second gets its own folder
    const second = await h.startTraining({ doc, steps: 30, seed: 3 });
    expect(second.runId).not.toBe(runId);

    const f = fakes[0]!;
    f.emit({ type: 'step', step: 5, totalSteps: 30, stepsPerSec: 100, etaSec: 0.25, losses: { loss: { mse: 1 } } });
    await h.pauseTraining({ runId });
    expect(f.calls).toEqual(['pause']);
    f.emit({ type: 'paused', step: 5 });
    await h.pauseTraining({ runId }); // already paused: nothing sent
    await h.resumeTraining({ runId });
    f.emit({ type: 'resumed', step: 5 });
    await h.stopTraining({ runId });
    expect(f.calls).toEqual(['pause', 'resume', 'stop']);
    f.emit({ type: 'stopped', step: 5, reason: 'user' });
    f.end();
    expect(events.filter((e) => e.runId === runId).map((e) => e.payload.type)).toEqual(['step', 'paused', 'resumed', 'stopped']);
    await expect(h.pauseTraining({ runId: 'nope' })).rejects.toThrow(/no training run/);

    // a host that dies without a 'stopped' event still ends the run for the renderer
    fakes[1]!.fail(new Error('worker crashed'));
    await new Promise((r) => setTimeout(r, 10));
    const last = events.filter((e) => e.runId === second.runId).at(-1);
    expect(last?.payload).toMatchObject({ type: 'stopped', reason: 'error', message: 'worker crashed' });
    await studio.dispose();
  });

  it('refuses run ids that would leave the runs folder', async () => {
    const { handlers } = createStudio({ dataDir, exporter: { listTargets: () => [], exportOnnx: async () => ({ path: '', bytes: 0, parity: null }) } });
    for (const runId of ['../x', '..', '/etc', 'a/b', '']) {
      await expect(handlers.exportTargets({ runId })).rejects.toThrow(/run/);
    }
  });

  it('slugs titles into file names', () => {
    expect(slug('VAE on two moons', 'x')).toBe('VAE-on-two-moons');
    expect(slug('../../etc/passwd', 'x')).toBe('etcpasswd');
    expect(slug('Café: β-VAE!', 'x')).toBe('Cafe-VAE');
    expect(slug('', 'untitled')).toBe('untitled');
  });
});

function fakeSession() {
  const listeners: ((e: TrainEvent) => void)[] = [];
  const calls: string[] = [];
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const session: TrainingSessionLike = {
    on: (l) => listeners.push(l),
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    stop: () => calls.push('stop'),
    done,
  };
  return { session, calls, emit: (e: TrainEvent) => listeners.forEach((l) => l(e)), end: () => resolve(), fail: (e: unknown) => reject(e) };
}

// the handler table is exhaustive over the contract (a compile-time check, repeated at run time)
it('createStudio has a handler for every method', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'genloom-app-'));
  const { handlers } = createStudio({ dataDir });
  expect(Object.keys(handlers).sort()).toEqual((Object.keys(Methods) as MethodName[]).sort());
  await rm(dataDir, { recursive: true, force: true });
});
