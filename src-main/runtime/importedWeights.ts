/**
 * The weights of the trained networks a graph brings in from other graphs (a
 * distillation's teacher, an imported network node): read from the newest checkpoint of the run
 * folder each names and copied into the trainer, once, before a new run's first round. A
 * resumed run has them in its own checkpoints already.
 */
import * as tf from '@tensorflow/tfjs';
import type { Init } from '../../nodes/core/ops';
import { readLatestCheckpoint, type TensorMap } from './runFolder';
import type { Trainer } from './Trainer';

export class ImportedWeightsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportedWeightsError';
  }
}

type Imported = Extract<Init, { kind: 'imported' }>;

/** the imported params of t's program, by the run folder they come from */
export function importedSources(t: Trainer): Map<string, { name: string; shape: number[]; init: Imported }[]> {
  const bySource = new Map<string, { name: string; shape: number[]; init: Imported }[]>();
  for (const p of t.program.params) {
    if (p.init.kind !== 'imported') continue;
    const list = bySource.get(p.init.source) ?? [];
    list.push({ name: p.name, shape: p.shape, init: p.init });
    bySource.set(p.init.source, list);
  }
  return bySource;
}

/** the node importing `name` and the graph it imports from (`template:NAME` for a bundled template) */
export const ownerOf = (t: Trainer, name: string) => {
  const nodeId = name.split('/')[0]!;
  return { nodeId, graph: t.program.graph.nodes.get(nodeId)?.external?.ref.graph ?? 'its graph' };
};

/** copies the imported weights of t that come from the run `source` out of `weights` (that run's checkpoint) */
export function importWeights(t: Trainer, source: string, weights: TensorMap): void {
  for (const p of importedSources(t).get(source) ?? []) {
    const { nodeId, graph } = ownerOf(t, p.name);
    const src = weights.get(p.init.name);
    if (!src) throw new ImportedWeightsError(`${nodeId}: the run ${source} has no weight "${p.init.name}": it was trained from a different document than ${graph}`);
    if (src.shape.join() !== p.shape.join()) {
      throw new ImportedWeightsError(
        `${nodeId}: the weight "${p.init.name}" of the run ${source} has shape [${src.shape.join(', ')}], ${graph} declares [${p.shape.join(', ')}]: the run was trained from a different version of the document`,
      );
    }
    const v = t.store.vars.get(p.name)!;
    tf.tidy(() => v.assign(tf.tensor(src.data, src.shape)));
    t.importsPending.delete(p.name);
  }
}

/** copies every imported weight of t's program from its source run; throws ImportedWeightsError naming the node */
export async function loadImportedWeights(t: Trainer, warn: (m: string) => void = () => {}): Promise<void> {
  for (const [source, params] of importedSources(t)) {
    const { nodeId, graph } = ownerOf(t, params[0]!.name);
    let ckpt: Awaited<ReturnType<typeof readLatestCheckpoint>>;
    try {
      ckpt = await readLatestCheckpoint(source);
    } catch (e) {
      const shown = graph.replace(/^template:/, '');
      throw new ImportedWeightsError(
        `${nodeId}: the trained network comes from the run ${source}, which cannot be read (${(e as Error).message}); train the teacher first: genloom train ${shown} --out ${source}`,
      );
    }
    for (const w of ckpt.warnings) warn(`${nodeId}: ${w}`);
    importWeights(t, source, ckpt.weights);
    warn(`${nodeId}: the trained network of ${graph} loaded from ${source} (step ${ckpt.step})`);
  }
}
