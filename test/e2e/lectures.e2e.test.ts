/**
 * The studio for lectures (issue 12, "For lectures"), measured in Chromium (web mode):
 * equations on the nodes, presentation mode, and the light theme that follows the system.
 * Each test keeps screenshots in test-artifacts/e2e/lectures/.
 *
 *   npx vitest run -c test/e2e/vitest.e2e.config.ts test/e2e/lectures.e2e.test.ts
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
import { contrast, mix, parseColor, type Rgba } from '../../src-renderer/model/prefs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e', 'lectures');
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

const template = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as { nodes: { id: string; type: string }[]; edges: unknown[] };
const VAE = 'nodes/vae/templates/vae-moons.json';
const DDPM = 'nodes/diffusion/templates/ddpm-swissroll.json';
const REALNVP = 'nodes/flow/templates/realnvp-moons.json';

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}
async function box(selector: string): Promise<Box> {
  const b = await page.locator(selector).first().boundingBox();
  if (!b) throw new Error(`${selector} is not visible`);
  return b;
}
const ui = () => page.evaluate(() => (window as any).__genloom.state().ui);
const zoom = () => page.evaluate(() => new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')!).transform).a);
/** the focus leaves any field: a click on the status bar */
const blur = () => page.mouse.click(800, 990);

async function load(raw: unknown): Promise<void> {
  await page.evaluate((d) => (window as any).__genloom.loadDoc(d), raw);
  const n = (raw as { nodes: unknown[] }).nodes.length;
  await page.waitForFunction((k) => (window as any).__genloom.getDoc().nodes.length === k, n);
  await page.waitForSelector('.react-flow__node-gen');
  await page.waitForTimeout(400);
  await fit();
}
async function fit(): Promise<void> {
  await blur();
  await page.keyboard.press('f');
  await page.waitForTimeout(500);
}
/** a key pressed on the canvas (no field focused) */
async function key(k: string): Promise<void> {
  await blur();
  await page.keyboard.press(k);
  await page.waitForTimeout(450); // the toggles refit the view after the layout settles
}

/** every node's equation box against its node's box, in screen pixels, with the type size on screen */
function equationBoxes(scope = '.canvas') {
  return page.evaluate((scope) => {
    const vp = document.querySelector(`${scope} .react-flow__viewport`)!;
    const z = new DOMMatrix(getComputedStyle(vp).transform).a;
    return [...document.querySelectorAll(`${scope} .react-flow__node-gen`)].map((n) => {
      const id = n.getAttribute('data-id');
      const b = n.querySelector<HTMLElement>('.gnode-math .katex-box');
      if (!b) return { id, missing: true };
      const node = n.querySelector('.gnode')!.getBoundingClientRect();
      const k = b.querySelector('.katex')!.getBoundingClientRect();
      const r = b.getBoundingClientRect();
      return {
        id,
        missing: false,
        overflowX: b.scrollWidth - b.clientWidth,
        overflowY: b.scrollHeight - b.clientHeight,
        inNode: r.left >= node.left - 0.5 && r.right <= node.right + 0.5 && r.top >= node.top - 0.5 && r.bottom <= node.bottom + 0.5,
        katexInBox: k.left >= r.left - 0.5 && k.right <= r.right + 0.5,
        /** the type's size on screen: the box's font size (KaTeX draws at 1em) times the canvas zoom */
        screenPx: parseFloat(getComputedStyle(b).fontSize) * z,
        titlePx: parseFloat(getComputedStyle(n.querySelector('.gnode-title')!).fontSize) * z,
      };
    });
  }, scope);
}

