/** The designer features' model (issue 12, "For designers"): panel sizes, wires dropped on the canvas, the context menu, suggested fixes. */
import { describe, expect, it } from 'vitest';
import type { GraphDocument } from '../../src-main/document/schema';
import { readTemplate } from '../../src-main/document/templates';
import { deleteEdges, deleteNodes, disconnectAll, duplicateNodes } from '../model/actions';
import { firstEnabled, isTyping, menuItems, moveActive } from '../model/contextMenu';
import { applyFix, fixSentence, mismatchSizes, suggestFixes } from '../model/fixes';
import { clampPanel, DEFAULT_PANELS, keyResizeDelta, PANEL_LIMITS, parsePanels, readPanels, resizePanel, samePanels, togglePanel } from '../model/panels';
import { readPrefs } from '../model/prefs';
import { specOf } from '../model/registry';
import { EditorStore, edgeId } from '../model/store';
import { validateDoc } from '../model/validation';
import { addNodeOnWire, compatiblePorts, searchForWire } from '../model/wire';

const template = (name: string): GraphDocument => structuredClone(readTemplate(name)) as GraphDocument;
const withParam = (g: GraphDocument, id: string, p: string, v: unknown) => {
  (g.nodes.find((n) => n.id === id)!.params as Record<string, unknown>)[p] = v;
  return g;
};

describe('panels: sizes clamped, kept beside the preferences', () => {
  it('clamps to the limits and to a share of the window', () => {
    expect(clampPanel('palette', 10)).toBe(PANEL_LIMITS.palette.min);
    expect(clampPanel('palette', 5000)).toBe(PANEL_LIMITS.palette.max);
    expect(clampPanel('inspector', 400.4)).toBe(400);
    expect(clampPanel('dock', 600, 700)).toBe(420); // 60% of a 700 px window
    expect(clampPanel('dock', NaN)).toBe(PANEL_LIMITS.dock.initial);
  });
  it('a handle drag grows the palette rightwards, the inspector leftwards, the dock upwards', () => {
    expect(resizePanel(DEFAULT_PANELS, 'palette', 228, { dx: 50, dy: 0 }).paletteWidth).toBe(278);
    expect(resizePanel(DEFAULT_PANELS, 'inspector', 340, { dx: 50, dy: 0 }).inspectorWidth).toBe(290);
    expect(resizePanel(DEFAULT_PANELS, 'dock', 310, { dx: 0, dy: -90 }).dockHeight).toBe(400);
    expect(resizePanel(DEFAULT_PANELS, 'dock', 310, { dx: 0, dy: 900 }).dockHeight).toBe(PANEL_LIMITS.dock.min);
    expect(keyResizeDelta('palette', 'ArrowRight')).toEqual({ dx: 16, dy: 0 });
    expect(keyResizeDelta('dock', 'ArrowUp', true)).toEqual({ dx: 0, dy: -64 });
    expect(keyResizeDelta('dock', 'ArrowLeft')).toBeNull();
  });
  it('reads back what was stored (clamped), defaults for the rest; the lecture preferences still read', () => {
    const text = JSON.stringify({ equations: true, theme: 'light', panels: { paletteWidth: 300, inspectorWidth: 9999, dockHeight: 'x', paletteOpen: false } });
    expect(readPanels(text)).toEqual({ paletteWidth: 300, inspectorWidth: PANEL_LIMITS.inspector.max, dockHeight: PANEL_LIMITS.dock.initial, paletteOpen: false, inspectorOpen: true });
    expect(readPrefs(text)).toEqual({ equations: true, theme: 'light' });
    expect(readPanels(null)).toEqual(DEFAULT_PANELS);
    expect(readPanels('{bad')).toEqual(DEFAULT_PANELS);
    expect(parsePanels(3)).toEqual(DEFAULT_PANELS);
    expect(samePanels(togglePanel(DEFAULT_PANELS, 'inspector'), DEFAULT_PANELS)).toBe(false);
    expect(togglePanel(togglePanel(DEFAULT_PANELS, 'palette'), 'palette')).toEqual(DEFAULT_PANELS);
  });
});

describe('a wire dropped on empty canvas', () => {
  it('offers only node types with a port of the same kind on the other side', () => {
    const doc = template('vae-moons');
    const fromZ = searchForWire(doc, { nodeId: 'encoder', port: 'q', side: 'source' }, '');
    expect(fromZ.length).toBeGreaterThan(0);
    const dragged = specOf('encoder.gaussian')!.outputs.q!;
    for (const s of fromZ) expect(compatiblePorts(s, dragged, 'source').length, s.type).toBeGreaterThan(0);
    for (const s of fromZ) expect(Object.values(s.inputs).some((p) => p.type.kind === dragged.type.kind), s.type).toBe(true);
    // a dragged input wants outputs: the dataset feeds data.x-like inputs
    const intoX = searchForWire(doc, { nodeId: 'encoder', port: 'x', side: 'target' }, '');
    expect(intoX.map((s) => s.type)).toContain('data.dataset');
    expect(intoX.every((s) => Object.values(s.outputs).some((p) => p.type.kind === 'Tensor'))).toBe(true);
    expect(searchForWire(doc, undefined, '').length).toBeGreaterThan(intoX.length);
  });
  it('adds the node and connects the wire in one undo step', () => {
    const s = new EditorStore(template('vae-moons'));
    const r = addNodeOnWire(s, 'network.mlp', { x: 500, y: 500 }, { nodeId: 'data', port: 'x', side: 'source' });
    expect(r).toMatchObject({ id: 'mlp', port: 'x' });
    expect(s.getState().doc.edges.some((e) => e.from[0] === 'data' && e.to[0] === 'mlp')).toBe(true);
    expect(s.getState().past).toHaveLength(1);
    s.undo();
    expect(s.getState().doc.nodes.some((n) => n.id === 'mlp')).toBe(false);
  });
});

