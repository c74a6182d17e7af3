/**
 * The PyTorch backend on the command line:
 *   genloom export-torch FILE_OR_RUN --out DIR   writes train.py and its data (src-main/torch/)
 *   genloom train FILE --backend torch [--device cpu|cuda] [--nproc N]
 *   genloom resume DIR --backend torch           (the backend a run was started with is kept)
 * Training writes the program into RUN/torch/ and runs it as a child process (torchrun for
 * --nproc > 1), showing its progress as the tfjs trainer's; Ctrl-C asks it to checkpoint
 * and stop. The run folder it writes is an ordinary Genloom run: sample, eval and export
 * read it, and the held-out evaluation runs on it when training ends.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Program } from '../compile/compile';
import { serializeDocument } from '../document/serializeDocument';
import type { GraphDocument } from '../document/schema';
import { evaluateRun } from '../eval/evaluate';
import { initBackend } from '../runtime/backend';
import { loadRun } from '../runtime/loadRun';
import { genloomVersion, readLatestCheckpoint } from '../runtime/runFolder';
import { DEFAULT_BATCH_SIZE } from '../runtime/trainSetup';
import { exportTorch } from '../torch/exportTorch';
import { findTorchPython } from '../torch/parity';
import { args, BadInputError, intOpt, UsageError } from './args';
import { compileOrExplain, readGraphFile } from './graphCommands';
import type { Io } from './io';
import { formatLosses, formatMetrics } from './trainCommand';

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

export interface TorchTrainOptions {
  /** a new run: the document and where it comes from; resuming: undefined */
  file?: string;
  runDir: string;
  steps?: number;
  seed?: number;
  batchSize?: number;
  device: string;
  nproc: number;
  checkpointEvery?: number;
  json: boolean;
  resume: boolean;
}

/** python3 line events of train.py */
type PyEvent = { type: string; step?: number; totalSteps?: number; losses?: Record<string, Record<string, number>>; stepsPerSec?: number; etaSec?: number; message?: string; code?: string; backend?: string; device?: string; torch?: string; stopped?: boolean };

