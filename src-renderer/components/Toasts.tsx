/** Toasts (corner), pointer toasts (next to where a connection was refused). */
import { useStore } from '../model/ui';
import { studio } from '../studio';

export function Toasts() {
  const toasts = useStore(studio().ui, (s) => s.toasts);
  const corner = toasts.filter((t) => !t.at);
  const pointer = toasts.filter((t) => t.at);
  return (
    <>
      <div className="toasts" aria-live="polite">
        {corner.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`} data-testid={`toast-${t.kind}`}>
            {t.text}
          </div>
        ))}
      </div>
      {pointer.map((t) => (
        <div
          key={t.id}
          className={`toast toast-${t.kind} toast-pointer`}
          data-testid="refusal-toast"
          role="alert"
          style={{ left: Math.min(t.at!.x + 12, window.innerWidth - 420), top: Math.min(t.at!.y + 16, window.innerHeight - 90) }}
        >
          {t.text}
        </div>
      ))}
    </>
  );
}
