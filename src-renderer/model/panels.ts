/**
 * The side panels and the dock: their sizes (dragged by a handle, or arrow keys on it) and
 * whether the palette and inspector are collapsed. Plain TypeScript; kept across reloads in
 * the preferences store (`panels` beside the lecture preferences).
 */

export type PanelId = 'palette' | 'inspector' | 'dock';

export interface PanelLayout {
  paletteWidth: number;
  inspectorWidth: number;
  dockHeight: number;
  paletteOpen: boolean;
  inspectorOpen: boolean;
}

/** sensible limits in px: a panel stays usable and the canvas keeps room */
export const PANEL_LIMITS: Record<PanelId, { min: number; max: number; initial: number }> = {
  palette: { min: 160, max: 480, initial: 228 },
  inspector: { min: 260, max: 640, initial: 340 },
  dock: { min: 140, max: 640, initial: 310 },
};

/** no panel takes more than this share of the window's width (side panels) or height (dock) */
export const MAX_SHARE = 0.6;

export const DEFAULT_PANELS: PanelLayout = {
  paletteWidth: PANEL_LIMITS.palette.initial,
  inspectorWidth: PANEL_LIMITS.inspector.initial,
  dockHeight: PANEL_LIMITS.dock.initial,
  paletteOpen: true,
  inspectorOpen: true,
};

const SIZE_KEY = { palette: 'paletteWidth', inspector: 'inspectorWidth', dock: 'dockHeight' } as const;

/** a size within the panel's limits (and, given the window's extent, within MAX_SHARE of it) */
export function clampPanel(id: PanelId, px: number, room?: number): number {
  const { min, max } = PANEL_LIMITS[id];
  const cap = room && room > 0 ? Math.max(min, Math.min(max, Math.floor(room * MAX_SHARE))) : max;
  if (!Number.isFinite(px)) return PANEL_LIMITS[id].initial;
  return Math.round(Math.min(cap, Math.max(min, px)));
}

export const panelSize = (l: PanelLayout, id: PanelId): number => l[SIZE_KEY[id]];

/** which way a handle's drag grows its panel: the palette grows rightwards, the inspector leftwards, the dock upwards */
export const GROWS: Record<PanelId, { axis: 'x' | 'y'; sign: 1 | -1 }> = {
  palette: { axis: 'x', sign: 1 },
  inspector: { axis: 'x', sign: -1 },
  dock: { axis: 'y', sign: -1 },
};

/** the layout after a handle drag of (dx, dy) from a panel size `start` */
export function resizePanel(l: PanelLayout, id: PanelId, start: number, delta: { dx: number; dy: number }, room?: number): PanelLayout {
  const g = GROWS[id];
  const d = g.axis === 'x' ? delta.dx : delta.dy;
  return { ...l, [SIZE_KEY[id]]: clampPanel(id, start + g.sign * d, room) };
}

/** the step an arrow key on a handle resizes by (Shift: larger), or null for other keys */
export function keyResizeDelta(id: PanelId, key: string, shift = false): { dx: number; dy: number } | null {
  const step = shift ? 64 : 16;
  const g = GROWS[id];
  if (g.axis === 'x' && (key === 'ArrowLeft' || key === 'ArrowRight')) return { dx: key === 'ArrowRight' ? step : -step, dy: 0 };
  if (g.axis === 'y' && (key === 'ArrowUp' || key === 'ArrowDown')) return { dx: 0, dy: key === 'ArrowDown' ? step : -step };
  return null;
}

export function togglePanel(l: PanelLayout, id: 'palette' | 'inspector'): PanelLayout {
  return id === 'palette' ? { ...l, paletteOpen: !l.paletteOpen } : { ...l, inspectorOpen: !l.inspectorOpen };
}

/** a stored value read back: sizes clamped, anything malformed takes its default */
export function parsePanels(raw: unknown): PanelLayout {
  const o = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const size = (id: PanelId) => {
    const v = o[SIZE_KEY[id]];
    return typeof v === 'number' && Number.isFinite(v) ? clampPanel(id, v) : PANEL_LIMITS[id].initial;
  };
  const flag = (k: 'paletteOpen' | 'inspectorOpen') => (typeof o[k] === 'boolean' ? (o[k] as boolean) : true);
  return { paletteWidth: size('palette'), inspectorWidth: size('inspector'), dockHeight: size('dock'), paletteOpen: flag('paletteOpen'), inspectorOpen: flag('inspectorOpen') };
}

/** the panels as stored beside the preferences: read from the stored JSON text */
export function readPanels(text: string | null | undefined): PanelLayout {
  if (!text) return { ...DEFAULT_PANELS };
  try {
    const o = JSON.parse(text) as unknown;
    return parsePanels(o && typeof o === 'object' ? (o as { panels?: unknown }).panels : undefined);
  } catch {
    return { ...DEFAULT_PANELS };
  }
}

export const samePanels = (a: PanelLayout, b: PanelLayout): boolean =>
  a.paletteWidth === b.paletteWidth && a.inspectorWidth === b.inspectorWidth && a.dockHeight === b.dockHeight && a.paletteOpen === b.paletteOpen && a.inspectorOpen === b.inspectorOpen;

/** the width a collapsed side panel keeps (its expand button) */
export const COLLAPSED_WIDTH = 28;
