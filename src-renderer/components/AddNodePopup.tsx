/** Search-to-add popup, opened by a double-click on the empty canvas at that point. */
import { useEffect, useMemo, useRef, useState } from 'react';
import { addNode } from '../model/actions';
import { familyColour, familyLabel, searchSpecs } from '../model/registry';
import { useStore } from '../model/ui';
import { studio } from '../studio';

export function AddNodePopup() {
  const { ui, editor } = studio();
  const popup = useStore(ui, (s) => s.addPopup);
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  const list = useRef<HTMLDivElement>(null);
  const hits = useMemo(() => searchSpecs(q).slice(0, 12), [q]);
  useEffect(() => {
    setQ('');
    setActive(0);
  }, [popup]);
  useEffect(() => setActive(0), [q]);
  useEffect(() => {
    list.current?.querySelector('.active')?.scrollIntoView({ block: 'nearest' });
  }, [active]);
  if (!popup) return null;
  const close = () => ui.set({ addPopup: null });
  const choose = (type: string) => {
    addNode(editor, type, { x: popup.flow.x - 20, y: popup.flow.y - 20 });
    close();
  };
  const left = Math.min(popup.x, window.innerWidth - 340);
  const top = Math.min(popup.y, window.innerHeight - 380);
  return (
    <div className="add-popup" style={{ left, top }} data-testid="add-popup" onMouseDown={(e) => e.stopPropagation()}>
      <input
        autoFocus
        className="search"
        placeholder="Add a node: type to search…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onBlur={() => setTimeout(() => studio().ui.getState().addPopup === popup && close(), 150)}
        onKeyDown={(e) => {
          e.stopPropagation();
          if (e.key === 'Escape') close();
          else if (e.key === 'ArrowDown') setActive((a) => Math.min(hits.length - 1, a + 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(0, a - 1));
          else if (e.key === 'Enter' && hits[active]) choose(hits[active]!.type);
          else return;
          e.preventDefault();
        }}
      />
      <div className="add-list" ref={list}>
        {hits.map((s, i) => (
          <div
            key={s.type}
            className={`add-item${i === active ? ' active' : ''}`}
            onMouseEnter={() => setActive(i)}
            onMouseDown={(e) => {
              e.preventDefault();
              choose(s.type);
            }}
          >
            <span className="fam-dot" style={{ background: familyColour(s) }} />
            <span className="add-title">{s.title}</span>
            <span className="add-fam">{familyLabel(s)}</span>
          </div>
        ))}
        {!hits.length ? <div className="muted pad">No node matches “{q}”.</div> : null}
      </div>
    </div>
  );
}
