/** React Flow's node and edge changes turned into document edits (moves, frame drags) and selection. */
import type { EdgeChange, NodeChange } from '@xyflow/react';
import { useCallback } from 'react';
import type { EditorStore } from '../../model/store';
import { frameMemberMoves, readNodeChanges, type Point } from './flowElements';
import type { FlowElements } from './useFlowElements';

/** a document edit placing moved nodes at their new (rounded) positions */
function moveRecipe(moves: Map<string, Point>, memberMoves: Map<string, Point>) {
  return (d: { nodes: { id: string; ui?: { x: number; y: number } }[] }) => {
    for (const n of d.nodes) {
      const p = moves.get(n.id) ?? memberMoves.get(n.id);
      if (p) n.ui = { ...n.ui, x: Math.round(p.x), y: Math.round(p.y) };
    }
  };
}

export function useGraphChanges(editor: EditorStore, { framesRef, measured, remeasured, offsetsRef }: Pick<FlowElements, 'framesRef' | 'measured' | 'remeasured'> & Partial<Pick<FlowElements, 'offsetsRef'>>) {
  const onNodesChange = useCallback(
    (changes: NodeChange[]) => {
      const st = editor.getState();
      const { moves, dragging, selection, resized } = readNodeChanges(changes, st.selection.nodes, st.doc.nodes, measured.current);
      // the view may show nodes lower than the document has them (equations on): moves are written back without that
      const offsets = offsetsRef?.current;
      if (offsets?.size) for (const [id, p] of moves) if (offsets.has(id)) moves.set(id, { x: p.x, y: p.y - offsets.get(id)! });
      if (moves.size) {
        const recipe = moveRecipe(moves, frameMemberMoves(moves, framesRef.current, st.doc.nodes));
        if (dragging) editor.dragTo(recipe);
        else if (st.dragBase) {
          editor.dragTo(recipe);
          editor.endDrag();
        } else editor.commit('Move', recipe);
      }
      if (selection) editor.select({ nodes: [...selection] });
      if (resized) remeasured();
    },
    [editor, framesRef, measured, remeasured, offsetsRef],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      let sel: Set<string> | null = null;
      for (const c of changes) {
        if (c.type === 'select') {
          sel ??= new Set(editor.getState().selection.edges);
          if (c.selected) sel.add(c.id);
          else sel.delete(c.id);
        }
      }
      if (sel) editor.select({ edges: [...sel] });
    },
    [editor],
  );

  const onNodeDragStop = useCallback(() => editor.endDrag(), [editor]);

  return { onNodesChange, onEdgesChange, onNodeDragStop };
}
