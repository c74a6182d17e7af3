/** Node palette grouped by family, with search; drag an entry onto the canvas (or click it). */
import { useMemo, useState } from 'react';
import { addNode } from '../model/actions';
import { familyColour, PORT_COLOR, searchSpecs, specsByFamily, type AnyNodeSpec } from '../model/registry';
import { useStore } from '../model/ui';
import { studio } from '../studio';
import { CollapseButton, PanelHandle } from './PanelHandle';
import { canvas, NODE_MIME } from './Canvas';

function PortDots({ spec }: { spec: AnyNodeSpec }) {
  return (
    <span className="pal-dots">
      {Object.values(spec.inputs).map((p, i) => (
        <i key={`i${i}`} style={{ background: PORT_COLOR[p.type.kind] }} />
      ))}
      <span className="pal-arrow">›</span>
      {Object.values(spec.outputs).map((p, i) => (
        <i key={`o${i}`} style={{ background: PORT_COLOR[p.type.kind] }} />
      ))}
    </span>
  );
}

export function PaletteItem({ spec }: { spec: AnyNodeSpec }) {
  return (
    <div
      className="pal-item"
      draggable
      data-type={spec.type}
      title={`${spec.type}\n\n${spec.math.explain}\n\nDrag onto the canvas, or click to add.`}
      onDragStart={(e) => {
        e.dataTransfer.setData(NODE_MIME, spec.type);
        e.dataTransfer.setData('text/plain', spec.type);
        e.dataTransfer.effectAllowed = 'copy';
      }}
      onClick={() => {
        const c = canvas.center();
        addNode(studio().editor, spec.type, { x: c.x - 120 + Math.random() * 40, y: c.y - 60 + Math.random() * 40 });
      }}
      style={{ ['--fam' as string]: familyColour(spec) }}
    >
      <span className="pal-title">{spec.title}</span>
      <PortDots spec={spec} />
    </div>
  );
}

export function Palette() {
  const open = useStore(studio().ui, (s) => s.panels.paletteOpen);
  if (!open)
    return (
      <aside className="palette panel-collapsed" aria-label="Node palette (collapsed)">
        <CollapseButton id="palette" label="palette" />
        <span className="panel-collapsed-label">Nodes</span>
      </aside>
    );
  return <PaletteOpen />;
}

function PaletteOpen() {
  const [q, setQ] = useState('');
  const groups = useMemo(() => {
    if (!q.trim()) return specsByFamily();
    const hits = searchSpecs(q);
    return hits.length ? [{ family: null, specs: hits }] : [];
  }, [q]);
  return (
    <aside className="palette" aria-label="Node palette">
      <div className="panel-title">
        Nodes
        <CollapseButton id="palette" label="palette" />
      </div>
      <PanelHandle id="palette" label="palette" />
      <input className="search" placeholder="Search nodes…" value={q} onChange={(e) => setQ(e.target.value)} aria-label="Search nodes" />
      <div className="pal-scroll">
        {groups.length === 0 ? <div className="muted pad">No node matches “{q}”.</div> : null}
        {groups.map((g) => (
          <div key={g.family?.id ?? 'hits'} className="pal-group">
            {g.family ? (
              <div className="pal-family" style={{ ['--fam' as string]: g.family.colour }}>
                <span className="fam-dot" style={{ background: g.family.colour }} />
                {g.family.label}
              </div>
            ) : null}
            {g.specs.map((s) => (
              <PaletteItem key={s.type} spec={s} />
            ))}
          </div>
        ))}
      </div>
      <div className="pal-legend">
        {Object.entries(PORT_COLOR).map(([k, c]) => (
          <span key={k}>
            <i style={{ background: c }} />
            {k}
          </span>
        ))}
      </div>
    </aside>
  );
}
