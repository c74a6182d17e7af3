/** The canvas's derivation of React Flow nodes and edges from the document (canvas/flowElements.ts). */
import { describe, expect, it } from 'vitest';
import type { GraphDocument } from '../../src-main/document/schema';
import { readTemplate } from '../../src-main/document/templates';
import { deriveEdges, deriveFrames, deriveNodes, frameMemberMoves, measureKey, readNodeChanges, type Measured } from '../components/canvas/flowElements';
import { checkHandles, orient, type HandleEnd } from '../components/canvas/useConnectionRules';
import { structureOf } from '../model/store';
import { nodeChecks, validateDoc } from '../model/validation';

const template = (name: string): GraphDocument => readTemplate(name) as GraphDocument;

function grouped(): GraphDocument {
  const doc = template('vae-moons');
  for (const n of doc.nodes) if (n.id === 'encoder' || n.id === 'decoder') n.ui = { ...n.ui!, group: 'networks' };
  return doc;
}

describe('canvas: flow elements from the document', () => {
  it('draws a frame around each group, from measured sizes (or a default)', () => {
    const doc = grouped();
    const measured: Measured = new Map([[measureKey('encoder', 'encoder.gaussian'), { width: 200, height: 100 }]]);
    const frames = deriveFrames(doc.nodes, ['frame:networks'], measured);
    expect([...frames.keys()]).toEqual(['frame:networks']);
    const f = frames.get('frame:networks')!;
    // encoder at (320, 200) 200 x 100; decoder at (580, 200) with the default 250 x 120
    expect(f.position).toEqual({ x: 320 - 24, y: 200 - 24 - 22 });
    expect([f.width, f.height]).toEqual([580 + 250 - 320 + 48, 120 + 48 + 22]);
    expect(f.selected).toBe(true);
    expect(f.data).toEqual({ label: 'networks', count: 2 });
  });

  it('reuses unchanged nodes, and keeps `data` of a node that only moved', () => {
    const doc = template('vae-moons');
    const checks = nodeChecks(validateDoc(doc));
    const first = deriveNodes(doc.nodes, checks, [], new Map(), new Map(), new Map());
    expect(first.nodes.map((n) => n.id)).toEqual(doc.nodes.map((n) => n.id));
    const again = deriveNodes(doc.nodes, checks, [], new Map(), new Map(), first.cache);
    expect(again.nodes.every((n, i) => n === first.nodes[i])).toBe(true);

    const moved = doc.nodes.map((n) => (n.id === 'data' ? { ...n, ui: { x: 1, y: 2 } } : n));
    const third = deriveNodes(moved, checks, ['elbo'], new Map(), new Map(), again.cache);
    const data = third.nodes.find((n) => n.id === 'data')!;
    const before = first.nodes.find((n) => n.id === 'data')!;
    expect(data).not.toBe(before);
    expect(data.position).toEqual({ x: 1, y: 2 });
    expect((data.data as { node: unknown }).node).toBe(moved[0]);
    expect(third.nodes.find((n) => n.id === 'elbo')!.selected).toBe(true);
    expect(third.nodes.find((n) => n.id === 'encoder')).toBe(first.nodes.find((n) => n.id === 'encoder'));
  });

  it('colours edges by port kind and marks the edges into a wrong input', () => {
    const doc = template('vae-moons');
    const first = deriveEdges(structureOf(doc), [], [], new Map());
    expect(first.edges).toHaveLength(doc.edges.length);
    expect(first.edges[0]).toMatchObject({ source: 'data', sourceHandle: 'x', target: 'encoder', targetHandle: 'x', className: 'edge-Tensor' });
    const bad = deriveEdges(structureOf(doc), [first.edges[0]!.id], [{ code: 'shape-mismatch', severity: 'error', message: 'no', nodeId: 'encoder', port: 'x' }] as never, first.cache);
    expect(bad.edges[0]!.className).toBe('edge-Tensor edge-bad');
    expect(bad.edges[0]!.selected).toBe(true);
    expect(bad.edges[1]).toBe(first.edges[1]);
  });

  it('reads node changes: moves, selection, sizes; a moved frame moves its members', () => {
    const doc = grouped();
    const measured: Measured = new Map();
    const r = readNodeChanges(
      [
        { type: 'position', id: 'frame:networks', position: { x: 300, y: 160 }, dragging: true },
        { type: 'select', id: 'prior', selected: true },
        { type: 'dimensions', id: 'encoder', dimensions: { width: 210, height: 90 } },
      ],
      ['data'],
      doc.nodes,
      measured,
    );
    expect(r.dragging).toBe(true);
    expect([...r.selection!]).toEqual(['data', 'prior']);
    expect(r.resized).toBe(true);
    expect(measured.get(measureKey('encoder', 'encoder.gaussian'))).toEqual({ width: 210, height: 90 });
    const frames = deriveFrames(doc.nodes, [], new Map());
    const f = frames.get('frame:networks')!;
    const members = frameMemberMoves(r.moves, frames, doc.nodes);
    const dx = 300 - f.position.x;
    const dy = 160 - f.position.y;
    expect(members).toEqual(new Map([['encoder', { x: 320 + dx, y: 200 + dy }], ['decoder', { x: 580 + dx, y: 200 + dy }]]));
  });

  it('orients a dragged connection and refuses output-to-output', () => {
    const doc = template('vae-moons');
    const src: HandleEnd = { nodeId: 'data', id: 'x', type: 'source' };
    const dst: HandleEnd = { nodeId: 'encoder', id: 'x', type: 'target' };
    expect(orient(dst, src)).toEqual([src, dst]);
    expect(orient(src, { ...src, nodeId: 'encoder' })).toBeNull();
    expect(checkHandles(doc, src, { ...src, nodeId: 'encoder', id: 'z' })).toEqual({ ok: false, reason: 'connect an output (right side) to an input (left side)' });
    expect(checkHandles(doc, dst, src).ok).toBe(true);
  });
});
