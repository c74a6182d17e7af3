/** What the rest of the app may ask of the canvas (bound by the mounted canvas), and the palette's drag type. */

export const NODE_MIME = 'application/x-genloom-node';

export const canvas = {
  fitView: () => {},
  centerOn: (_id: string) => {},
  /** flow coordinates of the viewport centre */
  center: (): { x: number; y: number } => ({ x: 0, y: 0 }),
  /** last pointer position over the canvas, in flow coordinates */
  pointer: null as { x: number; y: number } | null,
};
