/**
 * The studio's layout and feedback, measured in Chromium (web mode): bounding boxes, text
 * contents and toast counts for the items of issue 12. Each test keeps a screenshot in
 * test-artifacts/e2e/layout/.
 *
 *   npx vitest run -c test/e2e/vitest.e2e.config.ts test/e2e/layout.e2e.test.ts
 *
 * Needs /usr/bin/chromium (override: GENLOOM_CHROMIUM). GENLOOM_E2E_SKIP_BUILD=1 reuses an
 * existing dist/web; GENLOOM_E2E_STATIC serves another build (e.g. one of older sources).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e', 'layout');
const CHROMIUM = process.env.GENLOOM_CHROMIUM ?? '/usr/bin/chromium';
const STATIC = resolve(ROOT, process.env.GENLOOM_E2E_STATIC ?? 'dist/web');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const enabled = process.env.GENLOOM_E2E === '1';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

let server: { url: string; close(): Promise<void> };
let browser: Browser;
let page: Page;
let dataDir: string;

const template = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as { nodes: { id: string; type: string; params: Record<string, unknown> }[]; edges: unknown[] };
const VAE = 'nodes/vae/templates/vae-moons.json';
const REALNVP = 'nodes/flow/templates/realnvp-moons.json';

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}
async function box(selector: string): Promise<Box> {
  const b = await page.locator(selector).first().boundingBox();
  if (!b) throw new Error(`${selector} is not visible`);
  return b;
}
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const doc = () => page.evaluate(() => (window as any).__genloom.getDoc());
const state = () => page.evaluate(() => (window as any).__genloom.state());

async function load(raw: unknown): Promise<void> {
  await page.evaluate((d) => (window as any).__genloom.loadDoc(d), raw);
  const n = (raw as { nodes: unknown[] }).nodes.length;
  await page.waitForFunction((k) => (window as any).__genloom.getDoc().nodes.length === k, n);
  if (n) await page.waitForSelector('.react-flow__node-gen');
  await page.waitForTimeout(400);
  if (n) {
    await page.click('button[title="Fit view (F)"]');
    await page.waitForTimeout(400);
  }
}
async function select(id: string): Promise<void> {
  await page.click(`.react-flow__node[data-id="${id}"] .gnode-title`);
  await page.waitForSelector(`[data-testid="inspector"] [data-node="${id}"]`);
}
/** the React Flow viewport's zoom */
const zoom = () => page.evaluate(() => new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')!).transform).a);

async function train(steps: number): Promise<void> {
  await page.fill('input[aria-label="training steps"]', String(steps));
  await page.click('[data-testid="train-start"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="train-panel"]')?.getAttribute('data-status') === 'stopped', undefined, { timeout: 180_000 });
  await page.waitForTimeout(400);
}

