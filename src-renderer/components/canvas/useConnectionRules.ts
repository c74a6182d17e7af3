/** Which connections the canvas accepts (the same rules as validation), and what happens on connect. */
import type { Connection, Edge as FlowEdge, FinalConnectionState } from '@xyflow/react';
import { useCallback } from 'react';
import type { GraphDocument } from '../../../src-main/document/schema';
import { connect } from '../../model/actions';
import type { EditorStore } from '../../model/store';
import type { SimpleStore, UiState } from '../../model/ui';
import { checkConnection, type ConnectionCheck } from '../../model/validation';
import { toast } from '../../studio';

export const WRONG_DIRECTION = 'connect an output (right side) to an input (left side)';

export interface HandleEnd {
  nodeId: string;
  id?: string | null;
  type: 'source' | 'target';
}

/** [output, input] of a connection dragged between two handles in either direction; null when both are outputs or both inputs */
export function orient<H extends HandleEnd>(from: H, to: H): [H, H] | null {
  const [src, dst] = from.type === 'source' ? [from, to] : [to, from];
  return src.type === 'source' && dst.type === 'target' ? [src, dst] : null;
}

/** the check of a connection dragged between two handles, in either direction */
export function checkHandles(doc: GraphDocument, from: HandleEnd, to: HandleEnd): ConnectionCheck {
  const pair = orient(from, to);
  if (!pair) return { ok: false, reason: WRONG_DIRECTION };
  const [src, dst] = pair;
  return checkConnection(doc, [src.nodeId, src.id ?? ''], [dst.nodeId, dst.id ?? '']);
}

/** whether a connection drag was released over empty canvas (not a node, a handle or a control) */
export function droppedOnPane(target: EventTarget | null): boolean {
  const el = target instanceof Element ? target : null;
  return !!el && !!el.closest('.react-flow__pane') && !el.closest('.react-flow__node, .react-flow__handle, .react-flow__controls, .react-flow__minimap');
}

export function useConnectionRules(editor: EditorStore, ui: SimpleStore<UiState>, toFlow?: (p: { x: number; y: number }) => { x: number; y: number }) {
  const isValidConnection = useCallback(
    (c: Connection | FlowEdge) => checkConnection(editor.getState().doc, [c.source, c.sourceHandle ?? ''], [c.target, c.targetHandle ?? '']).ok,
    [editor],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const { replaced } = connect(editor, [c.source, c.sourceHandle ?? ''], [c.target, c.targetHandle ?? '']);
      if (replaced) toast('info', `${c.target}.${c.targetHandle} takes one input: replaced ${replaced.from[0]}.${replaced.from[1]}`);
      else ui.set({ status: `Connected ${c.source}.${c.sourceHandle} → ${c.target}.${c.targetHandle}` });
    },
    [editor, ui],
  );

  // a refused connection is explained where it was dropped; one dropped on empty canvas opens the search for the other end
  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (!state.toHandle && state.fromHandle && toFlow) {
        const pt = 'clientX' in event ? { x: event.clientX, y: event.clientY } : event.changedTouches[0] ? { x: event.changedTouches[0].clientX, y: event.changedTouches[0].clientY } : undefined;
        const over = pt ? document.elementFromPoint(pt.x, pt.y) : null;
        if (pt && (droppedOnPane(over) || droppedOnPane(event.target))) {
          const h = state.fromHandle;
          ui.set({ addPopup: { x: pt.x, y: pt.y, flow: toFlow(pt), wire: { nodeId: h.nodeId, port: h.id ?? '', side: h.type }, openedAt: Date.now() } });
        }
        return;
      }
      if (state.isValid !== false || !state.toHandle || !state.fromHandle) return;
      const r = checkHandles(editor.getState().doc, state.fromHandle, state.toHandle);
      if (r.ok) return;
      const pt = 'clientX' in event ? { x: event.clientX, y: event.clientY } : undefined;
      toast('error', `Connection refused: ${r.reason}`, pt);
    },
    [editor, ui, toFlow],
  );

  return { isValidConnection, onConnect, onConnectEnd };
}
