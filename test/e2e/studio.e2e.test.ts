/**
 * The studio end to end, in Chromium, in web mode: the renderer is built (dist/web), served
 * by src-main/app/webServer.ts next to its WebSocket API, and driven through playwright-core.
 * Every step keeps a screenshot in test-artifacts/e2e/; perf numbers go to
 * test-artifacts/e2e/perf.json (printed, not asserted tightly).
 *
 *   npx vitest run -c test/e2e/vitest.e2e.config.ts
 *
 * Needs Debian's chromium at /usr/bin/chromium (override: GENLOOM_CHROMIUM). Set
 * GENLOOM_E2E_SKIP_BUILD=1 to reuse an existing dist/web.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e');
const CHROMIUM = process.env.GENLOOM_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const enabled = process.env.GENLOOM_E2E === '1';

interface Server {
  url: string;
  close(): Promise<void>;
}

let server: Server;
let browser: Browser;
let page: Page;
let dataDir: string;
const perf: Record<string, unknown> = {};
const consoleErrors: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

const doc = () => page.evaluate(() => (window as unknown as { __genloom: { getDoc(): any } }).__genloom.getDoc());

/** the centre of an element, in page coordinates */
async function centre(selector: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(selector).first().boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

const handle = (node: string, port: string, kind: 'source' | 'target') => `.react-flow__node[data-id="${node}"] .react-flow__handle.${kind}[data-handleid="${port}"]`;

/** drags from one point to another with real mouse events; `before` runs before the button is released */
async function drag(from: { x: number; y: number }, to: { x: number; y: number }, before?: () => Promise<void>, steps = 12): Promise<void> {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + 5, from.y + 5, { steps: 2 });
  await page.mouse.move(to.x, to.y, { steps });
  await page.waitForTimeout(50);
  if (before) await before();
  await page.mouse.up();
}

/** an empty spot of the canvas (no node, no edge) near the given fractions of its box */
async function emptyCanvasPoint(fx: number, fy: number): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([fx, fy]) => {
      const pane = document.querySelector('.react-flow__pane')!.getBoundingClientRect();
      for (let dy = 0; dy < 0.5; dy += 0.03) {
        for (let dx = 0; dx < 0.5; dx += 0.03) {
          const x = pane.left + pane.width * Math.min(0.95, fx! + dx);
          const y = pane.top + pane.height * Math.min(0.95, fy! + dy);
          const el = document.elementFromPoint(x, y);
          if (el?.classList.contains('react-flow__pane')) return { x, y };
        }
      }
      throw new Error('no empty canvas spot');
    },
    [fx, fy],
  );
}

/** a 300-node graph: 60 chains data -> MLP -> MLP -> MLP -> MLP, 4 across and 15 down */
function bigGraph() {
  const nodes: unknown[] = [];
  const edges: unknown[] = [];
  for (let c = 0; c < 60; c++) {
    const x0 = (c % 4) * 1600;
    const y0 = Math.floor(c / 4) * 180;
    let prev = `d${c}`;
    nodes.push({ id: prev, type: 'data.dataset', version: 1, params: { dataset: 'moons' }, ui: { x: x0, y: y0 } });
    for (let k = 1; k < 5; k++) {
      const id = `m${c}_${k}`;
      nodes.push({ id, type: 'network.mlp', version: 1, params: { hidden: [32, 32] }, ui: { x: x0 + k * 300, y: y0 } });
      edges.push({ from: [prev, k === 1 ? 'x' : 'y'], to: [id, 'x'] });
      prev = id;
    }
  }
  return { format: 'genloom', version: 1, meta: { title: '300 nodes' }, nodes, edges };
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN);
  return { n: s.length, median: +q(0.5).toFixed(2), p95: +q(0.95).toFixed(2), max: +(s[s.length - 1] ?? NaN).toFixed(2) };
}

