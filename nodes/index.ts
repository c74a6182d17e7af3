/**
 * The registry: one explicit list of family modules (nodes/<family>/index.ts). Adding a
 * family = one folder and one line here. A duplicate node type id, family id or template
 * name throws at start-up.
 */
import type { AnyNodeSpec } from './core/defineNode';
import type { FamilyModule, FamilyTemplate } from './core/defineFamily';
import { common } from './common';
import { vae } from './vae';
import { gan } from './gan';
import { flow } from './flow';
import { diffusion } from './diffusion';
import { flowmatching } from './flowmatching';
import { ebm } from './ebm';
import { rbm } from './rbm';
import { factor } from './factor';
import { vqvae } from './vqvae';
import { iwae } from './iwae';
import { fgan } from './fgan';
import { gsn } from './gsn';
import { score } from './score';
import { wgan } from './wgan';
import { wakesleep } from './wakesleep';
import { sde } from './sde';
import { consistency } from './consistency';
import { mixture } from './mixture';
import { autoregressive } from './autoregressive';

export const FAMILIES: readonly FamilyModule[] = [common, vae, gan, flow, diffusion, flowmatching, ebm, iwae, fgan, gsn, score, wgan, wakesleep, sde, consistency, mixture, autoregressive, rbm, factor, vqvae];

export class NodeRegistry {
  private readonly byType = new Map<string, AnyNodeSpec>();
  private readonly familyOfType = new Map<string, FamilyModule>();
  private readonly byFamily = new Map<string, FamilyModule>();
  private readonly templateOwner = new Map<string, FamilyModule>();
  constructor(families: readonly FamilyModule[]) {
    for (const f of families) {
      if (this.byFamily.has(f.id)) throw new Error(`duplicate family id "${f.id}"`);
      this.byFamily.set(f.id, f);
      for (const s of f.nodes) {
        if (this.byType.has(s.type)) throw new Error(`duplicate node type id "${s.type}"`);
        this.byType.set(s.type, s);
        this.familyOfType.set(s.type, f);
      }
      for (const t of f.templates) {
        if (this.templateOwner.has(t.name)) throw new Error(`duplicate template "${t.name}" (families "${this.templateOwner.get(t.name)!.id}" and "${f.id}")`);
        this.templateOwner.set(t.name, f);
      }
    }
  }
  /** a registry of loose node types (tests, tools): one anonymous family */
  static ofNodes(nodes: readonly AnyNodeSpec[]): NodeRegistry {
    return new NodeRegistry([{ id: 'nodes', label: 'Nodes', colour: '#888888', description: '', nodes, templates: [] }]);
  }
  get(type: string): AnyNodeSpec | undefined {
    return this.byType.get(type);
  }
  types(): string[] {
    return [...this.byType.keys()];
  }
  all(): AnyNodeSpec[] {
    return [...this.byType.values()];
  }
  families(): FamilyModule[] {
    return [...this.byFamily.values()];
  }
  familyOf(type: string): FamilyModule | undefined {
    return this.familyOfType.get(type);
  }
  /** every bundled template with the family that owns it, in family order */
  templates(): { family: FamilyModule; template: FamilyTemplate; path: string }[] {
    return this.families().flatMap((family) => family.templates.map((template) => ({ family, template, path: `nodes/${family.id}/templates/${template.name}.json` })));
  }
}

export const registry = new NodeRegistry(FAMILIES);
/** every node type, in family order */
export const NODE_TYPES: readonly AnyNodeSpec[] = registry.all();
export type { AnyNodeSpec } from './core/defineNode';
export type { FamilyModule, FamilyTemplate, QualityBar } from './core/defineFamily';
