/** A group frame: drawn around the nodes tagged `ui.group`; dragging it moves them all. */
import type { Node, NodeProps } from '@xyflow/react';
import { memo, useState } from 'react';
import { renameGroup } from '../model/actions';
import { studio } from '../studio';

export interface FrameData extends Record<string, unknown> {
  label: string;
  count: number;
}
export type FrameFlowNode = Node<FrameData, 'frame'>;

function FrameNodeImpl({ data, selected }: NodeProps<FrameFlowNode>) {
  const [editing, setEditing] = useState(false);
  return (
    <div className={`frame${selected ? ' selected' : ''}`} data-group={data.label}>
      <div className="frame-label" onDoubleClick={(e) => (e.stopPropagation(), setEditing(true))} title="Double-click to rename">
        {editing ? (
          <input
            className="nodrag"
            autoFocus
            defaultValue={data.label}
            onBlur={(e) => {
              setEditing(false);
              renameGroup(studio().editor, data.label, e.currentTarget.value);
            }}
            onKeyDown={(e) => {
              e.stopPropagation();
              if (e.key === 'Enter') e.currentTarget.blur();
              if (e.key === 'Escape') setEditing(false);
            }}
          />
        ) : (
          <>
            {data.label} <span className="frame-count">{data.count} nodes</span>
          </>
        )}
      </div>
    </div>
  );
}

export const FrameNode = memo(FrameNodeImpl);
