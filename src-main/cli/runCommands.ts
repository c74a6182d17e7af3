import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { evaluateRun } from '../eval/evaluate';
import { loadRun as load, RunFolderError } from '../runtime/loadRun';
import { describeIoError } from '../document/documentFile';
import { CheckpointError } from '../runtime/runFolder';
import { args, BadInputError, intOpt, UsageError } from './args';
import type { Io } from './io';
import { imageGridPng, samplesCsv, scatterPng } from './plots';
import { formatMetrics } from './trainCommand';

/** opens a run folder, printing its warnings (e.g. a corrupt checkpoint skipped); a folder that is not a run is bad input (exit 2) */
async function loadRun(dir: string, opts: Parameters<typeof load>[1], io: Io) {
  let run: Awaited<ReturnType<typeof load>>;
  try {
    run = await load(dir, opts);
  } catch (e) {
    throw e instanceof RunFolderError || e instanceof CheckpointError ? new BadInputError(e.message) : e;
  }
  for (const w of run.warnings) io.err(`warning: ${w}`);
  return run;
}

/** writes --out; a place that cannot be written is bad input (exit 2), naming it and why */
async function writeOutput(file: string, bytes: string | Uint8Array): Promise<void> {
  try {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFile(file, bytes);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code && ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'EISDIR', 'ENOENT'].includes(code)) throw new BadInputError(`cannot write ${file}: ${describeIoError(e)}`);
    throw new Error(`cannot write ${file}: ${describeIoError(e)}`);
  }
}

export async function sampleCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { n: { type: 'string' }, out: { type: 'string' }, sampler: { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' } }, 1);
  const n = intOpt(values.n, 'n', 1000, { min: 1, max: 1_000_000 })!;
  if (!values.out) throw new UsageError('--out FILE is required (.csv, .json or .png)');
  const ext = path.extname(values.out).toLowerCase();
  if (!['.csv', '.json', '.png'].includes(ext)) throw new UsageError(`--out must end in .csv, .json or .png, got "${values.out}"`);
  const run = await loadRun(positionals[0]!, { backend: values.backend as never }, io);
  try {
    const samplers = run.program.samplers;
    if (!samplers.length) throw new UsageError('this graph has no sampler node');
    const sampler = values.sampler ?? samplers[0]!.nodeId;
    const info = samplers.find((s) => s.nodeId === sampler);
    if (!info) throw new UsageError(`no sampler "${sampler}"; the graph has ${samplers.map((s) => s.nodeId).join(', ')}`);
    const t0 = Date.now();
    const { data, shape } = run.trainer.sample(sampler, n, intOpt(values.seed, 'seed', 1));
    const dim = shape.slice(1).reduce((a, b) => a * b, 1);
    let bytes: string | Uint8Array;
    if (ext === '.csv') bytes = samplesCsv(data, dim);
    else if (ext === '.json') bytes = JSON.stringify({ sampler, step: run.step, shape, data: Array.from(data) });
    else if (dim === 784) bytes = imageGridPng(data.subarray(0, Math.min(n, 100) * 784), 28, 28);
    else {
      const feed = run.feeds.get(run.program.data[0]!.nodeId);
      bytes = scatterPng(data, dim, { reference: feed?.heldOut(Math.min(2000, n)) });
    }
    await writeOutput(values.out, bytes);
    io.err(`${n} samples from ${sampler} (step ${run.step}) in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${values.out}`);
    return 0;
  } finally {
    run.dispose();
  }
}

export async function evalCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { n: { type: 'string' }, json: { type: 'boolean' }, seed: { type: 'string' }, backend: { type: 'string' } }, 1);
  const n = intOpt(values.n, 'n', 2000, { min: 2, max: 1_000_000 });
  const run = await loadRun(positionals[0]!, { backend: values.backend as never }, io);
  try {
    const metrics = evaluateRun(run.trainer, run.program, run.feeds, { n, seed: intOpt(values.seed, 'seed', 12345) });
    if (values.json) io.out(JSON.stringify({ step: run.step, metrics }));
    else io.out(`${path.resolve(positionals[0]!)} at step ${run.step}:\n${formatMetrics(metrics)}`);
    return 0;
  } finally {
    run.dispose();
  }
}