/** the colours of what the canvas shows: text on the nodes, the node and canvas backgrounds, edges */
function canvasColours() {
  return page.evaluate(() => {
    const cs = (el: Element | null) => (el ? getComputedStyle(el) : null);
    const node = document.querySelector('.react-flow__node-gen .gnode')!;
    const head = node.querySelector('.gnode-head')!;
    const flow = document.querySelector('.canvas .react-flow')!;
    const bgOf = (el: Element | null): string => {
      for (let e = el; e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c;
      }
      return getComputedStyle(document.body).backgroundColor;
    };
    const texts = (sel: string) => [...document.querySelectorAll(`.canvas .react-flow__node-gen ${sel}`)].slice(0, 40).map((e) => ({ color: cs(e)!.color, bg: bgOf(e), text: e.textContent ?? '' }));
    return {
      fam: cs(node)!.getPropertyValue('--fam').trim(),
      nodeBg: cs(node)!.backgroundColor,
      headBg: cs(head)!.backgroundImage,
      title: cs(node.querySelector('.gnode-title'))!.color,
      family: cs(node.querySelector('.gnode-family'))!.color,
      portNames: texts('.port-name'),
      portTypes: texts('.port-type'),
      paramKeys: texts('.kp-k'),
      paramValues: texts('.kp-v'),
      canvasBg: bgOf(flow.querySelector('.react-flow__pane')),
      edges: [...document.querySelectorAll('.canvas .react-flow__edge-path')].map((e) => cs(e)!.stroke),
      math: [...document.querySelectorAll('.canvas .gnode-math .katex-box')].slice(0, 10).map((e) => ({ color: cs(e)!.color, bg: bgOf(e) })),
    };
  });
}

const rgb = (s: string): Rgba => {
  const c = parseColor(s);
  if (!c) throw new Error(`cannot read the colour ${s}`);
  return c;
};

/** the lowest contrast of each kind of text and line on the canvas */
async function canvasContrast() {
  const c = await canvasColours();
  const nodeBg = rgb(c.nodeBg);
  // the head is a gradient of the family colour over the node: its strongest stop (34%) is the worst case
  const head = mix(rgb(c.fam), nodeBg, 0.34);
  const min = (xs: number[]) => Math.min(...xs);
  return {
    title: contrast(c.title, head),
    family: contrast(c.family, head),
    portNames: min(c.portNames.map((t) => contrast(t.color, t.bg))),
    portTypes: min(c.portTypes.map((t) => contrast(t.color, t.bg))),
    paramKeys: min(c.paramKeys.map((t) => contrast(t.color, t.bg))),
    paramValues: min(c.paramValues.map((t) => contrast(t.color, t.bg))),
    math: c.math.length ? min(c.math.map((t) => contrast(t.color, t.bg))) : Infinity,
    edges: min(c.edges.map((e) => contrast(e, c.canvasBg))),
    canvasLuminance: (rgb(c.canvasBg).r + rgb(c.canvasBg).g + rgb(c.canvasBg).b) / 3,
  };
}

/** each loss-chart legend label against its chart's background, and the axes' colour */
function legendColours() {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="loss-charts"] .chart')].flatMap((chart) => {
      const bg = getComputedStyle(chart).backgroundColor;
      return [...chart.querySelectorAll('.u-legend .u-label')].map((l) => ({ text: l.textContent ?? '', color: getComputedStyle(l).color, bg }));
    }),
  );
}

