/**
 * Equations on the nodes make them taller; the document's positions were laid out for the
 * nodes without them. The canvas shows nodes shifted down (the view only, never the saved
 * layout) so that a node that grew does not cover the one below it.
 */

export interface NodeBox {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export const EQUATION_GAP = 20;

/**
 * How far down to show each node: going down the canvas, a node clears every node above it
 * that shares some of its columns (x ranges overlap) by `gap`. Nodes that need no shift are
 * left out of the map.
 */
export function equationOffsets(boxes: readonly NodeBox[], gap = EQUATION_GAP): Map<string, number> {
  const order = [...boxes].sort((a, b) => a.y - b.y || a.x - b.x);
  const shift = new Map<string, number>();
  const placed: { box: NodeBox; top: number }[] = [];
  for (const b of order) {
    let top = b.y;
    for (const p of placed) {
      const sharesColumn = p.box.x < b.x + b.width && b.x < p.box.x + p.box.width;
      // only a node that starts below the other's top is pushed (side by side stays side by side)
      if (!sharesColumn || p.box.y >= b.y) continue;
      top = Math.max(top, p.top + p.box.height + gap);
    }
    if (top > b.y) shift.set(b.id, top - b.y);
    placed.push({ box: b, top });
  }
  return shift;
}
