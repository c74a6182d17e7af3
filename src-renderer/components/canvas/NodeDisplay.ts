/** How the canvas (or the compare view) asks its nodes to draw: equations on or off. */
import { createContext } from 'react';

export interface NodeDisplay {
  /** each node shows its equation */
  equations: boolean;
}

export const NodeDisplayContext = createContext<NodeDisplay>({ equations: false });
