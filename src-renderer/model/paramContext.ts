/**
 * Params a node ignores in its current wiring, as the spec declares them
 * (ParamHint.ignoredWhenConnected): a flow layer's `dim` while its `prev` input is connected.
 */
import type { AnyNodeSpec } from './registry';

/** param -> why it is ignored, for a node whose connected inputs are `connected` */
export function ignoredParams(spec: AnyNodeSpec, connected: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [param, hint] of Object.entries(spec.ui ?? {})) {
    const rule = (hint as { ignoredWhenConnected?: { input: string; reason: string } } | undefined)?.ignoredWhenConnected;
    if (rule && connected.has(rule.input)) out.set(param, rule.reason);
  }
  return out;
}
