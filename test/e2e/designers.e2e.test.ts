/**
 * The studio for designers (issue 12, "For designers", first item), in Chromium (web mode):
 * resizable and collapsible panels, a wire dropped on empty canvas, the right-click menu,
 * and diagnostics that suggest the fix. Screenshots in test-artifacts/e2e/designers/.
 *
 *   npx vitest run -c test/e2e/vitest.e2e.config.ts test/e2e/designers.e2e.test.ts
 *
 * Needs /usr/bin/chromium (override: GENLOOM_CHROMIUM). GENLOOM_E2E_SKIP_BUILD=1 reuses an
 * existing dist/web.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e', 'designers');
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
interface Doc {
  nodes: { id: string; type: string; params: Record<string, unknown> }[];
  edges: { from: [string, string]; to: [string, string] }[];
}

let server: { url: string; close(): Promise<void> };
let browser: Browser;
let page: Page;
let dataDir: string;

const template = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Doc;
const VAE = 'nodes/vae/templates/vae-moons.json';
const REALNVP = 'nodes/flow/templates/realnvp-moons.json';
const edited = (path: string, id: string, param: string, value: unknown): Doc => {
  const t = template(path);
  t.nodes.find((n) => n.id === id)!.params[param] = value;
  return t;
};

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}
async function box(selector: string): Promise<Box> {
  const b = await page.locator(selector).first().boundingBox();
  if (!b) throw new Error(`${selector} is not visible`);
  return b;
}
const centre = (b: Box) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });
const doc = () => page.evaluate(() => (window as any).__genloom.getDoc()) as Promise<Doc>;
const ui = () => page.evaluate(() => (window as any).__genloom.state().ui);
const blur = () => page.mouse.click(800, 990);
const handle = (node: string, port: string, kind: 'source' | 'target') => `.canvas .react-flow__node[data-id="${node}"] .react-flow__handle.${kind}[data-handleid="${port}"]`;

async function load(raw: unknown): Promise<void> {
  await page.evaluate((d) => (window as any).__genloom.loadDoc(d), raw);
  const n = (raw as Doc).nodes.length;
  await page.waitForFunction((k) => (window as any).__genloom.getDoc().nodes.length === k, n);
  await page.waitForSelector('.react-flow__node-gen');
  await page.waitForTimeout(400);
  await blur();
  await page.keyboard.press('f');
  await page.waitForTimeout(500);
}

/** drags with real mouse events */
async function drag(from: { x: number; y: number }, to: { x: number; y: number }, steps = 12): Promise<void> {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + 4, from.y + 4, { steps: 2 });
  await page.mouse.move(to.x, to.y, { steps });
  await page.waitForTimeout(50);
  await page.mouse.up();
  await page.waitForTimeout(150);
}

/** an empty spot of the canvas (no node, edge or control within 60 px) near the given fractions of its box */
function emptyCanvasPoint(fx: number, fy: number): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([fx, fy]) => {
      const pane = document.querySelector('.canvas .react-flow__pane')!.getBoundingClientRect();
      const busy = [...document.querySelectorAll('.canvas .react-flow__node, .canvas .react-flow__edge, .canvas .react-flow__minimap, .canvas .react-flow__controls')].map((e) => e.getBoundingClientRect());
      for (let d = 0; d < 0.5; d += 0.02)
        for (const [sx, sy] of [[1, 1], [-1, 1], [1, -1], [-1, -1]]) {
          const x = pane.left + pane.width * (fx + sx! * d);
          const y = pane.top + pane.height * (fy + sy! * d);
          if (x < pane.left + 20 || x > pane.right - 20 || y < pane.top + 20 || y > pane.bottom - 20) continue;
          if (busy.every((r) => x < r.left - 60 || x > r.right + 60 || y < r.top - 60 || y > r.bottom + 60)) return { x, y };
        }
      throw new Error('no empty canvas point');
    },
    [fx, fy] as const,
  );
}

