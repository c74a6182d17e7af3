/** Offered on start when an autosave is newer than the last save. */
import { useStore } from '../model/ui';
import { acceptRestore, discardRestore, studio } from '../studio';

export function RestoreBanner() {
  const restore = useStore(studio().ui, (s) => s.restore);
  if (!restore) return null;
  const title = restore.doc.meta.title ?? 'Untitled graph';
  return (
    <div className="banner" role="status" data-testid="restore-banner">
      <span>
        An autosaved graph “<b>{title}</b>” ({restore.doc.nodes.length} nodes) from {new Date(restore.savedAt).toLocaleString()} is newer than your last save.
      </span>
      <button className="primary" onClick={acceptRestore} data-testid="restore-accept">
        Restore
      </button>
      <button onClick={discardRestore} data-testid="restore-discard">
        Discard
      </button>
    </div>
  );
}