describe('the context menu', () => {
  it('offers the node, edge and canvas items; paste only when something is copied', () => {
    expect(menuItems({ kind: 'node', id: 'a' }, { hasClip: false }).map((i) => i.action)).toEqual(['duplicate', 'delete-node', 'disconnect', 'show-equation']);
    expect(menuItems({ kind: 'edge', id: 'e' }, { hasClip: false }).map((i) => i.action)).toEqual(['delete-edge']);
    expect(menuItems({ kind: 'pane' }, { hasClip: false }).map((i) => i.action)).toEqual(['add-node', 'fit-view']);
    expect(menuItems({ kind: 'pane' }, { hasClip: true }).map((i) => i.action)).toContain('paste');
  });
  it('arrows move through the enabled items, wrapping', () => {
    const items = menuItems({ kind: 'node', id: 'a' }, { hasClip: false, edgeCount: 0 });
    expect(firstEnabled(items)).toBe(0);
    expect(moveActive(items, 1, 'ArrowDown')).toBe(3); // disconnect all is disabled
    expect(moveActive(items, 3, 'ArrowDown')).toBe(0);
    expect(moveActive(items, 0, 'ArrowUp')).toBe(3);
    expect(moveActive(items, 2, 'End')).toBe(3);
    expect(moveActive(items, 2, 'x')).toBeNull();
    expect(isTyping({ tagName: 'INPUT' } as unknown as EventTarget)).toBe(true);
    expect(isTyping({ tagName: 'DIV' } as unknown as EventTarget)).toBe(false);
  });
  it('duplicate, delete, disconnect all and delete edge: each one undo step', () => {
    const s = new EditorStore(template('vae-moons'));
    const edges = s.getState().doc.edges.length;
    expect(duplicateNodes(s, ['encoder'])).toEqual(['encoder2']);
    expect(s.getState().doc.nodes.find((n) => n.id === 'encoder2')!.params).toEqual(s.getState().doc.nodes.find((n) => n.id === 'encoder')!.params);
    const touching = s.getState().doc.edges.filter((e) => e.from[0] === 'encoder' || e.to[0] === 'encoder').length;
    expect(disconnectAll(s, 'encoder')).toBe(touching);
    expect(s.getState().doc.edges).toHaveLength(edges - touching);
    s.undo();
    expect(s.getState().doc.edges).toHaveLength(edges);
    const e = edgeId(s.getState().doc.edges[0]!);
    expect(deleteEdges(s, [e])).toBe(1);
    expect(deleteNodes(s, ['decoder'])).toBe(1);
    expect(s.getState().doc.edges.some((x) => x.from[0] === 'decoder' || x.to[0] === 'decoder')).toBe(false);
    expect(s.getState().past).toHaveLength(3); // duplicate, delete edge, delete node (the disconnect was undone)
  });
});

describe('diagnostics that suggest the fix', () => {
  it('reads the two sizes of a shape mismatch', () => {
    expect(mismatchSizes('shape mismatch on "prior": got [B, 3], expected [B, 2] (...)')).toEqual([3, 2]);
    expect(mismatchSizes('the likelihood is over [B, 3] but x is [B, 2]')).toEqual([3, 2]);
    expect(mismatchSizes('got [B, 3, 4], expected [B, 2, 5]')).toBeNull();
    expect(mismatchSizes('no shapes')).toBeNull();
  });
  it("a VAE's latent mismatch: set the prior's dim, or the encoder's latentDim", () => {
    const doc = withParam(template('vae-moons'), 'prior', 'dim', 3);
    const d = validateDoc(doc).diagnostics.find((x) => x.code === 'shape-mismatch')!;
    const fixes = suggestFixes(doc, d);
    expect(fixes.map((f) => [f.nodeId, f.param, f.to])).toEqual(
      expect.arrayContaining([
        ['prior', 'dim', 2],
        ['encoder', 'latentDim', 3],
      ]),
    );
    expect(fixSentence(fixes)).toMatch(/^set .* to \d, or .* to \d$/);
    const s = new EditorStore(doc);
    applyFix(s, fixes.find((f) => f.nodeId === 'prior')!);
    expect(validateDoc(s.getState().doc).diagnostics.filter((x) => x.severity === 'error')).toEqual([]);
    expect(s.getState().past).toHaveLength(1);
  });
  it("a decoder's data size against the dataset, and a flow's base against its couplings", () => {
    const vae = withParam(template('vae-moons'), 'decoder', 'dataDim', 3);
    const d = validateDoc(vae).diagnostics.find((x) => x.code === 'shape-mismatch')!;
    expect(suggestFixes(vae, d).map((f) => [f.nodeId, f.param, f.to])).toEqual([['decoder', 'dataDim', 2]]);
    const flow = withParam(template('realnvp-moons'), 'base', 'dim', 3);
    const f = validateDoc(flow).diagnostics.find((x) => x.code === 'shape-mismatch')!;
    expect(suggestFixes(flow, f).map((x) => [x.nodeId, x.param, x.to])).toEqual([['base', 'dim', 2]]);
  });
  it('no suggestion where no single param fixes it, or for other codes', () => {
    const doc = template('vae-moons');
    expect(suggestFixes(doc, { code: 'missing-input', severity: 'error', nodeId: 'elbo', port: 'x', message: 'x is not connected' })).toEqual([]);
    expect(suggestFixes(doc, { code: 'shape-mismatch', severity: 'error', nodeId: 'elbo', port: 'prior', message: 'got [B, 7], expected [B, 9]' })).toEqual([]);
  });
});
