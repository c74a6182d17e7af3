/**
 * Templates as trained programs, for export tests, the conformance suite and the sampler
 * benchmark: load a bundled template (nodes/<family>/templates/<name>.json), optionally shrink its networks, compile, and
 * train a few rounds in-process on the active tfjs backend.
 */
import { registry } from '../../nodes/index';
import { compile, type Program } from '../compile/compile';
import { validateGraph } from '../graph/validate';
import { Trainer } from '../runtime/Trainer';
import { createFeeds } from '../runtime/feeds';
import { readTemplate, TEMPLATE_NAMES } from '../document/templates';
import { fileExternalResolver } from '../compile/readGraphFile';
import { importedSources, importWeights, ownerOf } from '../runtime/importedWeights';

export { TEMPLATE_NAMES };
export type TemplateName = string;

interface Doc {
  meta?: Record<string, unknown>;
  nodes: { id: string; type: string; params?: Record<string, unknown> }[];
  edges: { from: [string, string]; to: [string, string] }[];
}

export function loadTemplate(name: TemplateName): Doc {
  return readTemplate(name) as Doc;
}

/** the document with every network's hidden layers replaced (fast tests) */
export function shrinkDocument(doc: Doc, hidden: number[]): Doc {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => (n.params && Array.isArray(n.params.hidden) ? { ...n, params: { ...n.params, hidden } } : n)),
  };
}

export function compileDocument(doc: Doc): Program {
  // a fixture may be a bare graph (no document header): validate it as it is
  return compile(validateGraph(doc, registry, { resolveExternal: fileExternalResolver(registry) }));
}

export interface TrainedTemplate {
  doc: Doc;
  program: Program;
  trainer: Trainer;
  weights: Map<string, { shape: number[]; data: Float32Array }>;
}

/** compiles a template and trains it `steps` rounds (batch `batchSize`, seed `seed`) */
export function trainTemplate(name: TemplateName, opts: { steps: number; hidden?: number[]; batchSize?: number; seed?: number }): TrainedTemplate {
  const doc = opts.hidden ? shrinkDocument(loadTemplate(name), opts.hidden) : loadTemplate(name);
  const program = compileDocument(doc);
  const seed = opts.seed ?? 0;
  const trainer = new Trainer(program, createFeeds(program, { seed }), { seed, batchSize: opts.batchSize ?? 32 });
  // a teacher from another template (network.imported): that template trained as many rounds
  for (const [source, params] of importedSources(trainer)) {
    const ref = ownerOf(trainer, params[0]!.name).graph;
    const teacher = trainTemplate(ref.replace(/^template:/, ''), { ...opts, hidden: undefined });
    importWeights(trainer, source, teacher.weights);
    teacher.trainer.dispose();
  }
  for (let i = 0; i < opts.steps; i++) trainer.round(false);
  return { doc, program, trainer, weights: trainer.store.snapshot() };
}
