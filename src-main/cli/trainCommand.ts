import { existsSync } from 'node:fs';
import { readFile, rmdir } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { BACKENDS, type BackendName } from '../runtime/backend';
import { TrainRequest, type TrainEvent, type TrainRequestInput } from '../api/trainingProtocol';
import type { Program } from '../compile/compile';
import { programToWire } from '../compile/programWire';
import { formatDiagnostics } from '../graph/diagnostics';
import { checkCsvDatasets } from '../runtime/feeds';
import { ensureWritableDir, RunDirError } from '../runtime/runFolder';
import { startTraining } from '../session/TrainingSession';
import { args, intOpt, UsageError } from './args';
import { BadInputError, compileOrExplain, readGraphFile } from './graphCommands';
import type { Io } from './io';

/** the ranges of the training options (those of the TrainRequest schema) */
const RANGES = {
  steps: { min: 1, max: 10_000_000 },
  'batch-size': { min: 1, max: 65_536 },
  'checkpoint-every': { min: 1 },
  'sample-every': { min: 1 },
} as const;

/** the run folder exists and can be written, or bad input (exit 2) naming it and why */
async function writableRunDir(runDir: string): Promise<void> {
  try {
    await ensureWritableDir(runDir);
  } catch (e) {
    throw e instanceof RunDirError ? new BadInputError(e.message) : e;
  }
}

/** the CSV files of a program read and checked before a run: errors are bad input (exit 2), warnings printed */
function checkDatasets(program: Pick<Program, 'data'>, file: string, io: Io): void {
  const problems = checkCsvDatasets(program);
  const errors = problems.filter((d) => d.severity === 'error');
  if (errors.length) throw new BadInputError(`${file}: the data cannot be used:\n${formatDiagnostics(errors, '  ').join('\n')}`);
  for (const d of problems) io.err(`warning: ${d.nodeId ? `${d.nodeId}: ` : ''}${d.message}`);
}

/** a request the training host would refuse, as bad usage naming what is wrong */
function checkRequest(request: TrainRequestInput, from: string): void {
  const r = TrainRequest.safeParse(request);
  if (!r.success) throw new BadInputError(`${from}: ${r.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ')}`);
}

