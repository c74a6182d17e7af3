/** Node specs as the studio sees them: palette groups, colours, ports and defaults. */
import { registry, type AnyNodeSpec, type FamilyModule } from '../../nodes/index';
import { CATEGORIES, type Category, type Role } from '../../nodes/core/defineNode';
import { describePortType, type PortDecl, type PortKind } from '../../nodes/core/ports';

export { registry, CATEGORIES };
export type { AnyNodeSpec, Category, FamilyModule, Role };

const UNKNOWN_FAMILY = { id: 'unknown', label: 'Unknown', colour: '#777777' };

/** the family module that declares a node type (its label and colour) */
export function familyOfSpec(spec: AnyNodeSpec | undefined): Pick<FamilyModule, 'id' | 'label' | 'colour'> {
  return (spec && registry.familyOf(spec.type)) || UNKNOWN_FAMILY;
}
export const familyColour = (spec: AnyNodeSpec | undefined): string => familyOfSpec(spec).colour;
export const familyLabel = (spec: AnyNodeSpec | undefined): string => familyOfSpec(spec).label;

/** port-type colours: CSS custom properties of the theme (app.css), for text, handles and edges */
export const PORT_COLOR: Record<PortKind, string> = {
  Tensor: 'var(--port-tensor)',
  Dist: 'var(--port-dist)',
  Fn: 'var(--port-fn)',
  Bijector: 'var(--port-bijector)',
  Schedule: 'var(--port-schedule)',
  Loss: 'var(--port-loss)',
};

export const ROLE_COLOR: Record<Role, string> = {
  network: '#4f8ff7',
  objective: '#f05c9c',
  sampler: '#35c9c0',
  data: '#2bb3a3',
  none: '#7d8597',
};

export const ROLE_LABEL: Record<Role, string> = {
  network: 'network (trainable)',
  objective: 'objective (loss)',
  sampler: 'sampler',
  data: 'data',
  none: 'other',
};

export function specOf(type: string): AnyNodeSpec | undefined {
  return registry.get(type);
}

export const ALL_SPECS: readonly AnyNodeSpec[] = registry.all();

export function specsByFamily(): { family: FamilyModule; specs: AnyNodeSpec[] }[] {
  return registry.families().map((family) => ({ family, specs: [...family.nodes] })).filter((g) => g.specs.length > 0);
}

/** text a search box matches against */
export function searchText(s: AnyNodeSpec): string {
  return `${s.title} ${s.type} ${s.category} ${familyLabel(s)} ${s.role} ${s.math.explain}`.toLowerCase();
}

/** ranked search: title prefix, then title/type substring, then anywhere (all words must match) */
export function searchSpecs(query: string): AnyNodeSpec[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...ALL_SPECS];
  const words = q.split(/\s+/);
  const scored: { s: AnyNodeSpec; score: number }[] = [];
  for (const s of ALL_SPECS) {
    const hay = searchText(s);
    if (!words.every((w) => hay.includes(w))) continue;
    const title = s.title.toLowerCase();
    const score = title.startsWith(q) ? 0 : title.includes(q) || s.type.toLowerCase().includes(q) ? 1 : s.category.startsWith(q) || familyLabel(s).toLowerCase().startsWith(q) ? 2 : 3;
    scored.push({ s, score });
  }
  return scored.sort((a, b) => a.score - b.score || a.s.title.localeCompare(b.s.title)).map((x) => x.s);
}

export function defaultParams(spec: AnyNodeSpec): Record<string, unknown> {
  const r = spec.params.safeParse({});
  return r.success && r.data && typeof r.data === 'object' ? (r.data as Record<string, unknown>) : {};
}

export function portLabel(decl: PortDecl): string {
  return describePortType(decl.type);
}

/** a short id stem for new nodes of a type: `family.nodeName` -> `nodeName` */
export function idStem(type: string): string {
  const last = type.split('.').pop() ?? 'node';
  return last.replace(/[^A-Za-z0-9_-]/g, '') || 'node';
}
