/**
 * The training loop's metrics hook: the REFERENCE metrics of src-main/eval/evaluate.ts,
 * loaded on first use. runtime/ never imports eval/; the session hosts inject this.
 */
import type { Evaluate } from '../runtime/trainLoop';

let evaluateModule: Promise<Evaluate | undefined> | undefined;

/** evaluateRun of src-main/eval/evaluate.ts (undefined, with the reason sent to `warn`, if it cannot be loaded) */
export function loadReferenceMetrics(warn: (m: string) => void): Promise<Evaluate | undefined> {
  evaluateModule ??= import('../eval/evaluate').then(
    (m: Record<string, unknown>) => {
      const fn = m.evaluateRun ?? m.evaluate ?? m.default;
      if (typeof fn === 'function') return fn as Evaluate;
      warn('metrics are off: src-main/eval/evaluate.ts exports no evaluateRun function');
      return undefined;
    },
    (e: unknown) => {
      warn(`metrics are off: src-main/eval/evaluate.ts could not be loaded (${(e as Error).message})`);
      return undefined;
    },
  );
  return evaluateModule;
}