export async function trainWithTorch(o: TorchTrainOptions, io: Io): Promise<number> {
  const found = await findTorchPython();
  if ('error' in found) throw new BadInputError(`--backend torch: ${found.error}`);
  if (!Number.isInteger(o.nproc) || o.nproc < 1) throw new UsageError(`--nproc must be a positive integer, got ${o.nproc}`);
  const programDir = path.join(o.runDir, 'torch');
  let src: Source;
  let steps: number;
  if (o.resume) {
    src = await sourceOf(o.runDir, {});
    const cfg = await readFile(path.join(o.runDir, 'config.json'), 'utf8').then((t) => JSON.parse(t) as { steps?: number }, () => ({}) as { steps?: number });
    steps = o.steps ?? cfg.steps ?? 2000;
  } else {
    src = await sourceOf(o.file!, { seed: o.seed, batchSize: o.batchSize });
    steps = o.steps ?? (src.doc.meta as { training?: { steps?: number } }).training?.steps ?? 2000;
  }
  if (src.batchSize % o.nproc) throw new UsageError(`batch size ${src.batchSize} does not split over ${o.nproc} processes`);
  // written again on every start, so the program is always this version's (a resumed run reads its weights from the checkpoint)
  const r = await exportTorch(src.program, programDir, {
    name: src.name,
    genloom: genloomVersion(),
    seed: src.seed,
    batchSize: src.batchSize,
    steps,
    documentText: serializeDocument(src.doc),
    ...(src.weights && { weights: src.weights }),
    warn: (m) => io.err(`warning: ${m}`),
  });
  const script = path.join(programDir, 'train.py');
  const pyArgs = [script, '--out', o.runDir, '--steps', String(steps), '--device', o.device, '--seed', String(src.seed), '--batch', String(src.batchSize), '--json', ...(o.checkpointEvery ? ['--checkpoint-every', String(o.checkpointEvery)] : []), ...(o.resume ? ['--resume'] : [])];
  const torchrun = found.python === '/usr/bin/python3' ? '/usr/bin/torchrun' : 'torchrun';
  const [cmd, argv] =
    o.nproc > 1
      ? [torchrun, ['--standalone', '--nnodes=1', `--nproc_per_node=${o.nproc}`, '--redirects', '1', '--tee', '1', '--log_dir', path.join(programDir, 'logs'), ...pyArgs]]
      : [found.python, pyArgs];
  if (!o.json) io.err(`training ${o.runDir}\nbackend: PyTorch ${found.torch} (${found.python}), device ${o.device}${o.nproc > 1 ? `, ${o.nproc} processes (torchrun)` : ''}; program ${script}`);
  for (const s of r.skippedSamplers) io.err(`warning: sampler ${s.nodeId} is not in the PyTorch program (${s.reason}); it still samples from the run with genloom sample`);

  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  const bar =
    !o.json && io.isTTY
      ? new cliProgress.SingleBar({ format: '{bar} {percentage}% | step {value}/{total} | {rate} steps/s | {losses}', hideCursor: true, barsize: 24, stream: process.stderr }, cliProgress.Presets.shades_classic)
      : undefined;
  let lastPlain = 0;
  let error: PyEvent | undefined;
  let done: PyEvent | undefined;
  let stderrTail = '';
  const onSigint = () => {
    io.err('\nstopping (a checkpoint is written first)...');
    child.kill('SIGINT');
  };
  process.once('SIGINT', onSigint);
  const onLine = (line: string) => {
    // torchrun prefixes the lines of its processes ("[default0]:")
    const text = line.replace(/^\[default\d+\]:/, '').trim();
    if (!text.startsWith('{')) return;
    let e: PyEvent;
    try {
      e = JSON.parse(text) as PyEvent;
    } catch {
      return;
    }
    if (o.json) io.out(JSON.stringify(e));
    if (e.type === 'error') error = e;
    else if (e.type === 'done') done = e;
    else if (e.type === 'started' && !o.json) bar?.start(e.totalSteps ?? steps, e.step ?? 0, { rate: '-', losses: '' });
    else if (e.type === 'step' && !o.json) {
      if (bar) bar.update(e.step ?? 0, { rate: (e.stepsPerSec ?? 0).toFixed(1), losses: formatLosses(e.losses ?? {}) });
      else if (Date.now() - lastPlain > 2000 || e.step === e.totalSteps) {
        lastPlain = Date.now();
        io.err(`step ${e.step}/${e.totalSteps} | ${(e.stepsPerSec ?? 0).toFixed(1)} steps/s | ${formatLosses(e.losses ?? {})}`);
      }
    }
  };
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let k: number;
    while ((k = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, k));
      buf = buf.slice(k + 1);
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-4000);
  });
  const code = await new Promise<number | string>((resolve) => {
    child.on('error', (e) => resolve(`could not start ${cmd}: ${e.message}`));
    child.on('close', (c, sig) => resolve(c ?? `killed by ${sig}`));
  });
  process.removeListener('SIGINT', onSigint);
  if (buf) onLine(buf);
  bar?.stop();
  const last = await readLatestCheckpoint(o.runDir).then((c) => `step ${c.step} (${c.dir})`, () => 'none yet');
  if (code !== 0) {
    const why = error?.message ?? (typeof code === 'string' ? code : `the PyTorch process exited with code ${code}: ${stderrTail.trim().split('\n').slice(-1)[0] ?? ''}`);
    io.err(`training failed: ${why}\nthe last good checkpoint is kept: ${last}${last !== 'none yet' ? `\ncontinue it with: genloom resume ${o.runDir} --backend torch` : ''}`);
    return error?.code === 'non-finite-loss' || code === 3 ? 1 : code === 2 ? 2 : 1;
  }
  if (done?.stopped) {
    io.err(`stopped at step ${done.step}; resume with: genloom resume ${o.runDir} --backend torch`);
    return 0;
  }
  // the run is an ordinary run folder: its held-out evaluation runs here, on tfjs
  const run = await loadRun(o.runDir, {});
  try {
    const metrics = evaluateRun(run.trainer, run.program, run.feeds, { n: 2000, seed: 12345 });
    if (o.json) io.out(JSON.stringify({ type: 'metrics', step: run.step, metrics }));
    else io.out(`metrics at step ${run.step} (held-out):\n${formatMetrics(metrics)}`);
  } finally {
    run.dispose();
  }
  if (!o.json) io.err(`done: ${done?.step ?? steps} steps; run folder ${o.runDir}`);
  return 0;
}
