/** The canvas's fixed parts: the minimap (nodes in their family's colour) and the empty-canvas prompt. */
import { MiniMap } from '@xyflow/react';
import type { NodeInstance } from '../../../src-main/document/schema';
import { familyColour, specOf } from '../../model/registry';

export function CanvasMiniMap() {
  return (
    <MiniMap
      position="bottom-right"
      pannable
      zoomable
      nodeColor={(n) => (n.type === 'frame' ? 'transparent' : familyColour(specOf((n.data as { node?: NodeInstance }).node?.type ?? '')))}
      nodeStrokeColor={(n) => (n.type === 'frame' ? '#5b6478' : 'transparent')}
      maskColor="var(--minimap-mask)"
      style={{ background: 'var(--minimap-bg)', width: 180, height: 120 }}
    />
  );
}

export function EmptyCanvas({ onBrowse }: { onBrowse: () => void }) {
  return (
    <div className="canvas-empty">
      <div className="canvas-empty-title">An empty canvas</div>
      <div>Drag a node from the palette, double-click here to search for one, or start from a template.</div>
      <button className="primary" onClick={onBrowse}>
        Browse templates
      </button>
    </div>
  );
}