describe.skipIf(!enabled)('the studio for designers (issue 12)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set GENLOOM_CHROMIUM)`);
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    if (!process.env.GENLOOM_E2E_STATIC && (process.env.GENLOOM_E2E_SKIP_BUILD !== '1' || !existsSync(join(STATIC, 'index.html')))) {
      const { build } = await import('vite');
      await build({ configFile: join(ROOT, 'vite.web.config.ts'), logLevel: 'warn' });
    }
    dataDir = await mkdtemp(join(tmpdir(), 'genloom-e2e-designers-'));
    const { startWebServer } = await import('../../src-main/app/webServer');
    server = await startWebServer({ port: 0, dataDir, staticDir: STATIC });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1, colorScheme: 'dark' });
    page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(server.url);
    await page.waitForSelector('.toolbar');
    await page.waitForSelector('[data-testid="template-gallery"]');
    await page.keyboard.press('Escape');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await page.keyboard.press('Escape');
    await blur();
  });

  async function reload(): Promise<void> {
    await page.goto(server.url);
    await page.waitForSelector('.toolbar');
    await page.waitForTimeout(600);
    await page.keyboard.press('Escape');
    const dismiss = page.locator('.banner button', { hasText: /discard|dismiss|no/i });
    if (await dismiss.count()) await dismiss.first().click();
  }

  it('palette, inspector and dock: handles resize them (clamped), toggles collapse them, the canvas takes the space, kept across reloads', async () => {
    await load(template(VAE));
    const pal0 = await box('.palette');
    const insp0 = await box('.inspector');
    const dock0 = await box('.dock');
    const canvas0 = await box('.canvas');
    expect(Math.round(pal0.width)).toBe(228);
    expect(Math.round(insp0.width)).toBe(340);

    // the palette's handle: 100 px wider, the canvas 100 px narrower
    await drag(centre(await box('[data-testid="resize-palette"]')), { x: centre(await box('[data-testid="resize-palette"]')).x + 100, y: 500 });
    expect(Math.round((await box('.palette')).width)).toBe(328);
    expect(Math.round((await box('.canvas')).width)).toBe(Math.round(canvas0.width) - 100);
    // clamped: at most 480, at least 160
    await drag(centre(await box('[data-testid="resize-palette"]')), { x: 1000, y: 500 });
    expect(Math.round((await box('.palette')).width)).toBe(480);
    await drag(centre(await box('[data-testid="resize-palette"]')), { x: 20, y: 500 });
    expect(Math.round((await box('.palette')).width)).toBe(160);
    // the inspector's handle grows it leftwards
    const ih = centre(await box('[data-testid="resize-inspector"]'));
    await drag(ih, { x: ih.x - 150, y: 500 });
    expect(Math.round((await box('.inspector')).width)).toBe(490);
    await drag(centre(await box('[data-testid="resize-inspector"]')), { x: 1590, y: 500 });
    expect(Math.round((await box('.inspector')).width)).toBe(260);
    // the dock's handle grows it upwards; the canvas gets shorter
    const canvasH = (await box('.canvas')).height;
    const dh = centre(await box('[data-testid="resize-dock"]'));
    await drag(dh, { x: dh.x, y: dh.y - 120 });
    expect(Math.round((await box('.dock')).height)).toBe(Math.round(dock0.height) + 120);
    expect(Math.round((await box('.canvas')).height)).toBe(Math.round(canvasH) - 120);
    await drag(centre(await box('[data-testid="resize-dock"]')), { x: dh.x, y: 60 });
    expect((await box('.dock')).height).toBeLessThanOrEqual(600); // 60% of the window
    expect((await box('.canvas')).height).toBeGreaterThan(150);
    await drag(centre(await box('[data-testid="resize-dock"]')), { x: dh.x, y: 985 });
    expect(Math.round((await box('.dock')).height)).toBe(140);
    // arrow keys on a focused handle
    await page.focus('[data-testid="resize-palette"]');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(Math.round((await box('.palette')).width)).toBe(192);
    await shot('01-panels-resized');

    // kept across a reload, in the preferences store
    const stored = JSON.parse((await page.evaluate(() => localStorage.getItem('genloom.prefs.v1'))) ?? '{}');
    expect(stored.panels).toMatchObject({ paletteWidth: 192, inspectorWidth: 260, dockHeight: 140 });
    await reload();
    await load(template(VAE));
    expect(Math.round((await box('.palette')).width)).toBe(192);
    expect(Math.round((await box('.inspector')).width)).toBe(260);
    expect(Math.round((await box('.dock')).height)).toBe(140);

    // collapse each: the canvas takes the room
    const wide0 = (await box('.canvas')).width;
    await page.click('[data-testid="collapse-palette"]');
    await page.waitForTimeout(150);
    expect((await box('.palette')).width).toBeLessThanOrEqual(30);
    expect(await page.locator('.palette input[aria-label="Search nodes"]').count()).toBe(0);
    await page.click('[data-testid="collapse-inspector"]');
    await page.waitForTimeout(150);
    expect((await box('.inspector')).width).toBeLessThanOrEqual(30);
    const wide1 = (await box('.canvas')).width;
    expect(wide1).toBeGreaterThanOrEqual(wide0 + 192 + 260 - 2 * 30 - 2);
    // the view fills the canvas: React Flow's pane follows
    expect((await box('.canvas .react-flow__pane')).width).toBeGreaterThanOrEqual(wide1 - 2);
    const tall0 = (await box('.canvas')).height;
    await page.click('[data-testid="collapse-dock"]');
    await page.waitForTimeout(150);
    expect((await box('.canvas')).height).toBeGreaterThan(tall0 + 80);
    await shot('02-panels-collapsed');
    // collapsed is kept too
    await reload();
    expect((await box('.palette')).width).toBeLessThanOrEqual(30);
    expect((await box('.inspector')).width).toBeLessThanOrEqual(30);
    // expanded again, at their sizes; a double-click on a handle gives the initial size back
    await page.click('[data-testid="expand-palette"]');
    await page.click('[data-testid="expand-inspector"]');
    // the dock's collapse is not kept (as before): it opens again
    expect(await page.locator('[data-testid="collapse-dock"]').count()).toBe(1);
    await page.waitForTimeout(150);
    expect(Math.round((await box('.palette')).width)).toBe(192);
    expect(Math.round((await box('.inspector')).width)).toBe(260);
    await page.dblclick('[data-testid="resize-palette"]');
    await page.dblclick('[data-testid="resize-inspector"]');
    await page.dblclick('[data-testid="resize-dock"]');
    await page.waitForTimeout(150);
    expect(Math.round((await box('.palette')).width)).toBe(228);
    expect(Math.round((await box('.inspector')).width)).toBe(340);
    expect(Math.round((await box('.dock')).height)).toBe(310);
    // arrows typed into a field do not resize anything
    const search = page.locator('input[aria-label="Search nodes"]');
    await search.click();
    await page.keyboard.press('ArrowRight');
    expect(Math.round((await box('.palette')).width)).toBe(228);
  });

  it('a wire dropped on empty canvas opens the search at the pointer, filtered to compatible node types; the choice is added there and connected; Escape cancels', async () => {
    await load(template(VAE));
    const before = (await doc()).nodes.length;
    // from the dataset's output (a data tensor): node types with a Tensor input
    const to = await emptyCanvasPoint(0.5, 0.15);
    await drag(centre(await box(handle('data', 'x', 'source'))), to);
    await page.waitForSelector('[data-testid="add-popup"]');
    expect(await page.locator('[data-testid="add-popup"]').getAttribute('data-wire')).toBe('data.x');
    const pop = await box('[data-testid="add-popup"]');
    expect(Math.abs(pop.x - to.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(pop.y - to.y)).toBeLessThanOrEqual(2);
    await shot('03-wire-search');
    const offered = await page.locator('[data-testid="add-popup"] .add-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')!));
    expect(offered.length).toBeGreaterThan(2);
    for (const t of offered) {
      const spec = registry.get(t)!;
      expect(Object.values(spec.inputs).some((p) => p.type.kind === 'Tensor'), `${t} takes a Tensor`).toBe(true);
    }
    expect(offered).not.toContain('data.dataset');
    // the search narrows within the compatible types
    await page.keyboard.type('mlp');
    await page.waitForTimeout(100);
    expect(await page.locator('[data-testid="add-popup"] .add-item').first().getAttribute('data-type')).toBe('network.mlp');
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().nodes.length === n + 1, before);
    const d = await doc();
    const added = d.nodes.find((n) => n.type === 'network.mlp')!;
    expect(d.edges.some((e) => e.from[0] === 'data' && e.from[1] === 'x' && e.to[0] === added.id)).toBe(true);
    // created where the wire was dropped: its input side at the pointer
    await page.waitForSelector(`.canvas .react-flow__node[data-id="${added.id}"]`);
    await page.waitForTimeout(200);
    const nb = await box(`.canvas .react-flow__node[data-id="${added.id}"]`);
    expect(Math.abs(nb.x - to.x)).toBeLessThanOrEqual(40);
    expect(Math.abs(nb.y - to.y)).toBeLessThanOrEqual(60);
    await shot('04-wire-connected');
    // one undo step takes node and edge back
    await blur();
    await page.keyboard.press('Control+z');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().nodes.length === n, before);
    expect((await doc()).edges.length).toBe(template(VAE).edges.length);

    // Escape cancels: no node, no edge
    const to2 = await emptyCanvasPoint(0.5, 0.15);
    await drag(centre(await box(handle('data', 'x', 'source'))), to2);
    await page.waitForSelector('[data-testid="add-popup"]');
    await page.keyboard.press('Escape');
    await page.waitForTimeout(150);
    expect(await page.locator('[data-testid="add-popup"]').count()).toBe(0);
    expect((await doc()).nodes.length).toBe(before);
    expect((await doc()).edges.length).toBe(template(VAE).edges.length);

    // from an input (the encoder's x): node types with a Tensor output, connected into it
    const to3 = await emptyCanvasPoint(0.2, 0.15);
    await drag(centre(await box(handle('encoder', 'x', 'target'))), to3);
    await page.waitForSelector('[data-testid="add-popup"]');
    const feeding = await page.locator('[data-testid="add-popup"] .add-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')!));
    for (const t of feeding) expect(Object.values(registry.get(t)!.outputs).some((p) => p.type.kind === 'Tensor'), `${t} gives a Tensor`).toBe(true);
    await page.keyboard.type('dataset');
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().nodes.length === n + 1, before);
    const d3 = await doc();
    const ds = d3.nodes.find((n) => n.type === 'data.dataset' && n.id !== 'data')!;
    expect(d3.edges.find((e) => e.to[0] === 'encoder' && e.to[1] === 'x')!.from[0]).toBe(ds.id);
    await blur();
    await page.keyboard.press('Control+z');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().nodes.length === n, before);
  });

  it('a right-click menu on a node, an edge and the canvas, driven by the keyboard too', async () => {
    await load(template(VAE));
    const n0 = (await doc()).nodes.length;
    const e0 = (await doc()).edges.length;
    const menu = '[data-testid="context-menu"]';
    const items = () => page.locator(`${menu} [role="menuitem"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-action'));
    const encoder = '.canvas .react-flow__node[data-id="encoder"] .gnode-title';

    // on a node: duplicate, delete, disconnect all, show equation; the first item has the focus
    await page.click(encoder, { button: 'right' });
    await page.waitForSelector(menu);
    expect(await page.locator(menu).getAttribute('data-target')).toBe('node');
    expect(await items()).toEqual(['duplicate', 'delete-node', 'disconnect', 'show-equation']);
    expect(await focused()).toBe('duplicate');
    await shot('05-menu-node');
    // Escape closes it, nothing changes
    await page.keyboard.press('Escape');
    await page.waitForTimeout(100);
    expect(await page.locator(menu).count()).toBe(0);
    expect((await doc()).nodes.length).toBe(n0);
    // Enter on the first item duplicates
    await page.click(encoder, { button: 'right' });
    await page.waitForSelector(menu);
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().nodes.length === n + 1, n0);
    expect((await doc()).nodes.some((n) => n.id === 'encoder2' && n.type === 'encoder.gaussian')).toBe(true);
    await blur();
    await page.keyboard.press('Control+z');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().nodes.length === n, n0);
    // arrows: down twice reaches disconnect all
    await page.click(encoder, { button: 'right' });
    await page.waitForSelector(menu);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('disconnect');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(150);
    expect((await doc()).edges.some((e) => e.from[0] === 'encoder' || e.to[0] === 'encoder')).toBe(false);
    await blur();
    await page.keyboard.press('Control+z');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().edges.length === n, e0);
    // up from the first wraps to the last: show equation, in the inspector
    await page.click(encoder, { button: 'right' });
    await page.waitForSelector(menu);
    await page.keyboard.press('ArrowUp');
    expect(await focused()).toBe('show-equation');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    expect((await ui()).panels.inspectorOpen).toBe(true);
    expect(await page.locator('input[aria-label="node id"]').inputValue()).toBe('encoder');
    expect(await page.locator('[data-testid="inspector-equation"] .katex').isVisible()).toBe(true);
    const eq = await box('[data-testid="inspector-equation"] .katex');
    expect(eq.y + eq.height).toBeLessThanOrEqual((await box('.inspector')).y + (await box('.inspector')).height + 1);
    // delete, by the mouse this time
    await page.click(encoder, { button: 'right' });
    await page.click(`${menu} [data-action="delete-node"]`);
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().nodes.length === n - 1, n0);
    await blur();
    await page.keyboard.press('Control+z');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().nodes.length === n, n0);
    await page.waitForTimeout(300);

    // on an edge: delete
    const pt = await page.evaluate(() => {
      const p = document.querySelector<SVGPathElement>('.canvas .react-flow__edge[data-id^="data:x->encoder"] path.react-flow__edge-path')!;
      const q = p.getPointAtLength(p.getTotalLength() / 2);
      const m = p.getScreenCTM()!;
      const x = q.x * m.a + q.y * m.c + m.e;
      const y = q.x * m.b + q.y * m.d + m.f;
      return { x, y, id: document.elementFromPoint(x, y)?.closest('.react-flow__edge')?.getAttribute('data-id') ?? '' };
    });
    expect(pt.id).toMatch(/->/);
    await page.mouse.click(pt.x, pt.y, { button: 'right' });
    await page.waitForSelector(menu);
    expect(await page.locator(menu).getAttribute('data-target')).toBe('edge');
    expect(await items()).toEqual(['delete-edge']);
    await shot('06-menu-edge');
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().edges.length === n - 1, e0);
    // the edge under the pointer is the one gone
    expect((await doc()).edges.map((e) => `${e.from[0]}:${e.from[1]}->${e.to[0]}:${e.to[1]}`)).not.toContain(pt.id);
    await blur();
    await page.keyboard.press('Control+z');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().edges.length === n, e0);

    // on the canvas: add node here, fit view; paste only once something is copied
    const spot = await emptyCanvasPoint(0.5, 0.12);
    await page.mouse.click(spot.x, spot.y, { button: 'right' });
    await page.waitForSelector(menu);
    expect(await page.locator(menu).getAttribute('data-target')).toBe('pane');
    expect(await items()).toEqual(['add-node', 'fit-view']);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="add-popup"]');
    const pop = await box('[data-testid="add-popup"]');
    expect(Math.abs(pop.x - spot.x)).toBeLessThanOrEqual(2);
    await page.keyboard.press('Escape');
    await page.click(encoder);
    await page.keyboard.press('Control+c');
    await page.mouse.click(spot.x, spot.y, { button: 'right' });
    await page.waitForSelector(menu);
    expect(await items()).toEqual(['add-node', 'fit-view', 'paste']);
    await shot('07-menu-canvas');
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().nodes.length === n + 1, n0);
    const pasted = (await doc()).nodes.find((n) => n.id === 'encoder2')!;
    expect(pasted).toBeTruthy();
    await page.waitForTimeout(200);
    const pb = await box('.canvas .react-flow__node[data-id="encoder2"]');
    expect(Math.abs(pb.x - spot.x)).toBeLessThanOrEqual(4);
    await blur();
    await page.keyboard.press('Control+z');
    await page.waitForFunction((n) => (window as any).__genloom.getDoc().nodes.length === n, n0);

    // from the keyboard: Shift+F10 opens the selected node's menu; not while typing in a field
    await page.click(encoder);
    await page.keyboard.press('Shift+F10');
    await page.waitForSelector(menu);
    expect(await page.locator(menu).getAttribute('data-target')).toBe('node');
    await page.keyboard.press('Escape');
    await page.waitForTimeout(100);
    expect(await page.locator(menu).count()).toBe(0);
    await page.click('input[aria-label="node id"]');
    await page.keyboard.press('Shift+F10');
    await page.waitForTimeout(150);
    expect(await page.locator(menu).count()).toBe(0);
  });

  it('diagnostics that suggest the fix, with a button that applies it (one undo step)', async () => {
    const errors = () => page.locator('[data-testid="diag-count"] .err, [data-testid="diag-count"] .ok').first().textContent();
    const fixes = () => page.locator('[data-testid="diagnostics"] .fix-button').evaluateAll((els) => els.map((e) => e.getAttribute('data-fix')));
    const param = async (id: string, p: string) => (await doc()).nodes.find((n) => n.id === id)!.params[p];

    // the VAE's latent: the prior's dim 3 against the encoder's latentDim 2
    await load(edited(VAE, 'prior', 'dim', 3));
    await page.click('[data-testid="diag-count"]');
    await page.waitForSelector('[data-testid="diagnostics"] .fix-button');
    expect(await errors()).toMatch(/^[1-9]\d* errors/);
    expect(await fixes()).toEqual(expect.arrayContaining(['prior.dim=2', 'encoder.latentDim=3']));
    const row = page.locator('[data-testid="diagnostics"] .diag-item[data-code="shape-mismatch"]').first();
    expect(await row.locator('.diag-fix').textContent()).toMatch(/set prior\.dim to 2.*or.*set encoder\.latentDim to 3|set encoder\.latentDim to 3.*or.*set prior\.dim to 2/);
    await shot('08-fix-latent');
    // the inspector of the node it names shows it too
    await page.click('.canvas .react-flow__node[data-id="elbo"] .gnode-title');
    await page.waitForSelector('.inspector .diag-line .fix-button');
    await row.locator('.fix-button[data-fix="prior.dim=2"]').click();
    await page.waitForTimeout(200);
    expect(await param('prior', 'dim')).toBe(2);
    expect(await errors()).toBe('0 errors');
    expect(await page.locator('[data-testid="diagnostics"] .fix-button').count()).toBe(0);
    // one undo step
    const past = (await ui()) && (await page.evaluate(() => (window as any).__genloom.state().editor.past.length));
    expect(past).toBe(1);
    await blur();
    await page.keyboard.press('Control+z');
    await page.waitForTimeout(150);
    expect(await param('prior', 'dim')).toBe(3);
    // the other way: the encoder's latentDim to 3
    await page.click('[data-testid="diagnostics"] .fix-button[data-fix="encoder.latentDim=3"]');
    await page.waitForTimeout(200);
    expect(await param('encoder', 'latentDim')).toBe(3);
    expect(await errors()).toBe('0 errors');

    // the decoder's data size against the dataset's
    await load(edited(VAE, 'decoder', 'dataDim', 3));
    await page.click('[data-testid="diag-count"]');
    await page.waitForSelector('[data-testid="diagnostics"] .fix-button');
    expect(await fixes()).toEqual(['decoder.dataDim=2']);
    await shot('09-fix-data');
    await page.click('[data-testid="diagnostics"] .fix-button');
    await page.waitForTimeout(200);
    expect(await param('decoder', 'dataDim')).toBe(2);
    expect(await errors()).toBe('0 errors');

    // a flow's base against its couplings
    await load(edited(REALNVP, 'base', 'dim', 3));
    await page.click('[data-testid="diag-count"]');
    await page.waitForSelector('[data-testid="diagnostics"] .fix-button');
    expect(await fixes()).toEqual(['base.dim=2']);
    await page.click('[data-testid="diagnostics"] .fix-button');
    await page.waitForTimeout(200);
    expect(await errors()).toBe('0 errors');
  });
});
