/**
 * Writes a graph as a PyTorch program folder:
 *   train.py             the program (emitProgram.ts)
 *   weights.safetensors  the initial weights of the graph for the seed (the trainer's own
 *                        initialisation, so a PyTorch run starts where a tfjs run would), or
 *                        a run's newest weights; node state, EMA shadows; large constants
 *   data.safetensors     the training rows of MNIST and CSV data nodes (toy sets are drawn in Python)
 *   graph.json           the document (copied into each run folder the program writes)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Program } from '../compile/compile';
import { createFeeds } from '../runtime/feeds';
import { encodeSafetensors, type TensorInput } from '../runtime/safetensors';
import { Trainer } from '../runtime/Trainer';
import { loadImportedWeights } from '../runtime/importedWeights';
import { scoped } from '../runtime/tfScope';
import { emitProgram, type EmittedProgram, type PersistentSpec } from './emitProgram';

export interface TorchExportOptions {
  name: string;
  genloom: string;
  seed: number;
  batchSize: number;
  steps: number;
  /** the document's text (graph.json) */
  documentText: string;
  /** start from these weights (a run's checkpoint) instead of the seed's initialisation */
  weights?: ReadonlyMap<string, { shape: number[]; data: Float32Array }>;
  warn?: (m: string) => void;
}

export interface TorchExport extends EmittedProgram {
  dir: string;
  files: string[];
}

/** the seed's initial weights of the program, imported networks' weights loaded (as a new run starts) */
export async function initialWeights(program: Program, seed: number, batchSize: number, warn: (m: string) => void = () => {}, persistent: readonly PersistentSpec[] = []): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const t = new Trainer(program, createFeeds(program, { seed }), { seed, batchSize });
  try {
    await scoped(() => loadImportedWeights(t, warn));
    // state a node declares in apply rather than build exists once the trainer first runs it
    for (const p of persistent) if (!t.store.vars.has(p.name) && p.init.kind !== 'imported') await scoped(() => t.store.state(p.name, p.shape, p.init));
    return t.store.snapshot();
  } finally {
    t.dispose();
  }
}

export async function exportTorch(program: Program, dir: string, opts: TorchExportOptions): Promise<TorchExport> {
  const emitted = emitProgram(program, opts);
  const weights = new Map<string, TensorInput>();
  let init = opts.weights ?? (await initialWeights(program, opts.seed, opts.batchSize, opts.warn, emitted.persistent));
  const missing = emitted.persistent.filter((p) => !init.has(p.name));
  if (missing.length) init = new Map([...init, ...[...(await initialWeights(program, opts.seed, opts.batchSize, opts.warn, missing))].filter(([k]) => !init.has(k))]);
  for (const p of program.params) {
    const v = init.get(p.name);
    if (!v) throw new Error(`the weights have no tensor "${p.name}"`);
    weights.set(p.name, { shape: v.shape, data: v.data });
  }
  for (const { name } of emitted.persistent) {
    const v = init.get(name);
    if (!v) throw new Error(`the weights have no tensor "${name}"`);
    weights.set(name, { shape: v.shape, data: v.data });
  }
  for (const c of emitted.constants) weights.set(`const/${c.key}`, { shape: c.shape, data: c.data });
  await mkdir(dir, { recursive: true });
  const files = ['train.py', 'weights.safetensors', 'graph.json'];
  await writeFile(join(dir, 'train.py'), emitted.source, { mode: 0o755 });
  await writeFile(join(dir, 'weights.safetensors'), encodeSafetensors(weights, { genloom: opts.genloom, seed: String(opts.seed) }));
  await writeFile(join(dir, 'graph.json'), opts.documentText);
  const tables = new Map<string, TensorInput>();
  const feeds = program.data.some((d) => d.dataset === 'csv' || d.dataset.startsWith('mnist')) ? createFeeds(program, { seed: opts.seed }) : new Map();
  for (const d of program.data) {
    const rows = feeds.get(d.nodeId)?.trainRows;
    if (rows) tables.set(d.nodeId, { shape: [rows.length / d.dim, d.dim], data: rows });
  }
  if (tables.size) {
    await writeFile(join(dir, 'data.safetensors'), encodeSafetensors(tables));
    files.push('data.safetensors');
  }
  return { ...emitted, dir, files };
}
