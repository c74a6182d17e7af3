/**
 * The lecture preferences: equations on the canvas, presentation mode and the colour theme.
 * Plain TypeScript: what is kept across reloads (and how a stored value is read back), which
 * theme applies, which key toggles what, and the contrast of two colours (WCAG 2).
 */

export type ThemePref = 'system' | 'light' | 'dark';
export type Theme = 'light' | 'dark';

/** the preferences kept across reloads (presentation mode is left on reload: Esc or P leaves it) */
export interface Prefs {
  /** each node shows its equation on the canvas and in the compare view */
  equations: boolean;
  theme: ThemePref;
}

export const DEFAULT_PREFS: Prefs = { equations: false, theme: 'system' };

export const PREFS_KEY = 'genloom.prefs.v1';

const THEMES: readonly ThemePref[] = ['system', 'light', 'dark'];

/** a stored value read back: anything unknown or malformed takes its default */
export function parsePrefs(raw: unknown): Prefs {
  const o = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  return {
    equations: typeof o.equations === 'boolean' ? o.equations : DEFAULT_PREFS.equations,
    theme: THEMES.includes(o.theme as ThemePref) ? (o.theme as ThemePref) : DEFAULT_PREFS.theme,
  };
}

/** a stored string (localStorage) read back */
export function readPrefs(text: string | null | undefined): Prefs {
  if (!text) return { ...DEFAULT_PREFS };
  try {
    return parsePrefs(JSON.parse(text));
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

export function prefsOf(s: Prefs): Prefs {
  return { equations: s.equations, theme: s.theme };
}

export const samePrefs = (a: Prefs, b: Prefs): boolean => a.equations === b.equations && a.theme === b.theme;

/** the theme shown: the user's choice, or the system's preference */
export function resolveTheme(pref: ThemePref, systemDark: boolean): Theme {
  return pref === 'system' ? (systemDark ? 'dark' : 'light') : pref;
}

/** the toolbar's theme button cycles system -> light -> dark -> system */
export function nextTheme(pref: ThemePref): ThemePref {
  return THEMES[(THEMES.indexOf(pref) + 1) % THEMES.length]!;
}

export const THEME_LABEL: Record<ThemePref, string> = { system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' };

export type LectureAction = 'toggle-equations' | 'toggle-presentation' | 'leave-presentation';

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

/**
 * The lecture shortcuts: E (equations), P (presentation), Esc (leaves presentation). The
 * caller does not ask while the user types into a field.
 */
export function lectureAction(e: KeyLike, presentation: boolean): LectureAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  const k = e.key.toLowerCase();
  if (k === 'e') return 'toggle-equations';
  if (k === 'p') return 'toggle-presentation';
  if (e.key === 'Escape' && presentation) return 'leave-presentation';
  return null;
}

// ---------------------------------------------------------------- contrast

export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

/** '#rgb', '#rrggbb', '#rrggbbaa', 'rgb(r, g, b)', 'rgba(r, g, b, a)', 'rgb(r g b / a)' or 'color(srgb r g b)' (0..1) */
export function parseColor(text: string): Rgba | null {
  const t = text.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/.exec(t);
  if (hex) {
    let h = hex[1]!;
    if (h.length === 3) h = [...h].map((c) => c + c).join('');
    return { r: parseInt(h.slice(0, 2), 16), g: parseInt(h.slice(2, 4), 16), b: parseInt(h.slice(4, 6), 16), a: h.length === 8 ? parseInt(h.slice(6, 8), 16) / 255 : 1 };
  }
  const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/.exec(t);
  if (fn) {
    const a = fn[4] === undefined ? 1 : fn[4].endsWith('%') ? parseFloat(fn[4]) / 100 : parseFloat(fn[4]);
    return { r: +fn[1]!, g: +fn[2]!, b: +fn[3]!, a };
  }
  // what Chromium gives for a resolved color-mix(in srgb, ...)
  const srgb = /^color\(srgb\s+([\d.e-]+)\s+([\d.e-]+)\s+([\d.e-]+)(?:\s*\/\s*([\d.]+%?))?\s*\)$/.exec(t);
  if (srgb) {
    const a = srgb[4] === undefined ? 1 : srgb[4].endsWith('%') ? parseFloat(srgb[4]) / 100 : parseFloat(srgb[4]);
    return { r: +srgb[1]! * 255, g: +srgb[2]! * 255, b: +srgb[3]! * 255, a };
  }
  return null;
}

/** `a` mixed with `b` in sRGB, `p` of `a` (CSS color-mix(in srgb, a p, b)) */
export function mix(a: Rgba, b: Rgba, p: number): Rgba {
  return { r: a.r * p + b.r * (1 - p), g: a.g * p + b.g * (1 - p), b: a.b * p + b.b * (1 - p), a: a.a * p + b.a * (1 - p) };
}

/** `top` painted over an opaque `bottom` */
export function over(top: Rgba, bottom: Rgba): Rgba {
  const a = top.a;
  return { r: top.r * a + bottom.r * (1 - a), g: top.g * a + bottom.g * (1 - a), b: top.b * a + bottom.b * (1 - a), a: 1 };
}

export function luminance(c: Rgba): number {
  const ch = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
}

/** the WCAG 2 contrast ratio (1 to 21) of a colour over an opaque background */
export function contrast(fg: Rgba | string, bg: Rgba | string): number {
  const b = typeof bg === 'string' ? parseColor(bg) : bg;
  const f0 = typeof fg === 'string' ? parseColor(fg) : fg;
  if (!b || !f0) return NaN;
  const f = over(f0, { ...b, a: 1 });
  const [l1, l2] = [luminance(f), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (l1 + 0.05) / (l2 + 0.05);
}
