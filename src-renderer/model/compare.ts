/**
 * Structural summary of a graph for the compare view, computed from validation: which
 * objectives train which networks, the divergence each minimises, latent variables, exact
 * likelihood, adversarial training, sampler cost.
 */
import type { GraphDocument } from '../../src-main/document/schema';
import type { NodeFacts } from '../../nodes/core/defineNode';
import { specOf } from './registry';
import { validateDoc } from './validation';

export interface Analysis {
  title: string;
  /** closedForm: the trained networks set their parameters by their own update rules (EM, stored points), not by a gradient step */
  objectives: { id: string; title: string; trains: string[]; stepsPerRound: number; order: number; closedForm: boolean }[];
  networks: string[];
  latent: { has: boolean; text: string };
  /** what the objectives minimise, one entry per distinct divergence, in objective order */
  divergences: string[];
  likelihood: { kind: 'exact' | 'bound' | 'none'; text: string };
  adversarial: boolean;
  samplers: { id: string; title: string; calls: number | undefined; text: string }[];
  errors: number;
}

const RANK = { exact: 2, bound: 1, none: 0 } as const;

export function analyze(doc: GraphDocument): Analysis {
  const v = validateDoc(doc);
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const spec = (id: string) => specOf(byId.get(id)?.type ?? '');
  // every node's own structural facts (NodeSpec.describe), from its params and input shapes
  const facts = doc.nodes.map((n) => {
    const sp = specOf(n.type);
    const g = v.nodes.get(n.id);
    let f: NodeFacts = {};
    try {
      f = (sp?.describe?.((g?.params ?? sp.params.safeParse(n.params ?? {}).data ?? {}) as never, (g?.inShapes ?? {}) as never) ?? {}) as NodeFacts;
    } catch {
      f = {};
    }
    return { id: n.id, spec: sp, facts: f };
  });

  const objectives = v.objectives.map((o) => {
    const n = byId.get(o.nodeId);
    const p = (v.nodes.get(o.nodeId)?.params ?? n?.params ?? {}) as { stepsPerRound?: number; order?: number; optimizer?: { kind?: string } };
    const closedForm = p.optimizer?.kind === 'update';
    return { id: o.nodeId, title: spec(o.nodeId)?.title ?? o.nodeId, trains: o.trains, stepsPerRound: p.stepsPerRound ?? 1, order: p.order ?? 0, closedForm };
  });
  objectives.sort((a, b) => a.order - b.order);
  const networks = doc.nodes.filter((n) => specOf(n.type)?.role === 'network').map((n) => n.id);

  const critics = doc.nodes.filter((n) => specOf(n.type)?.category === 'critic').map((n) => n.id);
  const adversarial = objectives.length > 1 && critics.some((c) => objectives.some((o) => o.trains.includes(c))) && objectives.some((o) => !o.trains.some((t) => critics.includes(t)));

  const latentFact = facts.map((f) => f.facts.latent).filter((l) => l !== undefined).sort((a, b) => b.rank - a.rank)[0];
  const latent: Analysis['latent'] = latentFact ? { has: true, text: latentFact.text } : { has: false, text: 'no latent variable' };

  const divergences = [...new Set(objectives.map((o) => facts.find((f) => f.id === o.id)?.facts.divergence).filter((d): d is string => d !== undefined))];

  const hasObjective = facts.some((f) => f.spec?.role === 'objective');
  const likelihood: Analysis['likelihood'] = facts
    .map((f) => f.facts.likelihood)
    .filter((l) => l !== undefined)
    .sort((a, b) => RANK[b.kind] - RANK[a.kind])[0] ?? { kind: 'none', text: hasObjective ? 'unknown' : 'no objective' };

  const samplers = v.samplers.length ? v.samplers : doc.nodes.filter((n) => specOf(n.type)?.role === 'sampler').map((n) => n.id);
  const samplerInfo = samplers.map((id) => {
    const f = facts.find((x) => x.id === id)!;
    const params = (v.nodes.get(id)?.params ?? byId.get(id)?.params ?? {}) as { steps?: number };
    const info = f.facts.sampler ?? { calls: params.steps, text: params.steps ? `${params.steps} steps` : 'iterative' };
    return { id, title: f.spec?.title ?? byId.get(id)!.type, calls: info.calls, text: info.text };
  });

  return {
    title: doc.meta.title ?? 'Untitled graph',
    objectives,
    networks,
    latent,
    divergences,
    likelihood,
    adversarial,
    samplers: samplerInfo,
    errors: v.diagnostics.filter((d) => d.severity === 'error').length,
  };
}

const list = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

export function describeObjectives(a: Analysis): string {
  if (!a.objectives.length) return 'no objective';
  const parts = a.objectives.map(
    (o) =>
      `${o.title} (${o.id}) trains ${o.trains.length ? list(o.trains) : 'nothing'}${o.closedForm ? ' by closed-form updates (no gradient step, no learning rate)' : ''}${o.stepsPerRound > 1 ? ` ×${o.stepsPerRound} per round` : ''}`,
  );
  return a.objectives.length === 1 ? parts[0]! : `${a.objectives.length} objectives take turns each round: ${parts.join(', then ')}`;
}

/** a few sentences on how two graphs differ structurally */
export function compareSummary(a: Analysis, b: Analysis): string[] {
  const out: string[] = [];
  const A = a.title;
  const B = b.title;
  out.push(`Objectives. ${A}: ${describeObjectives(a)}. ${B}: ${describeObjectives(b)}.`);
  if (a.adversarial !== b.adversarial) {
    const [adv, non] = a.adversarial ? [A, B] : [B, A];
    out.push(`${adv} is adversarial: a critic and a generator optimise opposing objectives; ${non} minimises a single consistent loss.`);
  } else if (a.adversarial) out.push('Both are adversarial.');
  else out.push('Neither is adversarial.');
  const div = (x: Analysis) => (x.divergences.length ? x.divergences.join('; ') : 'not stated');
  if (div(a) === div(b)) out.push(`Both minimise the same divergence: ${div(a)}.`);
  else out.push(`Divergence minimised. ${A}: ${div(a)}. ${B}: ${div(b)}.`);
  if (a.latent.text === b.latent.text) out.push(`Latent structure is the same kind: ${a.latent.text}.`);
  else out.push(`Latent variables. ${A}: ${a.latent.text}. ${B}: ${b.latent.text}.`);
  if (a.likelihood.kind === b.likelihood.kind) out.push(`Likelihood: both ${a.likelihood.kind === 'exact' ? 'give the exact likelihood' : a.likelihood.kind === 'bound' ? 'give only a bound on the likelihood' : 'have no tractable likelihood'}.`);
  else out.push(`Likelihood. ${A}: ${a.likelihood.text}. ${B}: ${b.likelihood.text}.`);
  const cost = (x: Analysis) => (x.samplers.length ? x.samplers.map((s) => `${s.title}: ${s.text}`).join('; ') : 'no sampler');
  out.push(`Sampling. ${A}: ${cost(a)}. ${B}: ${cost(b)}.`);
  const ca = a.samplers[0]?.calls;
  const cb = b.samplers[0]?.calls;
  if (ca && cb && ca !== cb) {
    const [slow, fast, r] = ca > cb ? [A, B, ca / cb] : [B, A, cb / ca];
    out.push(`${slow} needs ${Math.round(r)}× more network calls per sample than ${fast}.`);
  }
  out.push(`Trainable networks: ${a.networks.length} in ${A} (${list(a.networks) || 'none'}), ${b.networks.length} in ${B} (${list(b.networks) || 'none'}).`);
  return out;
}
