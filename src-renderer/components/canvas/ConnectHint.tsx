/** Next to the pointer while a connection is dragged over a handle it may not reach: why not. */
import { useConnection } from '@xyflow/react';
import { useEffect, useState } from 'react';
import { checkConnection } from '../../model/validation';
import { studio } from '../../studio';
import { orient, WRONG_DIRECTION } from './useConnectionRules';

export function ConnectHint() {
  const conn = useConnection();
  const [pt, setPt] = useState<{ x: number; y: number } | null>(null);
  useEffect(() => {
    if (!conn.inProgress) return;
    const on = (e: MouseEvent) => setPt({ x: e.clientX, y: e.clientY });
    window.addEventListener('mousemove', on);
    return () => window.removeEventListener('mousemove', on);
  }, [conn.inProgress]);
  if (!conn.inProgress || conn.isValid !== false || !conn.toHandle || !pt) return null;
  const from = conn.fromHandle;
  const to = conn.toHandle;
  if (!from || !to) return null;
  const style = { left: pt.x + 14, top: pt.y + 14 };
  const pair = orient(from, to);
  if (!pair) {
    return (
      <div className="connect-hint" style={style}>
        {WRONG_DIRECTION}
      </div>
    );
  }
  const [src, dst] = pair;
  const r = checkConnection(studio().editor.getState().doc, [src.nodeId, src.id ?? ''], [dst.nodeId, dst.id ?? '']);
  if (r.ok) return null;
  return (
    <div className="connect-hint" data-testid="connect-hint" style={style}>
      Refused: {r.reason}
    </div>
  );
}