describe.skipIf(!enabled)('studio end to end (Chromium, web mode)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set GENLOOM_CHROMIUM)`);
    // screenshots of earlier runs go, so the folder shows this run only
    // (layout/ belongs to layout.e2e.test.ts, which may have run just before)
    await mkdir(ARTIFACTS, { recursive: true });
    for (const f of await readdir(ARTIFACTS)) if (f !== 'layout' && f !== 'lectures') await rm(join(ARTIFACTS, f), { recursive: true, force: true });
    if (process.env.GENLOOM_E2E_SKIP_BUILD !== '1' || !existsSync(join(ROOT, 'dist/web/index.html'))) {
      const { build } = await import('vite');
      await build({ configFile: join(ROOT, 'vite.web.config.ts'), logLevel: 'warn' });
    }
    dataDir = await mkdtemp(join(tmpdir(), 'genloom-e2e-'));
    const { startWebServer } = await import('../../src-main/app/webServer');
    server = await startWebServer({ port: 0, dataDir, staticDir: resolve(ROOT, 'dist/web') });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => void d.accept());
    await page.goto(server.url);
    await page.waitForSelector('.toolbar');
  });

  afterAll(async () => {
    await writeFile(join(ARTIFACTS, 'perf.json'), `${JSON.stringify(perf, null, 2)}\n`).catch(() => {});
    console.log('perf', JSON.stringify(perf, null, 2));
    if (consoleErrors.length) console.log('browser console errors:\n' + consoleErrors.join('\n'));
    await browser?.close();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('opens a template from the gallery', async () => {
    // a first start with no autosave shows the gallery
    await page.waitForSelector('[data-testid="template-gallery"] .card[data-template="vae-moons"]');
    expect(await page.locator('[data-testid="template-gallery"] .card').count()).toBeGreaterThanOrEqual(5);
    await shot('01-template-gallery');
    await page.click('.card[data-template="vae-moons"]');
    await page.waitForFunction(() => document.querySelectorAll('.react-flow__node-gen').length === 6);
    await page.waitForFunction(() => performance.getEntriesByName('genloom:canvas-painted').length > 0, undefined, { timeout: 10_000 });
    const openToPaint = await page.evaluate(() => {
      const a = performance.getEntriesByName('genloom:open-template')[0]!.startTime;
      const b = performance.getEntriesByName('genloom:canvas-painted')[0]!.startTime;
      return b - a;
    });
    perf.templateOpenToFirstPaintMs = +openToPaint.toFixed(1);
    expect((await doc()).nodes).toHaveLength(6);
    await expect.poll(() => page.locator('[data-testid="diag-count"]').innerText()).toContain('0 errors');
    await shot('02-template-opened');
  });

  it('adds a node through double-click search', async () => {
    const p = await emptyCanvasPoint(0.08, 0.62);
    await page.mouse.dblclick(p.x, p.y);
    await page.waitForSelector('[data-testid="add-popup"] input');
    await page.keyboard.type('mlp');
    await page.waitForSelector('.add-item.active');
    await shot('03-add-node-search');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.react-flow__node[data-id="mlp"]');
    const added = (await doc()).nodes.find((n: { id: string }) => n.id === 'mlp');
    expect(added.type).toBe('network.mlp');
    // placed where the user double-clicked
    const box = (await page.locator('.react-flow__node[data-id="mlp"]').boundingBox())!;
    expect(Math.abs(box.x - p.x)).toBeLessThan(80);
    expect(Math.abs(box.y - p.y)).toBeLessThan(80);
    await page.mouse.click(5, 500); // blur
    await shot('04-node-added');
  });

  it('makes a valid connection and refuses an invalid one, saying why', async () => {
    const before = (await doc()).edges.length;
    await drag(await centre(handle('data', 'x', 'source')), await centre(handle('mlp', 'x', 'target')));
    await expect.poll(async () => (await doc()).edges.length).toBe(before + 1);
    expect((await doc()).edges).toContainEqual({ from: ['data', 'x'], to: ['mlp', 'x'] });

    // a Dist output into a Tensor input: refused; the reason shows next to the pointer while dragging and after the drop
    let hint = '';
    await drag(await centre(handle('prior', 'p', 'source')), await centre(handle('mlp', 't', 'target')), async () => {
      await page.waitForSelector('[data-testid="connect-hint"]', { timeout: 3000 });
      hint = await page.locator('[data-testid="connect-hint"]').innerText();
      await shot('05-invalid-connection-hint');
    });
    expect(hint).toContain('cannot connect Dist to Tensor<time>');
    await page.waitForSelector('[data-testid="refusal-toast"]');
    expect(await page.locator('[data-testid="refusal-toast"]').innerText()).toMatch(/Connection refused: cannot connect Dist to Tensor<time>/);
    expect((await doc()).edges.length).toBe(before + 1);
    await shot('06-invalid-connection-refused');
  });

  it('edits a param in the inspector', async () => {
    await page.click('.react-flow__node[data-id="mlp"] .gnode-title');
    await page.waitForSelector('[data-testid="inspector"] [data-param="hidden"]');
    const field = page.locator('[data-testid="inspector"] input[data-param="hidden"]');
    await field.fill('');
    await field.pressSequentially('64, 32', { delay: 20 });
    await expect.poll(async () => (await doc()).nodes.find((n: { id: string }) => n.id === 'mlp').params.hidden).toEqual([64, 32]);
    await expect.poll(() => page.locator('.react-flow__node[data-id="mlp"] .gnode-params').innerText()).toContain('64·32');
    // the equation is rendered by KaTeX
    expect(await page.locator('[data-testid="inspector"] .katex').count()).toBeGreaterThan(0);
    await shot('07-param-edited');
  });

  it('undoes and redoes', async () => {
    await page.mouse.click(5, 500); // focus leaves the field
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await doc()).nodes.find((n: { id: string }) => n.id === 'mlp').params.hidden).toEqual([128, 128]);
    await page.keyboard.press('Control+z'); // the connection data -> mlp
    await expect.poll(async () => (await doc()).edges.some((e: { to: string[] }) => e.to[0] === 'mlp')).toBe(false);
    await shot('08-undone');
    await page.keyboard.press('Control+Shift+z');
    await page.keyboard.press('Control+y');
    await expect.poll(async () => (await doc()).nodes.find((n: { id: string }) => n.id === 'mlp').params.hidden).toEqual([64, 32]);
    expect((await doc()).edges.some((e: { to: string[] }) => e.to[0] === 'mlp')).toBe(true);
    // a whole drag is one undo step
    const before = (await doc()).nodes.find((n: { id: string }) => n.id === 'mlp').ui;
    const c = await centre('.react-flow__node[data-id="mlp"] .gnode-title');
    await drag(c, { x: c.x + 120, y: c.y + 40 }, undefined, 20);
    const after = (await doc()).nodes.find((n: { id: string }) => n.id === 'mlp').ui;
    expect(after.x).not.toBe(before.x);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await doc()).nodes.find((n: { id: string }) => n.id === 'mlp').ui).toEqual(before);
    await page.keyboard.press('Control+Shift+z');
    await shot('09-redone');
    // delete the extra MLP again (it has no objective) before training
    await page.click('.react-flow__node[data-id="mlp"] .gnode-title');
    await page.keyboard.press('Delete');
    await expect.poll(async () => (await doc()).nodes.length).toBe(6);
  });

  it('trains 200 steps with live curves and samples', async () => {
    // a visible edit that survives the reload at the end
    await page.click('.react-flow__node[data-id="elbo"] .gnode-title');
    const beta = page.locator('[data-testid="inspector"] input[data-param="beta"]');
    await beta.fill('0.5');
    await expect.poll(async () => (await doc()).nodes.find((n: { id: string }) => n.id === 'elbo').params.beta).toBe(0.5);
    await page.mouse.click(5, 500);

    await page.fill('input[aria-label="training steps"]', '200');
    const seen = new Set<string>();
    const lengths: number[] = [];
    await page.click('[data-testid="train-start"]');
    const t0 = Date.now();
    let midShot = false;
    while (Date.now() - t0 < 180_000) {
      const status = await page.locator('[data-testid="train-panel"]').getAttribute('data-status');
      const step = await page.locator('[data-testid="samples-canvas"]').getAttribute('data-step');
      if (step) seen.add(step);
      lengths.push(await page.evaluate(() => Object.values((window as any).__genloom.state().run.series).reduce((a: number, s: any) => a + s.steps.length, 0) as number));
      if (!midShot && seen.size >= 2 && status === 'running') {
        await shot('10-training');
        midShot = true;
      }
      if (status === 'stopped') break;
      await page.waitForTimeout(100);
    }
    const run = await page.evaluate(() => (window as any).__genloom.state().run);
    expect(run.status).toBe('stopped');
    expect(run.stop?.reason).toBe('done');
    expect(run.step).toBe(200);
    expect(run.backend).toBeTruthy();
    // ELBO curves: loss and its two terms, plotted apart
    expect(Object.keys(run.series.elbo.terms)).toEqual(expect.arrayContaining(['loss', 'recon', 'kl']));
    expect(await page.locator('[data-testid="loss-charts"] .uplot').count()).toBe(1);
    expect(await page.locator('[data-testid="loss-charts"] .u-legend').innerText()).toMatch(/recon[\s\S]*kl/);
    // the curves and the samples updated while training, not only at the end
    expect(new Set(lengths).size).toBeGreaterThan(2);
    expect(seen.size).toBeGreaterThanOrEqual(2);
    perf.training200Steps = { backend: run.backend, stepsPerSec: +run.stepsPerSec.toFixed(1), wallSec: +((Date.now() - t0) / 1000).toFixed(1), sampleUpdatesSeen: seen.size };
    if (!midShot) await shot('10-training');
    await shot('11-trained');
  });

  it('exports ONNX and shows the parity report', async () => {
    await page.click('[data-testid="open-export"]');
    await page.waitForSelector('[data-testid="export-dialog"] input[name="target"]', { timeout: 60_000 });
    await page.click('[data-testid="export-run"]');
    await page.waitForSelector('[data-testid="parity-report"], [data-testid="export-dialog"] .diag-error', { timeout: 180_000 });
    await shot('12-export-parity');
    const err = await page.locator('[data-testid="export-dialog"] .diag-error').count();
    if (err) throw new Error(`export failed: ${await page.locator('[data-testid="export-dialog"] .diag-error').innerText()}`);
    const report = await page.locator('[data-testid="parity-report"]').innerText();
    expect(report).toMatch(/Parity (PASS|FAIL|checked)/);
    expect(await page.locator('[data-testid="export-path"]').innerText()).toMatch(/\.onnx$/);
    expect(report).toContain('PASS');
    await page.keyboard.press('Escape');
  });

  it('trains on PyTorch from the train panel where torch is installed, with live curves, samples and the held-out metrics', async (ctx) => {
    const select = page.locator('[data-testid="train-backend"]');
    await expect.poll(async () => (await page.locator('[data-testid="torch-missing"]').count()) + (await select.locator('option[value="torch-cpu"]:not([disabled])').count()), { timeout: 60_000 }).toBeGreaterThan(0);
    if (await page.locator('[data-testid="torch-missing"]').count()) {
      const why = await page.locator('[data-testid="torch-missing"]').innerText();
      if (process.env.CI === 'true') throw new Error(`CI=true but the studio found no PyTorch: ${why}`);
      return ctx.skip(why);
    }
    await select.selectOption('torch-cpu');
    await page.fill('input[aria-label="training steps"]', '100');
    await page.click('[data-testid="train-start"]');
    await expect.poll(async () => page.locator('[data-testid="train-panel"]').getAttribute('data-status'), { timeout: 120_000, interval: 200 }).toBe('stopped');
    const run = await page.evaluate(() => (window as any).__genloom.state().run);
    expect(run.stop?.reason, run.stop?.message).toBe('done');
    expect(run.step).toBe(100);
    expect(run.backend).toMatch(/^torch /);
    expect(Object.keys(run.series.elbo.terms)).toEqual(expect.arrayContaining(['loss', 'recon', 'kl']));
    expect(Object.keys(run.samples).length).toBeGreaterThan(0);
    expect(Number.isFinite(run.metrics?.['elbo.negElbo'])).toBe(true);
    await shot('13-trained-on-pytorch');
    await select.selectOption('app');
  });

  it('restores the autosaved graph after a reload', async () => {
    // the autosave runs every 3 s
    await page.waitForTimeout(3500);
    await page.reload();
    await page.waitForSelector('[data-testid="restore-banner"]');
    await shot('13-restore-banner');
    await page.click('[data-testid="restore-accept"]');
    await page.waitForFunction(() => document.querySelectorAll('.react-flow__node-gen').length === 6);
    const d = await doc();
    expect(d.meta.title).toBe('VAE on two moons');
    expect(d.nodes.find((n: { id: string }) => n.id === 'elbo').params.beta).toBe(0.5);
    await shot('14-restored');
  });

  it('groups, copies and pastes nodes', async () => {
    await page.click('.react-flow__node[data-id="encoder"] .gnode-title');
    await page.click('.react-flow__node[data-id="decoder"] .gnode-title', { modifiers: ['Control'] });
    await page.keyboard.press('Control+g');
    await page.waitForSelector('.react-flow__node-frame .frame-label');
    expect((await doc()).nodes.filter((n: any) => n.ui?.group === 'Group 1').map((n: any) => n.id).sort()).toEqual(['decoder', 'encoder']);
    // dragging the frame moves its members together, as one undo step
    const before = (await doc()).nodes.filter((n: any) => n.ui?.group).map((n: any) => [n.ui.x, n.ui.y]);
    const label = await centre('.frame-label');
    await drag(label, { x: label.x + 30, y: label.y - 40 }, undefined, 10);
    const after = (await doc()).nodes.filter((n: any) => n.ui?.group).map((n: any) => [n.ui.x, n.ui.y]);
    const d0 = [after[0][0] - before[0][0], after[0][1] - before[0][1]];
    const d1 = [after[1][0] - before[1][0], after[1][1] - before[1][1]];
    expect(d0[0]).not.toBe(0);
    expect(d0).toEqual(d1);
    await shot('15-group');
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await doc()).nodes.filter((n: any) => n.ui?.group).map((n: any) => [n.ui.x, n.ui.y])).toEqual(before);
    // copy + paste the group's members
    await page.click('.react-flow__node[data-id="encoder"] .gnode-title');
    await page.click('.react-flow__node[data-id="decoder"] .gnode-title', { modifiers: ['Control'] });
    await page.keyboard.press('Control+c');
    const p = await emptyCanvasPoint(0.1, 0.75);
    await page.mouse.move(p.x, p.y);
    await page.keyboard.press('Control+v');
    await expect.poll(async () => (await doc()).nodes.length).toBe(8);
    const pasted = (await doc()).nodes.slice(-2);
    expect(pasted.map((n: any) => n.type).sort()).toEqual(['decoder.gaussian', 'encoder.gaussian']);
    expect((await doc()).edges.some((e: any) => e.from[0] === pasted[0].id || e.to[0] === pasted[0].id)).toBe(true);
    await shot('16-pasted');
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await doc()).nodes.length).toBe(6);
    await page.click('.frame-label');
    await page.keyboard.press('Control+Shift+g');
    await expect.poll(async () => (await doc()).nodes.some((n: any) => n.ui?.group)).toBe(false);
  });

  it('lists diagnostics; a click selects the node', async () => {
    // drag a Critic from the palette: its inputs are unconnected
    const canvasBox = (await page.locator('.react-flow__pane').boundingBox())!;
    await page.dragAndDrop('.pal-item[data-type="critic.mlp"]', '.react-flow__pane', { targetPosition: { x: canvasBox.width * 0.15, y: canvasBox.height * 0.8 } });
    await expect.poll(async () => (await doc()).nodes.some((n: any) => n.type === 'critic.mlp')).toBe(true);
    const critic = (await doc()).nodes.find((n: any) => n.type === 'critic.mlp').id;
    await page.click('[data-testid="tab-diagnostics"]');
    await page.waitForSelector('[data-testid="diagnostics"] .diag-row');
    await page.mouse.click(5, 500);
    await page.locator('[data-testid="diagnostics"] .diag-row', { hasText: critic }).first().click();
    await expect.poll(() => page.evaluate(() => (window as any).__genloom.state().editor.selection.nodes)).toEqual([critic]);
    expect(await page.locator(`.react-flow__node[data-id="${critic}"] .port-bad`).count()).toBeGreaterThan(0);
    await shot('17-diagnostics');
    await page.keyboard.press('Delete');
    await expect.poll(async () => (await doc()).nodes.length).toBe(6);
    await page.click('[data-testid="tab-train"]');
  });

  it('compares two models side by side', async () => {
    await page.click('[data-testid="open-compare"]');
    await page.waitForSelector('[data-testid="compare-view"] .react-flow__node');
    await page.selectOption('select[aria-label="right graph"]', 'gan-8gaussians');
    await expect.poll(() => page.locator('[data-testid="compare-summary"]').innerText()).toContain('adversarial');
    const summary = await page.locator('[data-testid="compare-summary"]').innerText();
    expect(summary).toMatch(/GAN critic loss/);
    await page.waitForTimeout(300);
    await shot('18-compare');
    await page.keyboard.press('Escape');
  });

  it('saves, starts a new graph, and opens the saved file from the recent list', async () => {
    await page.keyboard.press('Control+s');
    await page.waitForSelector('[data-testid="file-path"]');
    await page.fill('[data-testid="file-path"]', 'e2e-vae.genloom.json');
    await page.click('[data-testid="file-go"]');
    await expect.poll(() => page.locator('[data-testid="doc-title"]').innerText()).toContain('e2e-vae.genloom.json');
    const saved = join(dataDir, 'graphs', 'e2e-vae.genloom.json');
    expect(existsSync(saved)).toBe(true);
    await page.keyboard.press('Control+n');
    await expect.poll(async () => (await doc()).nodes.length).toBe(0);
    await page.keyboard.press('Control+o');
    await page.waitForSelector('.recent button');
    await shot('19-open-recent');
    await page.locator('.recent button', { hasText: 'e2e-vae.genloom.json' }).click();
    await expect.poll(async () => (await doc()).nodes.length).toBe(6);
    expect((await doc()).nodes.find((n: { id: string }) => n.id === 'elbo').params.beta).toBe(0.5);
  });

  it('measures the canvas (300 nodes pan/zoom, drag latency while training)', async () => {
    // --- a drag while a run trains: input to next frame
    await page.fill('input[aria-label="training steps"]', '20000');
    await page.click('[data-testid="train-start"]');
    await page.waitForFunction(() => (window as any).__genloom.state().run.status === 'running' && (window as any).__genloom.state().run.step > 0, undefined, { timeout: 60_000 });
    await page.evaluate(() => {
      const w = window as any;
      w.__lat = [];
      window.addEventListener(
        'pointermove',
        (e) => {
          if (!(e.buttons & 1)) return;
          const t = e.timeStamp;
          requestAnimationFrame(() => setTimeout(() => w.__lat.push(performance.now() - t), 0));
        },
        true,
      );
    });
    const c = await centre('.react-flow__node[data-id="prior"] .gnode-title');
    await page.mouse.move(c.x, c.y);
    await page.mouse.down();
    for (let i = 0; i < 60; i++) {
      await page.mouse.move(c.x + 3 * i, c.y + Math.sin(i / 6) * 30);
      await page.waitForTimeout(16);
    }
    await page.mouse.up();
    const lat: number[] = await page.evaluate(() => (window as any).__lat);
    await shot('20-drag-while-training');
    const stepsDuring = await page.evaluate(() => (window as any).__genloom.state().run.step);
    await page.click('[data-testid="train-stop"]');
    perf.dragInputToFrameWhileTrainingMs = { ...stats(lat), trainingStepReached: stepsDuring };
    expect(lat.length).toBeGreaterThan(20);
    await page.waitForFunction(() => (window as any).__genloom.state().run.status === 'stopped', undefined, { timeout: 60_000 });
    await page.waitForTimeout(1500); // let the worker wind down before timing frames

    // --- 300 nodes: frame times while zooming in from the fitted view, then while panning
    await page.evaluate((g) => (window as any).__genloom.loadDoc(g), bigGraph());
    await page.waitForFunction(() => document.querySelectorAll('.react-flow__node-gen').length > 20, undefined, { timeout: 20_000 });
    await page.waitForTimeout(800);
    const startFrames = () =>
      page.evaluate(() => {
        const w = window as any;
        w.__frames = [];
        w.__rafOn = true;
        let last = performance.now();
        const tick = (t: number) => {
          w.__frames.push(t - last);
          last = t;
          if (w.__rafOn) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
    const stopFrames = (): Promise<number[]> =>
      page.evaluate(() => {
        const w = window as any;
        w.__rafOn = false;
        return w.__frames.slice(1);
      });
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    const cx = pane.x + pane.width / 2;
    const cy = pane.y + pane.height / 2;
    const zoomNow = () => page.evaluate(() => Number(/scale\(([\d.]+)\)/.exec(document.querySelector<HTMLElement>('.react-flow__viewport')!.style.transform)?.[1]));
    const panFor = async (): Promise<number[]> => {
      const p = await emptyCanvasPoint(0.5, 0.5).catch(() => ({ x: cx, y: cy }));
      await startFrames();
      await page.mouse.move(p.x, p.y);
      await page.mouse.down();
      for (let i = 0; i < 80; i++) {
        await page.mouse.move(p.x - i * 6, p.y - i * 3);
        await page.waitForTimeout(16);
      }
      await page.mouse.up();
      return stopFrames();
    };
    // the whole graph in view: every node is rendered
    const fitZoom = await zoomNow();
    const fitRendered = await page.locator('.react-flow__node-gen').count();
    const panFit = await panFor();
    await page.keyboard.press('f');
    await page.waitForTimeout(400);
    await startFrames();
    for (let i = 0; i < 6; i++) {
      await page.mouse.move(cx, cy);
      await page.mouse.wheel(0, -150);
      await page.waitForTimeout(50);
    }
    const zoomFrames = await stopFrames();
    await page.waitForTimeout(300);
    const midZoom = await zoomNow();
    const midRendered = await page.locator('.react-flow__node-gen').count();
    const panMid = await panFor();
    perf.pan300NodesAtFitFrameMs = { ...stats(panFit), zoom: +fitZoom.toFixed(3), nodesRendered: fitRendered };
    perf.pan300NodesZoomedFrameMs = { ...stats(panMid), zoom: +midZoom.toFixed(3), nodesRendered: midRendered };
    perf.zoom300NodesFrameMs = stats(zoomFrames);
    perf.panZoom300NodesFrameMs = stats([...panFit, ...zoomFrames, ...panMid]);
    const frames = [...panFit, ...zoomFrames, ...panMid];
    await shot('21-300-nodes');
    expect(frames.length).toBeGreaterThan(20);
  });
});
