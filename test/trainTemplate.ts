/** Trains a template in-process for tests: optional param overrides per node, fixed seed. */
import { registry } from '../nodes/index';
import { compile, type Program } from '../src-main/compile/compile';
import { validateGraph } from '../src-main/graph/validate';
import { createFeeds, type Feed } from '../src-main/runtime/feeds';
import { Trainer } from '../src-main/runtime/Trainer';
import { readTemplate } from '../src-main/document/templates';
import { fileExternalResolver } from '../src-main/compile/readGraphFile';
import { importedSources, importWeights } from '../src-main/runtime/importedWeights';
import type { TensorMap } from '../src-main/runtime/runFolder';

export function loadTemplate(name: string, overrides: Record<string, Record<string, unknown>> = {}) {
  const doc = readTemplate(name) as any;
  for (const [id, params] of Object.entries(overrides)) {
    const n = doc.nodes.find((x: { id: string }) => x.id === id);
    if (!n) throw new Error(`template ${name} has no node ${id}`);
    Object.assign(n.params, params);
  }
  return doc;
}

export function trainTemplate(
  name: string,
  /** teacher: the weights (a trained run's snapshot) of every network.imported node */
  opts: { steps: number; seed?: number; batchSize?: number; overrides?: Record<string, Record<string, unknown>>; teacher?: TensorMap },
): { trainer: Trainer; program: Program; feeds: Map<string, Feed>; doc: any } {
  const doc = loadTemplate(name, opts.overrides);
  const program = compile(validateGraph(doc, registry, { resolveExternal: fileExternalResolver(registry) }));
  const seed = opts.seed ?? 0;
  const feeds = createFeeds(program, { seed });
  const trainer = new Trainer(program, feeds, { seed, batchSize: opts.batchSize ?? doc.meta.training.batchSize });
  if (opts.teacher) for (const source of importedSources(trainer).keys()) importWeights(trainer, source, opts.teacher);
  for (let i = 0; i < opts.steps; i++) trainer.round(false);
  return { trainer, program, feeds, doc };
}
