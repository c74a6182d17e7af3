/** The studio's node clipboard (copy, paste; the system clipboard carries a JSON copy too). */
import { copySelection, paste, type Clip } from '../model/actions';
import { studio } from '../studio';
import { canvas } from './canvas/handle';

let clipboard: Clip | undefined;

export const getClip = (): Clip | undefined => clipboard;

export function doCopy(): boolean {
  const clip = copySelection(studio().editor);
  if (!clip) return false;
  clipboard = clip;
  studio().ui.set({ status: `Copied ${clip.nodes.length} node${clip.nodes.length > 1 ? 's' : ''}` });
  return true;
}

export function doPaste(clip: Clip | undefined = clipboard, at: { x: number; y: number } | null = canvas.pointer): void {
  if (!clip) return;
  const ids = paste(studio().editor, clip, at ? { x: at.x, y: at.y } : undefined);
  studio().ui.set({ status: `Pasted ${ids.length} node${ids.length > 1 ? 's' : ''}` });
}