const fmtNum = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3));
const fmtTime = (s: number) => (!Number.isFinite(s) ? '?' : s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s` : `${Math.round(s)}s`);

export function formatLosses(losses: Record<string, Record<string, number>>): string {
  return Object.entries(losses)
    .map(([obj, terms]) => {
      const extra = Object.entries(terms).filter(([k]) => k !== 'loss');
      const shown = extra.length > 1 ? extra : [['loss', terms.loss!] as const];
      return `${obj}: ${shown.map(([k, v]) => `${k} ${fmtNum(v)}`).join(' ')}`;
    })
    .join(' | ');
}

export function formatMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `  ${k.padEnd(28)} ${Number.isInteger(v) ? v : v.toPrecision(4)}`)
    .join('\n');
}

function backendOpt(v: string | undefined): BackendName | 'torch' | undefined {
  if (v === undefined) return undefined;
  if (v !== 'torch' && !(BACKENDS as readonly string[]).includes(v)) throw new UsageError(`--backend must be one of ${[...BACKENDS, 'torch'].join(', ')}, got "${v}"`);
  return v as BackendName | 'torch';
}

/** --backend torch: a python3 with torch, or bad input saying what is missing */
async function checkTorch(backend: string | undefined): Promise<void> {
  if (backend !== 'torch') return;
  const { findTorchPython } = await import('../torch/python');
  const found = await findTorchPython();
  if ('error' in found) throw new BadInputError(`--backend torch: ${found.error}`);
}

/** the options only the PyTorch backend takes */
function torchOnly(values: { device?: string; nproc?: string }, backend: string | undefined): { device: string; nproc: number } {
  if (backend !== 'torch' && (values.device !== undefined || values.nproc !== undefined)) throw new UsageError('--device and --nproc are options of --backend torch');
  const device = values.device ?? 'cpu';
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`--device must be cpu, cuda or cuda:N, got "${device}"`);
  return { device, nproc: intOpt(values.nproc, 'nproc', 1, { min: 1, max: 1024 })! };
}

const TRAIN_OPTIONS = {
  steps: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  'batch-size': { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  'checkpoint-every': { type: 'string' },
  'sample-every': { type: 'string' },
  device: { type: 'string' },
  nproc: { type: 'string' },
} as const;

export async function trainCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, TRAIN_OPTIONS, 1);
  // the options first: a typo there is reported before any file is read
  const steps = intOpt(values.steps, 'steps', undefined, RANGES.steps);
  const seed = intOpt(values.seed, 'seed', 0)!;
  const backend = backendOpt(values.backend);
  const batchSize = intOpt(values['batch-size'], 'batch-size', undefined, RANGES['batch-size']);
  const checkpointEvery = intOpt(values['checkpoint-every'], 'checkpoint-every', undefined, RANGES['checkpoint-every']);
  const sampleEvery = intOpt(values['sample-every'], 'sample-every', undefined, RANGES['sample-every']);
  const torch = torchOnly(values, backend);
  const file = positionals[0]!;
  const doc = await readGraphFile(file);
  const { program } = compileOrExplain(doc, file);
  const training = (doc.meta as { training?: { steps?: number } } | undefined)?.training;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const runDir = path.resolve(values.out ?? path.join('runs', `${path.basename(file).replace(/\.json$/, '')}-${stamp}`));
  const request: TrainRequestInput = {
    doc,
    // compiled here once: the worker takes the program as it is
    program: programToWire(program),
    runDir,
    steps: steps ?? training?.steps ?? 2000,
    seed,
    backend,
    batchSize,
    checkpointEvery,
    sampleEvery,
    ...(backend === 'torch' && torch),
  };
  checkRequest(request, `${file} (meta.training)`);
  checkDatasets(program, file, io);
  await checkTorch(backend);
  const existed = existsSync(request.runDir);
  await writableRunDir(request.runDir);
  const code = await follow(request, io, Boolean(values.json));
  // a run refused before it wrote anything (a teacher run missing, say) leaves no empty folder behind
  if (code !== 0 && !existed) await rmdir(request.runDir).catch(() => {});
  return code;
}

/** a run folder's config.json (the request it was started with); bad input naming it when it is broken */
async function readRunConfig(runDir: string, io: Io): Promise<Partial<TrainRequestInput>> {
  const file = path.join(runDir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw new BadInputError(`cannot read ${file}: ${(e as Error).message}`);
    io.err(`warning: ${file} is missing; the run's seed and batch size come from its checkpoint, the other settings are the defaults`);
    return {};
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new BadInputError(`${file} is not valid JSON (${(e as Error).message}); it holds the settings of the run: repair it, or delete it to resume with the defaults`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new BadInputError(`${file} does not hold the settings of a run (expected a JSON object)`);
  return config as Partial<TrainRequestInput>;
}

export async function resumeCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { steps: TRAIN_OPTIONS.steps, json: TRAIN_OPTIONS.json, backend: TRAIN_OPTIONS.backend, device: TRAIN_OPTIONS.device, nproc: TRAIN_OPTIONS.nproc }, 1);
  const steps = intOpt(values.steps, 'steps', undefined, RANGES.steps);
  const runDir = path.resolve(positionals[0]!);
  if (!existsSync(path.join(runDir, 'graph.json'))) throw new BadInputError(`${runDir} is not a run folder (no graph.json)`);
  const doc = await readGraphFile(path.join(runDir, 'graph.json'));
  const config = await readRunConfig(runDir, io);
  // a run keeps the backend it was started with unless another is asked for
  const started = config as { backend?: unknown; device?: string; processes?: number };
  const backend = backendOpt(values.backend ?? (started.backend === 'torch' ? 'torch' : undefined));
  const torch = torchOnly({ device: values.device ?? (backend === 'torch' ? started.device : undefined), nproc: values.nproc ?? (backend === 'torch' && started.processes ? String(started.processes) : undefined) }, backend);
  const request: TrainRequestInput = {
    ...config,
    doc,
    runDir,
    steps: steps ?? config.steps ?? 2000,
    backend: backend ?? undefined,
    resume: true,
    ...(backend === 'torch' && torch),
  };
  checkRequest(request, path.join(runDir, 'config.json'));
  await checkTorch(backend);
  const { program } = compileOrExplain(doc, path.join(runDir, 'graph.json'));
  checkDatasets(program, path.join(runDir, 'graph.json'), io);
  await writableRunDir(runDir);
  return follow(request, io, Boolean(values.json));
}

