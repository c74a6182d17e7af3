/**
 * `genloom export-torch FILE_OR_RUN --out DIR`: the graph as a PyTorch program (train.py
 * and its data, src-main/torch/), for a machine with PyTorch but without Genloom. Training
 * on PyTorch from Genloom (`train --backend torch`) is a session like any other
 * (session/torchSession.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Program } from '../compile/compile';
import { serializeDocument } from '../document/serializeDocument';
import type { GraphDocument } from '../document/schema';
import { initBackend } from '../runtime/backend';
import { genloomVersion, readLatestCheckpoint } from '../runtime/runFolder';
import { DEFAULT_BATCH_SIZE } from '../runtime/trainSetup';
import { exportTorch } from '../torch/exportTorch';
import { args, BadInputError, intOpt, UsageError } from './args';
import { compileOrExplain, readGraphFile } from './graphCommands';
import type { Io } from './io';

export const EXPORT_TORCH_USAGE = `usage: genloom export-torch FILE_OR_RUN --out DIR [--seed S] [--batch-size B] [--steps N]

  FILE_OR_RUN   a graph document (or a bundled template's name): the program starts from
                the seed's initial weights; a run folder: from its newest checkpoint
  --out DIR     where train.py, weights.safetensors, graph.json (and data.safetensors) go`;

interface Source {
  doc: GraphDocument;
  program: Program;
  name: string;
  seed: number;
  batchSize: number;
  weights?: Map<string, { shape: number[]; data: Float32Array }>;
}

async function sourceOf(fileOrRun: string, opts: { seed?: number; batchSize?: number }): Promise<Source> {
  await initBackend(); // the initial weights come from the tfjs trainer's initialisation
  const isRun = existsSync(path.join(fileOrRun, 'graph.json')) && existsSync(path.join(fileOrRun, 'checkpoints'));
  const file = isRun ? path.join(fileOrRun, 'graph.json') : fileOrRun;
  const doc = await readGraphFile(file);
  const { program } = compileOrExplain(doc, file);
  const training = (doc.meta as { training?: { batchSize?: number } } | undefined)?.training;
  const name = (isRun ? path.basename(path.resolve(fileOrRun)) : path.basename(fileOrRun).replace(/\.json$/, '')).replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!isRun) return { doc, program, name, seed: opts.seed ?? 0, batchSize: opts.batchSize ?? training?.batchSize ?? DEFAULT_BATCH_SIZE };
  let ck: Awaited<ReturnType<typeof readLatestCheckpoint>>;
  try {
    ck = await readLatestCheckpoint(fileOrRun);
  } catch (e) {
    throw new BadInputError((e as Error).message);
  }
  return { doc, program, name, seed: opts.seed ?? ck.state.seed, batchSize: opts.batchSize ?? ck.state.batchSize, weights: ck.weights };
}

export async function exportTorchCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help')) {
    io.out(EXPORT_TORCH_USAGE);
    return 0;
  }
  const { values, positionals } = args(argv, { out: { type: 'string' }, seed: { type: 'string' }, 'batch-size': { type: 'string' }, steps: { type: 'string' } }, 1);
  if (!values.out) throw new UsageError(`--out DIR is required\n${EXPORT_TORCH_USAGE}`);
  const seed = intOpt(values.seed, 'seed');
  const batchSize = intOpt(values['batch-size'], 'batch-size', undefined, { min: 1, max: 65_536 });
  const src = await sourceOf(positionals[0]!, { seed, batchSize });
  const steps = intOpt(values.steps, 'steps', (src.doc.meta as { training?: { steps?: number } }).training?.steps ?? 2000, { min: 1 })!;
  const out = path.resolve(values.out);
  const r = await exportTorch(src.program, out, {
    name: src.name,
    genloom: genloomVersion(),
    seed: src.seed,
    batchSize: src.batchSize,
    steps,
    documentText: serializeDocument(src.doc),
    ...(src.weights && { weights: src.weights }),
    warn: (m) => io.err(`warning: ${m}`),
  });
  for (const s of r.skippedSamplers) io.err(`warning: sampler ${s.nodeId} is not in the program: ${s.reason}`);
  io.out(`wrote ${r.files.map((f) => path.join(out, f)).join(', ')}`);
  io.out(`train: python3 ${path.join(out, 'train.py')} --steps ${steps} --device cpu --out RUN`);
  io.out(`       torchrun --standalone --nproc_per_node 2 ${path.join(out, 'train.py')} --steps ${steps} --out RUN`);
  return 0;
}
