import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EQUATION_GAP, equationOffsets } from '../model/equationLayout';
import { contrast, DEFAULT_PREFS, lectureAction, mix, nextTheme, parseColor, parsePrefs, readPrefs, resolveTheme } from '../model/prefs';

describe('lecture preferences', () => {
  it('reads back what was stored, and defaults for anything else', () => {
    expect(readPrefs(JSON.stringify({ equations: true, theme: 'light' }))).toEqual({ equations: true, theme: 'light' });
    expect(readPrefs(null)).toEqual(DEFAULT_PREFS);
    expect(readPrefs('{not json')).toEqual(DEFAULT_PREFS);
    expect(parsePrefs({ equations: 'yes', theme: 'purple' })).toEqual(DEFAULT_PREFS);
    expect(parsePrefs({ theme: 'dark' })).toEqual({ equations: false, theme: 'dark' });
    expect(parsePrefs(7)).toEqual(DEFAULT_PREFS);
  });

  it('follows the system unless a theme is chosen; the button cycles system, light, dark', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
    expect(nextTheme('system')).toBe('light');
    expect(nextTheme('light')).toBe('dark');
    expect(nextTheme('dark')).toBe('system');
  });

  it('E and P toggle, Esc leaves presentation only when in it; modified keys are not ours', () => {
    expect(lectureAction({ key: 'e' }, false)).toBe('toggle-equations');
    expect(lectureAction({ key: 'E' }, false)).toBe('toggle-equations');
    expect(lectureAction({ key: 'p' }, false)).toBe('toggle-presentation');
    expect(lectureAction({ key: 'Escape' }, true)).toBe('leave-presentation');
    expect(lectureAction({ key: 'Escape' }, false)).toBeNull();
    expect(lectureAction({ key: 'p', ctrlKey: true }, false)).toBeNull();
    expect(lectureAction({ key: 'e', metaKey: true }, false)).toBeNull();
    expect(lectureAction({ key: 'x' }, false)).toBeNull();
  });
});

describe('contrast (WCAG 2)', () => {
  it('parses colours and gives the known ratios', () => {
    expect(parseColor('#fff')).toEqual({ r: 255, g: 255, b: 255, a: 1 });
    expect(parseColor('rgba(0, 0, 0, 0.5)')).toEqual({ r: 0, g: 0, b: 0, a: 0.5 });
    expect(parseColor('rgb(10 20 30 / 50%)')).toEqual({ r: 10, g: 20, b: 30, a: 0.5 });
    expect(parseColor('color(srgb 1 0.5 0)')).toEqual({ r: 255, g: 127.5, b: 0, a: 1 });
    expect(mix(parseColor('#ffffff')!, parseColor('#000000')!, 0.25)).toEqual({ r: 63.75, g: 63.75, b: 63.75, a: 1 });
    expect(contrast('#000', '#fff')).toBeCloseTo(21, 5);
    expect(contrast('#fff', '#fff')).toBeCloseTo(1, 5);
    expect(contrast('#767676', '#ffffff')).toBeCloseTo(4.54, 1);
    // a translucent colour is painted over the background first
    expect(contrast('rgba(0, 0, 0, 0)', '#fff')).toBeCloseTo(1, 5);
  });
});

/** the custom properties of one rule of app.css */
function vars(css: string, selector: string): Record<string, string> {
  const i = css.indexOf(`${selector} {`);
  if (i < 0) throw new Error(`no rule ${selector}`);
  const body = css.slice(i, css.indexOf('}', i));
  const out: Record<string, string> = {};
  for (const m of body.matchAll(/(--[\w-]+):\s*([^;]+);/g)) out[m[1]!] = m[2]!.trim();
  return out;
}

describe('both themes keep text, ports, edges and legends readable', () => {
  const css = readFileSync(new URL('../styles/app.css', import.meta.url), 'utf8');
  const dark = vars(css, ':root');
  const light = { ...dark, ...vars(css, ":root[data-theme='light']") };
  for (const [name, t] of [
    ['dark', dark],
    ['light', light],
  ] as const) {
    it(name, () => {
      const c = (fg: string, bg: string) => contrast(t[fg]!, t[bg]!);
      // text: 4.5:1 (WCAG AA)
      for (const fg of ['--text', '--text-strong', '--port-name', '--kp-v', '--muted', '--text-soft', '--node-id']) expect(c(fg, '--node-bg'), `${fg} on a node`).toBeGreaterThanOrEqual(4.5);
      for (const fg of ['--text', '--muted']) {
        expect(c(fg, '--bg'), `${fg} on the page`).toBeGreaterThanOrEqual(4.5);
        expect(c(fg, '--panel'), `${fg} on a panel`).toBeGreaterThanOrEqual(4.5);
      }
      expect(c('--legend-text', '--chart-bg'), 'chart legends').toBeGreaterThanOrEqual(4.5);
      expect(c('--chart-axis', '--chart-bg'), 'chart axes').toBeGreaterThanOrEqual(4.5);
      // port types are text on the node, and the colours of edges on the canvas (3:1, WCAG non-text)
      for (const k of ['tensor', 'dist', 'fn', 'bijector', 'schedule', 'loss']) {
        expect(c(`--port-${k}`, '--node-bg'), `${k} port type on a node`).toBeGreaterThanOrEqual(4.5);
        expect(c(`--port-${k}`, '--canvas-bg'), `${k} edge on the canvas`).toBeGreaterThanOrEqual(3);
      }
      for (let i = 0; i < 8; i++) expect(c(`--term-${i}`, '--chart-bg'), `loss term colour ${i}`).toBeGreaterThanOrEqual(3);
      expect(c('--error', '--node-bg'), 'errors').toBeGreaterThanOrEqual(3);
      expect(c('--edge-default', '--canvas-bg'), 'plain edges').toBeGreaterThanOrEqual(3);
    });
  }
});

describe('equations on: the view shifts nodes that would be covered', () => {
  it('pushes a node down below the taller node above it in its column, and leaves other columns alone', () => {
    const off = equationOffsets([
      { id: 'a', x: 0, y: 0, width: 232, height: 300 },
      { id: 'b', x: 0, y: 200, width: 232, height: 100 },
      { id: 'c', x: 0, y: 320, width: 232, height: 100 },
      { id: 'side', x: 260, y: 100, width: 232, height: 100 },
      { id: 'level', x: 100, y: 0, width: 232, height: 100 },
    ]);
    expect(off.get('b')).toBe(300 + EQUATION_GAP - 200);
    // c clears b where b is now shown
    expect(off.get('c')).toBe(300 + EQUATION_GAP + 100 + EQUATION_GAP - 320);
    // side shares columns with `level` (x 100..332) and is below its bottom? no: 100 < 0 + 100 + gap
    expect(off.get('side')).toBe(100 + EQUATION_GAP - 100);
    expect(off.has('a')).toBe(false);
    expect(off.has('level')).toBe(false);
  });
  it('changes nothing where nodes do not overlap', () => {
    expect(equationOffsets([
      { id: 'a', x: 0, y: 0, width: 232, height: 100 },
      { id: 'b', x: 0, y: 200, width: 232, height: 100 },
    ]).size).toBe(0);
  });
});