/** runs a training session, showing progress, until it stops; Ctrl-C stops it cleanly */
async function follow(request: TrainRequestInput, io: Io, json: boolean): Promise<number> {
  const session = startTraining(request);
  const bar =
    !json && io.isTTY
      ? new cliProgress.SingleBar(
          { format: '{bar} {percentage}% | step {value}/{total} | {rate} steps/s | ETA {eta_h} | {losses}', hideCursor: true, barsize: 24, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  let lastPlain = 0;
  const onSigint = () => {
    io.err('\nstopping (a checkpoint is written first)...');
    session.stop();
  };
  process.once('SIGINT', onSigint);
  session.on((e: TrainEvent) => {
    if (json) {
      io.out(JSON.stringify(e.type === 'samples' ? { ...e, data: undefined, count: e.shape[0] } : e));
      return;
    }
    switch (e.type) {
      case 'started':
        io.err(`training ${request.runDir}\nbackend: ${e.backend}${e.step ? ` (resuming at step ${e.step})` : ''}`);
        bar?.start(e.totalSteps, e.step, { rate: '-', eta_h: '?', losses: '' });
        break;
      case 'step':
        if (bar) bar.update(e.step, { rate: e.stepsPerSec.toFixed(1), eta_h: fmtTime(e.etaSec), losses: formatLosses(e.losses) });
        else if (Date.now() - lastPlain > 2000 || e.step === e.totalSteps) {
          lastPlain = Date.now();
          io.err(`step ${e.step}/${e.totalSteps} | ${e.stepsPerSec.toFixed(1)} steps/s | ETA ${fmtTime(e.etaSec)} | ${formatLosses(e.losses)}`);
        }
        break;
      case 'warning':
        bar ? bar.stop() : undefined;
        io.err(`warning: ${e.message}`);
        break;
      case 'metrics':
        bar?.stop();
        io.out(`metrics at step ${e.step} (held-out):\n${formatMetrics(e.metrics)}`);
        break;
      default:
        break;
    }
  });
  const end = await session.done;
  process.removeListener('SIGINT', onSigint);
  bar?.stop();
  if (json) return end.reason === 'done' || end.reason === 'user' ? 0 : 1;
  switch (end.reason) {
    case 'done':
      io.err(`done: ${end.step} steps; run folder ${request.runDir}`);
      return 0;
    case 'user':
      io.err(`stopped at step ${end.step}; resume with: genloom resume ${request.runDir}`);
      return 0;
    case 'non-finite':
      io.err(`stopped: ${end.message ?? 'non-finite values'}${end.nodeId ? ` (objective ${end.nodeId})` : ''}\nthe last good checkpoint is kept: ${end.checkpoint ?? 'none yet'}`);
      return 1;
    default:
      io.err(`training failed: ${end.message ?? 'unknown error'}`);
      if (end.checkpoint) io.err(`the last good checkpoint is kept: ${end.checkpoint}\ncontinue it (once the folder can be written) with: genloom resume ${request.runDir}`);
      return 1;
  }
}
