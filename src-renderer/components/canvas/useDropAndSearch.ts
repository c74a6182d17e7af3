/** Palette drops (a new node where it is dropped), double-click search, and the pointer's flow position. */
import type { ReactFlowInstance } from '@xyflow/react';
import { useCallback } from 'react';
import { addNode } from '../../model/actions';
import type { EditorStore } from '../../model/store';
import type { SimpleStore, UiState } from '../../model/ui';
import { canvas, NODE_MIME } from './handle';

type ScreenToFlow = Pick<ReactFlowInstance, 'screenToFlowPosition'>;

export function useDropAndSearch(rf: ScreenToFlow, editor: EditorStore, ui: SimpleStore<UiState>) {
  const onDragOver = useCallback((e: React.DragEvent) => {
    if (e.dataTransfer.types.includes(NODE_MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  }, []);

  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const type = e.dataTransfer.getData(NODE_MIME);
      if (!type) return;
      e.preventDefault();
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNode(editor, type, { x: p.x - 120, y: p.y - 20 });
    },
    [rf, editor],
  );

  const onDoubleClick = useCallback(
    (e: React.MouseEvent) => {
      const t = e.target as HTMLElement;
      if (!t.classList.contains('react-flow__pane')) return;
      const flow = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      ui.set({ addPopup: { x: e.clientX, y: e.clientY, flow } });
    },
    [rf, ui],
  );

  const onPointerMove = useCallback(
    (e: React.PointerEvent) => {
      canvas.pointer = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    },
    [rf],
  );

  const onPaneClick = useCallback(() => {
    editor.select({ nodes: [], edges: [] });
    // the click that ends a wire dropped on the canvas does not close the search it opened
    const open = ui.getState().addPopup;
    if (open?.openedAt && Date.now() - open.openedAt < 400) return;
    ui.set({ addPopup: null, contextMenu: null });
  }, [editor, ui]);

  return { onDragOver, onDrop, onDoubleClick, onPointerMove, onPaneClick };
}
