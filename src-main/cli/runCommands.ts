import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { evaluateRun } from '../eval/evaluate';
import { loadRun as load, RunFolderError } from '../runtime/loadRun';
import { args, BadInputError, intOpt, UsageError } from './args';
import type { Io } from './io';
import { imageGridPng, samplesCsv, scatterPng } from './plots';
import { formatMetrics } from './trainCommand';

/** opens a run folder; a folder that is not a run is bad input (exit 2) */
async function loadRun(dir: string, opts: Parameters<typeof load>[1]) {
  try {
    return await load(dir, opts);
  } catch (e) {
    throw e instanceof RunFolderError ? new BadInputError(e.message) : e;
  }
}

export async function sampleCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { n: { type: 'string' }, out: { type: 'string' }, sampler: { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' } }, 1);
  const n = intOpt(values.n, 'n', 1000)!;
  if (n < 1 || n > 1_000_000) throw new UsageError('--n must be between 1 and 1000000');
  if (!values.out) throw new UsageError('--out FILE is required (.csv, .json or .png)');
  const ext = path.extname(values.out).toLowerCase();
  if (!['.csv', '.json', '.png'].includes(ext)) throw new UsageError(`--out must end in .csv, .json or .png, got "${values.out}"`);
  const run = await loadRun(positionals[0]!, { backend: values.backend as never });
  try {
    const samplers = run.program.samplers;
    if (!samplers.length) throw new UsageError('this graph has no sampler node');
    const sampler = values.sampler ?? samplers[0]!.nodeId;
    const info = samplers.find((s) => s.nodeId === sampler);
    if (!info) throw new UsageError(`no sampler "${sampler}"; the graph has ${samplers.map((s) => s.nodeId).join(', ')}`);
    const t0 = Date.now();
    const { data, shape } = run.trainer.sample(sampler, n, intOpt(values.seed, 'seed', 1));
    const dim = shape.slice(1).reduce((a, b) => a * b, 1);
    await mkdir(path.dirname(path.resolve(values.out)), { recursive: true });
    if (ext === '.csv') await writeFile(values.out, samplesCsv(data, dim));
    else if (ext === '.json') await writeFile(values.out, JSON.stringify({ sampler, step: run.step, shape, data: Array.from(data) }));
    else if (dim === 784) await writeFile(values.out, imageGridPng(data.subarray(0, Math.min(n, 100) * 784), 28, 28));
    else {
      const feed = run.feeds.get(run.program.data[0]!.nodeId);
      await writeFile(values.out, scatterPng(data, dim, { reference: feed?.heldOut(Math.min(2000, n)) }));
    }
    io.err(`${n} samples from ${sampler} (step ${run.step}) in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${values.out}`);
    return 0;
  } finally {
    run.dispose();
  }
}

export async function evalCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { n: { type: 'string' }, json: { type: 'boolean' }, seed: { type: 'string' }, backend: { type: 'string' } }, 1);
  const run = await loadRun(positionals[0]!, { backend: values.backend as never });
  try {
    const metrics = evaluateRun(run.trainer, run.program, run.feeds, { n: intOpt(values.n, 'n', 2000), seed: intOpt(values.seed, 'seed', 12345) });
    if (values.json) io.out(JSON.stringify({ step: run.step, metrics }));
    else io.out(`${path.resolve(positionals[0]!)} at step ${run.step}:\n${formatMetrics(metrics)}`);
    return 0;
  } finally {
    run.dispose();
  }
}
