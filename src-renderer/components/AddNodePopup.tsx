/**
 * Search-to-add popup, opened by a double-click on the empty canvas at that point, or by a
 * wire dropped on empty canvas: then only node types that can take the wire's other end are
 * offered, and the one chosen is added there with the wire connected.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { addNode } from '../model/actions';
import { familyColour, familyLabel } from '../model/registry';
import { useEditor } from '../model/store';
import { addNodeOnWire, searchForWire, wirePort } from '../model/wire';
import { describePortType } from '../../nodes/core/ports';
import { useStore } from '../model/ui';
import { studio } from '../studio';

export function AddNodePopup() {
  const { ui, editor } = studio();
  const popup = useStore(ui, (s) => s.addPopup);
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  const list = useRef<HTMLDivElement>(null);
  const doc = useEditor(editor, (s) => s.doc);
  const wire = popup?.wire;
  const hits = useMemo(() => searchForWire(editor.getState().doc, wire, q).slice(0, 12), [q, wire, editor]);
  const dragged = wire ? wirePort(doc, wire) : undefined;
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
    if (popup.wire) {
      // a dragged output meets the new node's input (its left side), a dragged input its output (right side)
      const at = { x: popup.flow.x - (popup.wire.side === 'target' ? 240 : 10), y: popup.flow.y - 40 };
      const r = addNodeOnWire(editor, type, at, popup.wire);
      if (r) ui.set({ status: popup.wire.side === 'source' ? `Connected ${popup.wire.nodeId}.${popup.wire.port} → ${r.id}.${r.port}` : `Connected ${r.id}.${r.port} → ${popup.wire.nodeId}.${popup.wire.port}` });
    } else addNode(editor, type, { x: popup.flow.x - 20, y: popup.flow.y - 20 });
    close();
  };
  const left = Math.min(popup.x, window.innerWidth - 340);
  const top = Math.min(popup.y, window.innerHeight - 380);
  return (
    <div className="add-popup" style={{ left, top }} data-testid="add-popup" data-wire={wire ? `${wire.nodeId}.${wire.port}` : undefined} onMouseDown={(e) => e.stopPropagation()}>
      {wire ? (
        <div className="add-wire" data-testid="add-wire">
          {wire.side === 'source' ? 'Connect' : 'Feed'} <code>{wire.nodeId}.{wire.port}</code>
          {dragged ? <span className="muted"> {describePortType(dragged.type)}</span> : null}
        </div>
      ) : null}
      <input
        autoFocus
        className="search"
        placeholder={wire ? 'Node types that fit this port…' : 'Add a node: type to search…'}
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
            data-type={s.type}
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
        {!hits.length ? <div className="muted pad">{wire ? `No node type that fits ${wire.nodeId}.${wire.port} matches “${q}”.` : `No node matches “${q}”.`}</div> : null}
      </div>
    </div>
  );
}
