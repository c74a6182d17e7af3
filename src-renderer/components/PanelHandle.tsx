/** A drag handle that resizes a panel (model/panels.ts), with arrow keys when focused; and a panel's collapse toggle. */
import { useRef } from 'react';
import { keyResizeDelta, panelSize, PANEL_LIMITS, resizePanel, togglePanel, type PanelId } from '../model/panels';
import { useStore } from '../model/ui';
import { studio } from '../studio';

const room = (id: PanelId) => (id === 'dock' ? window.innerHeight : window.innerWidth);

export function PanelHandle({ id, label }: { id: PanelId; label: string }) {
  const { ui } = studio();
  const size = useStore(ui, (s) => panelSize(s.panels, id));
  const drag = useRef<{ x: number; y: number; start: number } | null>(null);
  const vertical = id !== 'dock';
  return (
    <div
      className={`panel-handle panel-handle-${id}`}
      role="separator"
      aria-orientation={vertical ? 'vertical' : 'horizontal'}
      aria-label={`Resize the ${label}`}
      aria-valuenow={size}
      aria-valuemin={PANEL_LIMITS[id].min}
      aria-valuemax={PANEL_LIMITS[id].max}
      tabIndex={0}
      data-testid={`resize-${id}`}
      title={`Drag to resize the ${label} (arrow keys when focused)`}
      onPointerDown={(e) => {
        if (e.button !== 0) return;
        e.preventDefault();
        e.currentTarget.setPointerCapture(e.pointerId);
        drag.current = { x: e.clientX, y: e.clientY, start: panelSize(ui.getState().panels, id) };
        document.documentElement.classList.add(vertical ? 'resizing-x' : 'resizing-y');
      }}
      onPointerMove={(e) => {
        const d = drag.current;
        if (!d) return;
        ui.set((s) => ({ panels: resizePanel(s.panels, id, d.start, { dx: e.clientX - d.x, dy: e.clientY - d.y }, room(id)) }));
      }}
      onPointerUp={(e) => {
        drag.current = null;
        e.currentTarget.releasePointerCapture(e.pointerId);
        document.documentElement.classList.remove('resizing-x', 'resizing-y');
      }}
      onDoubleClick={() => ui.set((s) => ({ panels: resizePanel(s.panels, id, PANEL_LIMITS[id].initial, { dx: 0, dy: 0 }, room(id)) }))}
      onKeyDown={(e) => {
        const delta = keyResizeDelta(id, e.key, e.shiftKey);
        if (!delta) return;
        e.preventDefault();
        e.stopPropagation();
        ui.set((s) => ({ panels: resizePanel(s.panels, id, panelSize(s.panels, id), delta, room(id)) }));
      }}
    />
  );
}

/** the collapse (or expand) button of the palette or the inspector */
export function CollapseButton({ id, label }: { id: 'palette' | 'inspector'; label: string }) {
  const { ui } = studio();
  const open = useStore(ui, (s) => (id === 'palette' ? s.panels.paletteOpen : s.panels.inspectorOpen));
  // the palette sits left: it collapses leftwards; the inspector rightwards
  const glyph = (id === 'palette') === open ? '‹' : '›';
  return (
    <button
      className="icon panel-toggle"
      aria-expanded={open}
      aria-label={`${open ? 'Collapse' : 'Expand'} the ${label}`}
      title={`${open ? 'Collapse' : 'Expand'} the ${label}`}
      data-testid={`${open ? 'collapse' : 'expand'}-${id}`}
      onClick={() => ui.set((s) => ({ panels: togglePanel(s.panels, id) }))}
    >
      {glyph}
    </button>
  );
}
