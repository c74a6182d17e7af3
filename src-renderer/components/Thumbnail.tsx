/** A small SVG of a graph's structure: boxes at the nodes' ui positions, lines for edges. */
import { memo } from 'react';
import type { GraphDocument } from '../../src-main/document/schema';
import { familyColour, ROLE_COLOR, specOf } from '../model/registry';

const W = 230;
function height(type: string): number {
  const s = specOf(type);
  if (!s) return 80;
  return 48 + Math.max(Object.keys(s.inputs).length, Object.keys(s.outputs).length, 1) * 24;
}

export const Thumbnail = memo(function Thumbnail({ doc, colorBy = 'family' }: { doc: GraphDocument; colorBy?: 'family' | 'role' }) {
  const boxes = new Map(doc.nodes.map((n, i) => [n.id, { x: n.ui?.x ?? (i % 5) * 280, y: n.ui?.y ?? Math.floor(i / 5) * 200, h: height(n.type), type: n.type }]));
  if (!boxes.size) return <svg className="thumb" viewBox="0 0 100 60" />;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const b of boxes.values()) {
    x0 = Math.min(x0, b.x);
    y0 = Math.min(y0, b.y);
    x1 = Math.max(x1, b.x + W);
    y1 = Math.max(y1, b.y + b.h);
  }
  const pad = 40;
  return (
    <svg className="thumb" viewBox={`${x0 - pad} ${y0 - pad} ${x1 - x0 + 2 * pad} ${y1 - y0 + 2 * pad}`} preserveAspectRatio="xMidYMid meet" aria-hidden>
      {doc.edges.map((e, i) => {
        const a = boxes.get(e.from[0]);
        const b = boxes.get(e.to[0]);
        if (!a || !b) return null;
        const sx = a.x + W, sy = a.y + a.h / 2, tx = b.x, ty = b.y + b.h / 2;
        const dx = Math.max(40, Math.abs(tx - sx) / 2);
        return <path key={i} d={`M${sx},${sy} C${sx + dx},${sy} ${tx - dx},${ty} ${tx},${ty}`} stroke="#8793ab" strokeOpacity={0.7} strokeWidth={6} fill="none" />;
      })}
      {[...boxes.entries()].map(([id, b]) => {
        const s = specOf(b.type);
        const c = s ? (colorBy === 'role' ? ROLE_COLOR[s.role] : familyColour(s)) : '#777';
        return (
          <g key={id}>
            <rect x={b.x} y={b.y} width={W} height={b.h} rx={16} style={{ fill: 'var(--panel2)' }} stroke={c} strokeWidth={6} />
            <rect x={b.x} y={b.y} width={W} height={34} rx={14} fill={c} fillOpacity={0.85} />
          </g>
        );
      })}
    </svg>
  );
});
