/**
 * Structural summary of a graph for the compare view, computed from validation: which
 * objectives train which networks, latent variables, exact likelihood, adversarial
 * training, sampler cost.
 */
import type { GraphDocument } from '../../src-main/document/schema';
import { specOf } from './registry';
import { validateDoc } from './validation';

export interface Analysis {
  title: string;
  objectives: { id: string; title: string; trains: string[]; stepsPerRound: number; order: number }[];
  networks: string[];
  latent: { has: boolean; text: string };
  likelihood: { kind: 'exact' | 'bound' | 'none'; text: string };
  adversarial: boolean;
  samplers: { id: string; title: string; calls: number | undefined; text: string }[];
  errors: number;
}

const LIKELIHOOD: Record<string, { kind: Analysis['likelihood']['kind']; text: string }> = {
  'loss.nll': { kind: 'exact', text: 'exact log-likelihood (change of variables), trained by maximum likelihood' },
  'loss.elbo': { kind: 'bound', text: 'a lower bound on the log-likelihood (the ELBO), not the exact value' },
  'loss.epsilonMse': { kind: 'bound', text: 'no exact likelihood: a reweighted variational bound, trained as noise regression' },
  'loss.ganCritic': { kind: 'none', text: 'no likelihood at all: trained adversarially, an implicit model' },
  'loss.ganGenerator': { kind: 'none', text: 'no likelihood at all: trained adversarially, an implicit model' },
};

export function analyze(doc: GraphDocument): Analysis {
  const v = validateDoc(doc);
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const spec = (id: string) => specOf(byId.get(id)?.type ?? '');
  const types = new Set(doc.nodes.map((n) => n.type));
  const families = new Set(doc.nodes.map((n) => specOf(n.type)?.family));

  const objectives = v.objectives.map((o) => {
    const n = byId.get(o.nodeId);
    const p = (v.nodes.get(o.nodeId)?.params ?? n?.params ?? {}) as { stepsPerRound?: number; order?: number };
    return { id: o.nodeId, title: spec(o.nodeId)?.title ?? o.nodeId, trains: o.trains, stepsPerRound: p.stepsPerRound ?? 1, order: p.order ?? 0 };
  });
  objectives.sort((a, b) => a.order - b.order);
  const networks = doc.nodes.filter((n) => specOf(n.type)?.role === 'network').map((n) => n.id);

  const critics = doc.nodes.filter((n) => specOf(n.type)?.family === 'critic').map((n) => n.id);
  const adversarial = objectives.length > 1 && critics.some((c) => objectives.some((o) => o.trains.includes(c))) && objectives.some((o) => !o.trains.some((t) => critics.includes(t)));

  let latent: Analysis['latent'];
  if (families.has('encoder')) latent = { has: true, text: 'latent variable z with an inferred posterior q(z|x) (an encoder)' };
  else if (families.has('flow')) latent = { has: true, text: 'bijective latent: z = f(x) has the data dimension and is computed exactly, no encoder needed' };
  else if (families.has('diffusion') || families.has('schedule')) latent = { has: true, text: 'latents are noised copies x_1..x_T of the data, same dimension, fixed forward process' };
  else if (families.has('prior') && (families.has('decoder') || families.has('network'))) latent = { has: true, text: 'latent noise z ~ p(z) pushed through a generator, no encoder (no inference of z from x)' };
  else latent = { has: false, text: 'no latent variable' };

  const lossTypes = [...types].filter((t) => specOf(t)?.role === 'objective');
  const lk = lossTypes.map((t) => LIKELIHOOD[t]).find(Boolean) ?? { kind: 'none' as const, text: lossTypes.length ? 'unknown' : 'no objective' };
  const likelihood = lossTypes.includes('loss.nll') ? LIKELIHOOD['loss.nll']! : lk;

  const samplers = v.samplers.length ? v.samplers : doc.nodes.filter((n) => specOf(n.type)?.role === 'sampler').map((n) => n.id);
  const samplerInfo = samplers.map((id) => {
    const n = byId.get(id)!;
    const s = specOf(n.type);
    const g = v.nodes.get(id);
    const sched = g?.inShapes['schedule'];
    const T = sched?.kind === 'Schedule' ? sched.T : undefined;
    const params = (g?.params ?? n.params) as { steps?: number };
    let calls: number | undefined;
    let text: string;
    switch (n.type) {
      case 'sampler.oneShot':
        calls = 1;
        text = 'one pass: z ~ prior, x = G(z)';
        break;
      case 'sampler.flow':
        calls = 1;
        text = 'one pass through the inverse flow';
        break;
      case 'sampler.ddpm':
        calls = T;
        text = `${T ?? 'T'} denoising steps (one network call each)`;
        break;
      case 'sampler.ddim':
        calls = T !== undefined && params.steps !== undefined ? Math.min(params.steps, T) : params.steps;
        text = `${calls ?? '?'} DDIM steps on a sub-sequence of the ${T ?? 'T'} training steps`;
        break;
      default:
        calls = params.steps;
        text = calls ? `${calls} steps` : 'iterative';
    }
    return { id, title: s?.title ?? n.type, calls, text };
  });

  return {
    title: doc.meta.title ?? 'Untitled graph',
    objectives,
    networks,
    latent,
    likelihood,
    adversarial,
    samplers: samplerInfo,
    errors: v.diagnostics.filter((d) => d.severity === 'error').length,
  };
}

const list = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

export function describeObjectives(a: Analysis): string {
  if (!a.objectives.length) return 'no objective';
  const parts = a.objectives.map((o) => `${o.title} (${o.id}) trains ${o.trains.length ? list(o.trains) : 'nothing'}${o.stepsPerRound > 1 ? ` ×${o.stepsPerRound} per round` : ''}`);
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
