/**
 * A family of models is one module: nodes/<id>/ holds its node types, its templates
 * (nodes/<id>/templates/<name>.json), its quality bars and an index.ts that declares it
 * with `defineFamily`. The registry (nodes/index.ts) is one list of family modules.
 */
import type { AnyNodeSpec } from './defineNode';

/** one measured bar of a template: `metric op bound` on a held-out evaluation */
export interface QualityBar {
  /** evaluation key, `${nodeId}.${metric}` (see src-main/eval/evaluate.ts) */
  metric: string;
  op: '<=' | '>=';
  bound: number;
  /** where the bound comes from */
  why?: string;
}

export interface FamilyTemplate {
  /** file stem in nodes/<family>/templates/ */
  name: string;
  /** bars `npm run bench:quality` checks after training the template's full steps */
  bars: readonly QualityBar[];
}

export interface FamilyModule {
  /** folder name and stable id */
  id: string;
  label: string;
  /** one hue, readable on the dark canvas */
  colour: string;
  /** one sentence for the palette */
  description: string;
  nodes: readonly AnyNodeSpec[];
  templates: readonly FamilyTemplate[];
}

export function defineFamily(m: FamilyModule): FamilyModule {
  if (!/^[a-z][a-z0-9-]*$/.test(m.id)) throw new Error(`family id "${m.id}" must be lower-case letters, digits and dashes`);
  if (!/^#[0-9a-f]{6}$/i.test(m.colour)) throw new Error(`family "${m.id}": colour "${m.colour}" must be #rrggbb`);
  const names = new Set<string>();
  for (const t of m.templates) {
    if (names.has(t.name)) throw new Error(`family "${m.id}": duplicate template "${t.name}"`);
    names.add(t.name);
  }
  return m;
}
