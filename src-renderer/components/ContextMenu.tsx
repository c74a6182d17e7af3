/** The canvas's right-click menu (model/contextMenu.ts): on a node, an edge or the empty canvas; arrows, Enter and Escape. */
import { useEffect, useMemo, useRef, useState } from 'react';
import { deleteEdges, deleteNodes, disconnectAll, duplicateNodes } from '../model/actions';
import { firstEnabled, menuItems, moveActive, type MenuAction } from '../model/contextMenu';
import { useStore, type ContextMenuState } from '../model/ui';
import { studio } from '../studio';
import { canvas } from './canvas/handle';
import { doPaste, getClip } from './clipboard';

function close() {
  studio().ui.set({ contextMenu: null });
}

function run(menu: ContextMenuState, action: MenuAction) {
  const { editor, ui } = studio();
  const t = menu.target;
  close();
  switch (action) {
    case 'duplicate':
      if (t.kind === 'node') {
        const ids = duplicateNodes(editor, [t.id]);
        ui.set({ status: `Duplicated ${t.id} as ${ids.join(', ')}` });
      }
      break;
    case 'delete-node':
      if (t.kind === 'node' && deleteNodes(editor, [t.id])) ui.set({ status: `Deleted ${t.id}` });
      break;
    case 'disconnect':
      if (t.kind === 'node') {
        const n = disconnectAll(editor, t.id);
        ui.set({ status: `Disconnected ${t.id}: ${n} edge${n === 1 ? '' : 's'} removed` });
      }
      break;
    case 'show-equation':
      if (t.kind === 'node') {
        editor.select({ nodes: [t.id], edges: [] });
        ui.set((s) => ({ panels: { ...s.panels, inspectorOpen: true } }));
        setTimeout(() => {
          const el = document.querySelector<HTMLElement>('[data-testid="inspector-equation"]');
          if (!el) return;
          el.scrollIntoView({ block: 'nearest' });
          el.classList.remove('flash');
          void el.offsetWidth;
          el.classList.add('flash');
        }, 60);
      }
      break;
    case 'delete-edge':
      if (t.kind === 'edge' && deleteEdges(editor, [t.id])) ui.set({ status: 'Deleted the edge' });
      break;
    case 'add-node':
      ui.set({ addPopup: { x: menu.x, y: menu.y, flow: menu.flow } });
      break;
    case 'fit-view':
      canvas.fitView();
      break;
    case 'paste':
      doPaste(getClip(), menu.flow);
      break;
  }
}

/** Shift+F10 or the menu key: the selected node's menu beside it, else the canvas's at its centre */
export function openMenuFromKeyboard(): void {
  const { editor, ui } = studio();
  const sel = editor.getState().selection.nodes.filter((id) => !id.startsWith('frame:'));
  const pane = document.querySelector('.canvas')?.getBoundingClientRect();
  if (sel.length === 1) {
    const el = document.querySelector(`.canvas .react-flow__node[data-id="${CSS.escape(sel[0]!)}"]`);
    const r = el?.getBoundingClientRect();
    if (r) {
      ui.set({ contextMenu: { x: r.left + Math.min(40, r.width / 2), y: r.top + Math.min(30, r.height / 2), flow: canvas.center(), target: { kind: 'node', id: sel[0]! } } });
      return;
    }
  }
  if (pane) ui.set({ contextMenu: { x: pane.left + pane.width / 2, y: pane.top + pane.height / 2, flow: canvas.center(), target: { kind: 'pane' } } });
}

export function ContextMenu() {
  const { ui, editor } = studio();
  const menu = useStore(ui, (s) => s.contextMenu);
  const target = menu?.target;
  const items = useMemo(() => {
    if (!target) return [];
    const edgeCount = target.kind === 'node' ? editor.getState().doc.edges.filter((e) => e.from[0] === target.id || e.to[0] === target.id).length : undefined;
    return menuItems(target, { hasClip: !!getClip(), edgeCount });
  }, [target, editor]);
  const [active, setActive] = useState(0);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => setActive(firstEnabled(items)), [items]);
  // the active item has the focus: the keys go to the menu
  useEffect(() => {
    box.current?.querySelectorAll<HTMLElement>('[role="menuitem"]')[active]?.focus();
  }, [active, items]);
  // a press outside, a wheel or a resize closes it
  useEffect(() => {
    if (!menu) return;
    const outside = (e: Event) => {
      if (!box.current?.contains(e.target as Node)) close();
    };
    window.addEventListener('pointerdown', outside, true);
    window.addEventListener('wheel', close, true);
    window.addEventListener('resize', close);
    return () => {
      window.removeEventListener('pointerdown', outside, true);
      window.removeEventListener('wheel', close, true);
      window.removeEventListener('resize', close);
    };
  }, [menu]);

  if (!menu || !items.length) return null;
  const left = Math.min(menu.x, window.innerWidth - 220);
  const top = Math.min(menu.y, window.innerHeight - 40 - items.length * 30);
  const where = menu.target.kind === 'node' ? menu.target.id : menu.target.kind === 'edge' ? 'edge' : 'canvas';
  return (
    <div
      className="context-menu"
      role="menu"
      aria-label={`Actions: ${where}`}
      style={{ left, top }}
      ref={box}
      data-testid="context-menu"
      data-target={menu.target.kind}
      onContextMenu={(e) => e.preventDefault()}
      onKeyDown={(e) => {
        // the menu's keys stay in the menu (Escape does not also clear the selection)
        e.stopPropagation();
        const next = moveActive(items, active, e.key);
        if (next !== null) {
          e.preventDefault();
          setActive(next);
        } else if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          const it = items[active];
          if (it && !it.disabled) run(menu, it.action);
        } else if (e.key === 'Escape' || e.key === 'Tab') {
          e.preventDefault();
          close();
        }
      }}
    >
      {items.map((it, i) => (
        <button
          key={it.action}
          role="menuitem"
          tabIndex={i === active ? 0 : -1}
          className={`menu-item${i === active ? ' active' : ''}`}
          disabled={it.disabled}
          aria-disabled={it.disabled}
          data-action={it.action}
          onMouseEnter={() => !it.disabled && setActive(i)}
          onClick={() => run(menu, it.action)}
        >
          <span>{it.label}</span>
          {it.hint ? <kbd>{it.hint}</kbd> : null}
        </button>
      ))}
    </div>
  );
}