describe.skipIf(!enabled)('studio layout and feedback (issue 12)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set GENLOOM_CHROMIUM)`);
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    if (!process.env.GENLOOM_E2E_STATIC && (process.env.GENLOOM_E2E_SKIP_BUILD !== '1' || !existsSync(join(STATIC, 'index.html')))) {
      const { build } = await import('vite');
      await build({ configFile: join(ROOT, 'vite.web.config.ts'), logLevel: 'warn' });
    }
    dataDir = await mkdtemp(join(tmpdir(), 'genloom-e2e-layout-'));
    const { startWebServer } = await import('../../src-main/app/webServer');
    server = await startWebServer({ port: 0, dataDir, staticDir: STATIC });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
    page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(server.url);
    await page.waitForSelector('.toolbar');
    // the first start offers the template gallery
    await page.waitForSelector('[data-testid="template-gallery"]');
    await page.keyboard.press('Escape');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await page.mouse.click(800, 990); // the status bar: focus leaves any field
  });

  it('1. a palette search with few matches keeps the layout (canvas tall, status bar one line)', async () => {
    await load(template(VAE));
    const before = await box('.canvas');
    await page.fill('.palette input.search', 'affine coupling');
    await page.waitForTimeout(200);
    const canvas = await box('.canvas');
    const status = await box('.statusbar');
    await shot('01-palette-search');
    expect(canvas.height).toBeGreaterThan(300);
    expect(Math.abs(canvas.height - before.height)).toBeLessThan(2);
    expect(status.height).toBeLessThan(40);
    expect(status.y + status.height).toBeLessThanOrEqual(1000);
    await page.fill('.palette input.search', '');
  });

  it('2. the first node dropped on an empty canvas lands at the drop point, zoom unchanged', async () => {
    await load({ format: 'genloom', version: 1, meta: { title: 'empty' }, nodes: [], edges: [] }).catch(() => {});
    await page.waitForSelector('.canvas-empty');
    const pane = await box('.react-flow__pane');
    const at = { x: pane.x + pane.width * 0.3, y: pane.y + pane.height * 0.35 };
    await page.evaluate(
      ({ x, y }) => {
        const dt = new DataTransfer();
        dt.setData('application/x-genloom-node', 'network.mlp');
        const el = document.querySelector('.canvas')!;
        el.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, clientX: x, clientY: y, dataTransfer: dt }));
        el.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, clientX: x, clientY: y, dataTransfer: dt }));
      },
      at,
    );
    await page.waitForSelector('.react-flow__node-gen');
    await page.waitForTimeout(600); // a queued fit would have run by now
    const node = await box('.react-flow__node-gen');
    await shot('02-first-drop');
    expect(await zoom()).toBeCloseTo(1, 3);
    // the node is placed with its title under the pointer (120 px left of it, 20 px up)
    expect(Math.abs(node.x - (at.x - 120))).toBeLessThan(6);
    expect(Math.abs(node.y - (at.y - 20))).toBeLessThan(6);
  });

  it('3. the ports table calls connected ports connected when shapes cannot be inferred', async () => {
    const d = template(VAE);
    d.nodes.find((n) => n.id === 'data')!.params.dataset = 'no-such-dataset';
    await load(d);
    await select('encoder');
    // the row of input x (read by its cells, so the test does not depend on a row attribute)
    const x = await page.evaluate(() => {
      const rows = [...document.querySelectorAll('[data-testid="inspector"] .ports-table tr')];
      const row = rows.find((r) => r.children[0]?.textContent === 'in' && r.children[1]?.textContent === 'x');
      return row ? (row as HTMLElement).innerText : 'no row';
    });
    await shot('03-ports-connected');
    expect(x).not.toContain('not connected');
    expect(x).toContain('connected');
  });

  it('4. an out-of-range number stays in the field with a friendly error; graph and undo unchanged; Escape reverts', async () => {
    await load(template(VAE));
    await select('encoder');
    const before = await doc();
    const undo = () => page.evaluate(() => (window as any).__genloom.state().editor.past.length as number);
    const undoBefore = await undo();
    const undoDisabled = await page.locator('[data-testid="undo"]').isDisabled();
    const field = page.locator('[data-testid="inspector"] input[data-param="latentDim"]');
    await field.fill('');
    await field.pressSequentially('-2', { delay: 30 });
    await page.waitForTimeout(200);
    await shot('04-invalid-number');
    const after = await doc();
    expect(after.nodes.find((n: { id: string }) => n.id === 'encoder').params.latentDim).toBe(2);
    expect(after).toEqual(before);
    expect(await undo()).toEqual(undoBefore);
    expect(await page.locator('[data-testid="undo"]').isDisabled()).toBe(undoDisabled);
    expect(await field.inputValue()).toBe('-2');
    const err = await page.locator('[data-testid="inspector"] [data-param="latentDim"] ~ .field-err').innerText();
    expect(err).toMatch(/^must be ≥ 1$/);
    // no validator text on the node
    expect(await page.locator('.react-flow__node[data-id="encoder"]').innerText()).not.toMatch(/too_small|Too small|expected number to be/i);
    await field.press('Escape');
    expect(await field.inputValue()).toBe('2');
    expect(await page.locator('[data-testid="inspector"] .field-err').count()).toBe(0);
  });

  it('7. after fit view no node is under the minimap; equations fit the inspector', async () => {
    // four nodes at the corners of a box shaped like the canvas: a fit fills the whole pane
    const pane = await box('.react-flow__pane');
    const w = 1400;
    const h = Math.round((w * pane.height) / pane.width);
    const corners = [
      [0, 0],
      [w, 0],
      [0, h],
      [w, h],
    ];
    await load({
      format: 'genloom',
      version: 1,
      meta: { title: 'corners' },
      nodes: corners.map(([x, y], i) => ({ id: `m${i}`, type: 'network.mlp', version: 1, params: { hidden: [8] }, ui: { x, y } })),
      edges: [],
    });
    const mini = await box('.react-flow__minimap');
    const controls = await box('.react-flow__controls');
    const nodes = await page.locator('.react-flow__node-gen').all();
    expect(nodes).toHaveLength(4);
    await shot('07a-fit-minimap');
    for (const n of nodes) {
      const b = (await n.boundingBox())!;
      expect(overlaps(b, mini), 'under the minimap').toBe(false);
      expect(overlaps(b, controls), 'under the zoom controls').toBe(false);
    }
    await load(template(VAE));
    for (const id of ['elbo', 'encoder', 'decoder']) {
      await select(id);
      const m = await page.evaluate(() => {
        const b = document.querySelector('[data-testid="inspector"] .katex-box')!;
        const k = b.querySelector('.katex')!.getBoundingClientRect();
        const r = b.getBoundingClientRect();
        return { box: r.width, overflow: b.scrollWidth - b.clientWidth, left: k.left - r.left, right: r.right - k.right };
      });
      if (id === 'elbo') await shot('07b-elbo-equation');
      expect(m.overflow, id).toBeLessThanOrEqual(1);
      expect(m.left, id).toBeGreaterThanOrEqual(0);
      expect(m.right, id).toBeGreaterThanOrEqual(0);
    }
  });

  it('5 and 6. training: evaluating is shown at the end; legends whole; progress bar 20 px; metrics reachable', async () => {
    await load(template(VAE));
    // every run-status text the panel shows, and whether the evaluation line appeared
    await page.evaluate(() => {
      const seen: string[] = ((window as any).__statusSeen = []);
      (window as any).__evaluatingSeen = false;
      new MutationObserver(() => {
        const t = document.querySelector('[data-testid="run-status"]')?.textContent ?? '';
        if (seen[seen.length - 1] !== t) seen.push(t);
        if (document.querySelector('[data-testid="evaluating"]')) (window as any).__evaluatingSeen = true;
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await train(150);
    const seen: string[] = await page.evaluate(() => (window as any).__statusSeen);
    expect(seen).toContain('evaluating');
    expect(await page.evaluate(() => (window as any).__evaluatingSeen)).toBe(true);
    const run = (await state()).run;
    expect(run.stop?.reason).toBe('done');
    expect(run.evaluating).toBeNull();
    await shot('05-trained-vae');

    // every legend label is whole and inside its chart
    const legend = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="loss-charts"] .chart-box')].flatMap((cb) => {
        const r = cb.getBoundingClientRect();
        return [...cb.querySelectorAll('.u-legend th')].map((th) => {
          const b = th.getBoundingClientRect();
          const label = th.querySelector('.u-label') as HTMLElement | null;
          return { text: th.textContent ?? '', inside: b.left >= r.left - 0.5 && b.right <= r.right + 0.5 && b.top >= r.top - 0.5 && b.bottom <= r.bottom + 0.5, clipped: label ? label.scrollWidth > label.clientWidth + 1 : false };
        });
      }),
    );
    expect(legend.map((l) => l.text)).toEqual(expect.arrayContaining(['loss', 'recon', 'kl']));
    for (const l of legend) expect(l, l.text).toMatchObject({ inside: true, clipped: false });

    // the progress bar keeps its height once the metrics table is there
    expect(await page.locator('[data-testid="metrics"] tr').count()).toBeGreaterThan(0);
    expect((await box('.train-controls .progress')).height).toBeGreaterThanOrEqual(18);
    // the controls column ends inside the dock and scrolls to its last metric
    const dock = await box('.dock-body');
    const controls = await box('.train-controls');
    expect(controls.y + controls.height).toBeLessThanOrEqual(dock.y + dock.height + 1);
    await page.locator('[data-testid="metrics"] tr').last().scrollIntoViewIfNeeded();
    const last = await box('[data-testid="metrics"] tr:last-child');
    const controls2 = await box('.train-controls');
    expect(last.y + last.height).toBeLessThanOrEqual(controls2.y + controls2.height + 1);
    await shot('05-metrics-scrolled');
  });

  it('5. the GAN\'s two charts show whole legend labels', async () => {
    await load(template('nodes/gan/templates/gan-8gaussians.json'));
    await train(40);
    const labels = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="loss-charts"] .chart-box')].flatMap((cb) => {
        const r = cb.getBoundingClientRect();
        return [...cb.querySelectorAll('.u-legend th')].map((th) => {
          const b = th.getBoundingClientRect();
          return { text: th.textContent ?? '', inside: b.left >= r.left - 0.5 && b.right <= r.right + 0.5 && b.bottom <= r.bottom + 0.5 };
        });
      }),
    );
    await shot('05-gan-legends');
    expect(labels.filter((l) => l.text === 'loss').length).toBeGreaterThanOrEqual(2);
    for (const l of labels) expect(l, l.text).toMatchObject({ inside: true });
  });

  it('9. one failed open gives one toast naming the path once; the status text clears', async () => {
    await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
    await page.waitForTimeout(9500); // earlier toasts expire
    await page.keyboard.press('Control+o');
    await page.waitForSelector('[data-testid="file-path"]');
    const missing = 'no-such-graph.genloom.json';
    const input = page.locator('[data-testid="file-path"]');
    await input.fill(missing);
    await input.press('Enter');
    await page.waitForSelector('[data-testid="toast-error"]');
    await page.waitForTimeout(500);
    const toasts = await page.locator('[data-testid="toast-error"]').allInnerTexts();
    await shot('09-failed-open');
    expect(toasts).toHaveLength(1);
    expect(toasts[0]!.split(missing).length - 1).toBe(1);
    // the same failure again: still one toast
    await input.press('Enter').catch(() => {});
    await page.waitForTimeout(500);
    expect(await page.locator('[data-testid="toast-error"]').count()).toBe(1);
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="toast-error"]').length === 0, undefined, { timeout: 12_000 });
    expect(await page.locator('[data-testid="status-text"]').innerText()).toBe('Ready');
  });

  it('9. dim of a chained affine coupling is shown read-only with the reason; the first layer\'s is editable', async () => {
    await load(template(REALNVP));
    await select('coupling2');
    const dim2 = page.locator('[data-testid="inspector"] input[data-param="dim"]');
    expect(await dim2.isDisabled()).toBe(true);
    expect(await page.locator('[data-testid="inspector"] [data-ignored="dim"]').innerText()).toMatch(/previous layer/);
    await shot('09-chained-dim');
    await select('coupling1');
    expect(await page.locator('[data-testid="inspector"] input[data-param="dim"]').isDisabled()).toBe(false);
  });

  it('8. after the host restarts with a new token: a banner says so, edits stay, the new address reconnects', async () => {
    await load(template(VAE));
    await page.waitForFunction(() => document.querySelector('.statusbar .conn')?.textContent?.includes('● connected'));
    const port = Number(new URL(server.url).port);
    await server.close();
    const { startWebServer } = await import('../../src-main/app/webServer');
    server = await startWebServer({ port, dataDir, staticDir: STATIC, token: 'f'.repeat(64) });
    await page.waitForSelector('[data-testid="host-banner"]', { timeout: 30_000 });
    expect(await page.locator('[data-testid="host-banner"]').innerText()).toMatch(/restarted/);
    expect(await page.locator('.statusbar').innerText()).not.toMatch(/autosaved/);
    // an edit while the host is away stays, and is kept in the browser
    await select('encoder');
    const field = page.locator('[data-testid="inspector"] input[data-param="latentDim"]');
    await field.fill('3');
    await page.waitForTimeout(3500);
    const local = await page.evaluate(() => JSON.parse(localStorage.getItem('genloom.autosave.v1') ?? 'null'));
    expect(local.doc.nodes.find((n: { id: string }) => n.id === 'encoder').params.latentDim).toBe(3);
    await shot('08-host-restarted');
    await page.fill('[data-testid="host-address"]', server.url);
    await page.press('[data-testid="host-address"]', 'Enter');
    await page.waitForFunction(() => document.querySelector('.statusbar .conn')?.textContent?.includes('● connected'), undefined, { timeout: 15_000 });
    expect(await page.locator('[data-testid="host-banner"]').count()).toBe(0);
    expect((await doc()).nodes.find((n: { id: string }) => n.id === 'encoder').params.latentDim).toBe(3);
    // the API works again: the next autosave reaches the host
    await field.fill('4');
    await expect.poll(() => page.locator('[data-testid="autosave-state"]').innerText(), { timeout: 10_000 }).toMatch(/^autosaved /);
    await shot('08-reconnected');
  });
});