describe.skipIf(!enabled)('the studio for lectures (issue 12)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set GENLOOM_CHROMIUM)`);
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    if (!process.env.GENLOOM_E2E_STATIC && (process.env.GENLOOM_E2E_SKIP_BUILD !== '1' || !existsSync(join(STATIC, 'index.html')))) {
      const { build } = await import('vite');
      await build({ configFile: join(ROOT, 'vite.web.config.ts'), logLevel: 'warn' });
    }
    dataDir = await mkdtemp(join(tmpdir(), 'genloom-e2e-lectures-'));
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
    await blur();
  });

  /** a reload keeps the token out of the address bar: go to the server's address again */
  async function reload(): Promise<void> {
    await page.goto(server.url);
    await page.waitForSelector('.toolbar');
    await page.waitForTimeout(600);
    await page.keyboard.press('Escape'); // a template gallery or restore offer, if any
    const dismiss = page.locator('.banner button', { hasText: /discard|dismiss|no/i });
    if (await dismiss.count()) await dismiss.first().click();
  }

  it('equations on the canvas: E and the toolbar toggle them, each fits its node at fit zoom, kept across reloads, in the compare view too', async () => {
    await load(template(VAE));
    expect(await page.locator('.canvas .gnode-math').count()).toBe(0);
    const before = await zoom();
    await key('e');
    expect((await ui()).equations).toBe(true);
    const n = template(VAE).nodes.length;
    await page.waitForFunction((k) => document.querySelectorAll('.canvas .gnode-math .katex').length === k, n);
    await page.waitForTimeout(300);
    await shot('01-equations-vae');
    // every node shows its equation, inside the node, nothing cut off or overflowing
    for (const path of [VAE, DDPM, REALNVP]) {
      if (path !== VAE) {
        await load(template(path));
        await page.waitForTimeout(300);
        await shot(`01-equations-${path.split('/').pop()!.replace('.json', '')}`);
      }
      const eqs = await equationBoxes();
      expect(eqs.length, path).toBe(template(path).nodes.length);
      for (const e of eqs) {
        expect(e, `${path} ${e.id}`).toMatchObject({ missing: false, inNode: true, katexInBox: true });
        expect(e.overflowX!, `${path} ${e.id} overflow`).toBeLessThanOrEqual(1);
        expect(e.overflowY!, `${path} ${e.id} overflow`).toBeLessThanOrEqual(1);
        // readable at the zoom fit view chose: the node title's size, shrunk at most to 80% where a part cannot wrap
        expect(e.screenPx!, `${path} ${e.id} type on screen`).toBeGreaterThanOrEqual(0.8 * e.titlePx!);
        expect(e.screenPx!, `${path} ${e.id} type on screen`).toBeGreaterThanOrEqual(7);
      }
      const sizes = eqs.map((e) => e.screenPx!);
      console.log(`${path}: equation type on screen at fit zoom ${Math.min(...sizes).toFixed(1)}-${Math.max(...sizes).toFixed(1)} px, title ${eqs[0]!.titlePx!.toFixed(1)} px`);
      // no node covers another (the view shifts nodes that grew)
      const overlaps = await page.evaluate(() => {
        const rs = [...document.querySelectorAll('.canvas .react-flow__node-gen')].map((n) => ({ id: n.getAttribute('data-id'), r: n.getBoundingClientRect() }));
        const out: string[] = [];
        for (const a of rs) for (const b of rs) if (a.id! < b.id! && a.r.left < b.r.right - 1 && b.r.left < a.r.right - 1 && a.r.top < b.r.bottom - 1 && b.r.top < a.r.bottom - 1) out.push(`${a.id}/${b.id}`);
        return out;
      });
      expect(overlaps, `${path}: nodes covering each other`).toEqual([]);
    }
    // the VAE's type at fit zoom, as a lecture sees it: about the node title's size
    await load(template(VAE));
    const vae = await equationBoxes();
    expect(Math.min(...vae.map((e) => e.screenPx!))).toBeGreaterThanOrEqual(8.5);
    expect(before).toBeGreaterThan(0);

    // kept across a reload (the UI state reads it back)
    expect(JSON.parse((await page.evaluate(() => localStorage.getItem('genloom.prefs.v1'))) ?? '{}').equations).toBe(true);
    await reload();
    expect((await ui()).equations).toBe(true);
    await load(template(VAE));
    expect(await page.locator('.canvas .gnode-math').count()).toBe(n);

    // not while typing: E and P typed into a field stay text
    const title = page.locator('input[aria-label="graph title"]');
    await title.click();
    await title.press('End');
    await page.keyboard.type(' ep');
    expect(await title.inputValue()).toMatch(/ ep$/);
    expect((await ui()).equations).toBe(true);
    expect((await ui()).presentation).toBe(false);

    // the compare view's nodes show them too, and its checkbox toggles them
    await page.click('[data-testid="open-compare"]');
    await page.waitForSelector('[data-testid="compare-view"] .react-flow__node-gen');
    await page.waitForFunction(() => document.querySelectorAll('.compare-canvas .gnode-math .katex').length > 0);
    await page.waitForTimeout(400);
    await shot('01-equations-compare');
    const panes = await page.locator('.compare-canvas').count();
    for (let i = 0; i < panes; i++) {
      const eqs = await equationBoxes(`.compare-pane:nth-child(${i + 1}) .compare-canvas`);
      expect(eqs.length).toBeGreaterThan(0);
      for (const e of eqs) expect(e, `compare ${i} ${e.id}`).toMatchObject({ missing: false, inNode: true, katexInBox: true });
    }
    await page.click('[data-testid="compare-equations"]');
    await page.waitForTimeout(300);
    expect(await page.locator('.compare-canvas .gnode-math').count()).toBe(0);
    await page.keyboard.press('Escape');
    expect(await page.locator('.canvas .gnode-math').count()).toBe(0);

    // the toolbar button turns them on again, E off again
    await page.click('[data-testid="toggle-equations"]');
    await page.waitForTimeout(300);
    expect(await page.locator('.canvas .gnode-math').count()).toBe(n);
    expect(await page.locator('[data-testid="toggle-equations"]').getAttribute('aria-pressed')).toBe('true');
    await key('e');
    expect(await page.locator('.canvas .gnode-math').count()).toBe(0);
    expect(JSON.parse((await page.evaluate(() => localStorage.getItem('genloom.prefs.v1'))) ?? '{}').equations).toBe(false);
  });

  it('presentation mode: P and the toolbar enter it (panels hidden, large type, high contrast), Esc leaves it', async () => {
    await load(template(VAE));
    const normal = await page.evaluate(() => {
      const z = new DOMMatrix(getComputedStyle(document.querySelector('.canvas .react-flow__viewport')!).transform).a;
      return { title: parseFloat(getComputedStyle(document.querySelector('.canvas .gnode-title')!).fontSize) * z, toolbar: parseFloat(getComputedStyle(document.querySelector('.toolbar button')!).fontSize) };
    });
    const normalContrast = await canvasContrast();
    expect(await page.locator('.palette').isVisible()).toBe(true);
    expect(await page.locator('.inspector').isVisible()).toBe(true);

    await key('p');
    expect((await ui()).presentation).toBe(true);
    await page.waitForTimeout(300);
    await shot('02-presentation');
    // side panels hidden: the canvas takes the window's width
    expect(await page.locator('.palette').isVisible()).toBe(false);
    expect(await page.locator('.inspector').isVisible()).toBe(false);
    expect((await box('.canvas')).width).toBeGreaterThan(1590);
    // large type: the chrome's and, after the fit, the nodes' on screen
    const big = await page.evaluate(() => {
      const z = new DOMMatrix(getComputedStyle(document.querySelector('.canvas .react-flow__viewport')!).transform).a;
      return {
        title: parseFloat(getComputedStyle(document.querySelector('.canvas .gnode-title')!).fontSize) * z,
        toolbar: parseFloat(getComputedStyle(document.querySelector('.toolbar button')!).fontSize),
        status: parseFloat(getComputedStyle(document.querySelector('.statusbar')!).fontSize),
        tab: parseFloat(getComputedStyle(document.querySelector('.dock .tab')!).fontSize),
      };
    });
    expect(big.toolbar).toBeGreaterThanOrEqual(16);
    expect(big.toolbar).toBeGreaterThanOrEqual(normal.toolbar * 1.25);
    expect(big.status).toBeGreaterThanOrEqual(15);
    expect(big.tab).toBeGreaterThanOrEqual(16);
    expect(big.title).toBeGreaterThanOrEqual(normal.title * 1.3);
    expect(big.title).toBeGreaterThanOrEqual(12);
    // high contrast: the secondary text on the nodes reaches WCAG AAA (7:1), and beats the normal view
    const hc = await canvasContrast();
    expect(hc.paramKeys).toBeGreaterThanOrEqual(7);
    expect(hc.portNames).toBeGreaterThanOrEqual(7);
    expect(hc.title).toBeGreaterThanOrEqual(7);
    expect(hc.paramKeys).toBeGreaterThan(normalContrast.paramKeys);
    // typing P into a field does not leave it; Esc does
    await page.keyboard.press('Escape');
    await page.waitForTimeout(400);
    expect((await ui()).presentation).toBe(false);
    expect(await page.locator('.palette').isVisible()).toBe(true);
    expect(await page.locator('.inspector').isVisible()).toBe(true);
    // the toolbar button enters and leaves it too, and P leaves it
    await page.click('[data-testid="toggle-presentation"]');
    await page.waitForTimeout(300);
    expect((await ui()).presentation).toBe(true);
    await key('p');
    expect((await ui()).presentation).toBe(false);
    expect(await page.locator('.inspector').isVisible()).toBe(true);
  });

  it('a light theme follows the system, with a toggle (system / light / dark) that is kept; text, edges and legends readable in both', async () => {
    await load(template(VAE));
    await page.click('[data-testid="tab-train"]');
    await page.fill('input[aria-label="training steps"]', '30');
    await page.click('[data-testid="train-start"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="train-panel"]')?.getAttribute('data-status') === 'stopped', undefined, { timeout: 180_000 });
    await key('e'); // equations on: their text is checked too
    const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
    const pref = () => page.locator('[data-testid="toggle-theme"]').getAttribute('data-theme-pref');

    const check = async (name: string) => {
      await page.waitForTimeout(300);
      await shot(`03-theme-${name}`);
      const c = await canvasContrast();
      const low = Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'canvasLuminance'));
      // text: WCAG AA (4.5:1); the edges are lines: 3:1 (WCAG non-text contrast)
      for (const k of ['title', 'family', 'portNames', 'portTypes', 'paramKeys', 'paramValues', 'math'] as const) expect(low[k], `${name}: ${k}`).toBeGreaterThanOrEqual(4.5);
      expect(low.edges, `${name}: edges`).toBeGreaterThanOrEqual(3);
      const legends = await legendColours();
      expect(legends.map((l) => l.text)).toEqual(expect.arrayContaining(['loss', 'recon', 'kl']));
      for (const l of legends) expect(contrast(l.color, l.bg), `${name}: legend ${l.text}`).toBeGreaterThanOrEqual(4.5);
      return c;
    };

    // the system prefers dark
    expect(await pref()).toBe('system');
    expect(await theme()).toBe('dark');
    const dark = await check('dark-system');
    expect(dark.canvasLuminance).toBeLessThan(60);
    // the system switches to light: the studio follows, live
    await page.emulateMedia({ colorScheme: 'light' });
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
    const light = await check('light-system');
    expect(light.canvasLuminance).toBeGreaterThan(200);
    expect(await page.evaluate(() => getComputedStyle(document.querySelector('.canvas .react-flow')!).colorScheme)).toContain('light');

    // the toggle: system -> light -> dark -> system
    await page.click('[data-testid="toggle-theme"]');
    expect(await pref()).toBe('light');
    expect(await theme()).toBe('light');
    await page.click('[data-testid="toggle-theme"]');
    expect(await pref()).toBe('dark');
    expect(await theme()).toBe('dark'); // against the system's light
    await check('dark-chosen');
    // kept across a reload: dark although the system prefers light
    await reload();
    expect(await pref()).toBe('dark');
    expect(await theme()).toBe('dark');
    await page.click('[data-testid="toggle-theme"]');
    expect(await pref()).toBe('system');
    expect(await theme()).toBe('light');
    await reload();
    expect(await pref()).toBe('system');
    expect(await theme()).toBe('light');
    // presentation mode in the light theme: still high contrast
    await load(template(VAE));
    await key('p');
    await shot('03-theme-light-presentation');
    const hc = await canvasContrast();
    expect(hc.paramKeys).toBeGreaterThanOrEqual(7);
    expect(hc.portNames).toBeGreaterThanOrEqual(7);
    await key('Escape');
    await page.emulateMedia({ colorScheme: 'dark' });
  });
});
