/** The autosave slot { savedAt, doc } (cleared by an explicit save): autosave and restoreAutosave. */
import type { Handlers } from '../dispatch';
import { readJsonIfPresent, writeJsonAtomic } from '../atomicFile';

export function autosaveHandlers(autosavePath: string): Pick<Handlers, 'autosave' | 'restoreAutosave'> {
  return {
    async autosave({ doc }) {
      const savedAt = Date.now();
      await writeJsonAtomic(autosavePath, { savedAt, doc: doc ?? null });
      return { savedAt };
    },

    async restoreAutosave() {
      const v = await readJsonIfPresent(autosavePath);
      if (typeof v !== 'object' || v === null) return null;
      const { savedAt, doc } = v as { savedAt?: unknown; doc?: unknown };
      if (typeof savedAt !== 'number' || doc === undefined || doc === null) return null;
      return { doc, savedAt };
    },
  };
}
