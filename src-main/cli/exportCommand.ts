/**
 * `genloom export RUN_DIR --target KIND[:NODE] [--steps N] [--noise internal|inputs] --out FILE.onnx`
 *
 * Exports a trained run as ONNX, then proves the file equal to the trained graph: the
 * model run by onnxruntime-node against the graph on tfjs, same inputs and noise
 * (tolerance 1e-4), and the official ONNX checker where python3-onnx is installed.
 * Writes FILE.onnx and FILE.parity.json, prints a readable summary (--json: the report).
 * Exit codes: 0 ok, 1 failure (export, parity or checker), 2 bad usage or bad input (not a
 * run folder, a target the model does not have).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Program } from '../compile/compile';
import { loadProgram } from '../compile/loadProgram';
import { runOnnxChecker, type CheckerResult } from '../export/checker';
import { ExportError, exportOnnx, formatParityReport, listTargets, parityCheck, TARGET_KINDS, type TargetParityReport } from '../export/exportModel';
import { BACKENDS, initBackend, type BackendName } from '../runtime/backend';
import { readLatestCheckpoint, readMetrics, readRunGraph } from '../runtime/runFolder';

import type { Io } from './io';

export type CommandIo = Pick<Io, 'out' | 'err'>;

export const EXPORT_USAGE = `usage: genloom export RUN_DIR --target KIND[:NODE] --out FILE.onnx [options]

  --target KIND[:NODE]   what to export: ${TARGET_KINDS.join(', ')} (decoder = generator);
                         add :NODE to pick one node, e.g. sampler:ddim
  --node ID              the same as --target KIND:ID
  --out FILE.onnx        where to write the model (FILE.parity.json gets the report)
  --noise internal|inputs
                         internal (default): random numbers drawn inside the model;
                         inputs: every draw is a model input (for verification)
  --steps N              sampler steps (DDIM and other samplers with a steps setting)
  --n N                  rows used by the parity check (default 32)
  --backend B            tfjs backend of the parity check: tensorflow, wasm or cpu
  --no-parity            skip the parity check
  --no-check             skip the ONNX checker
  --list                 list the targets of the run and exit
  --json                 print the report as one JSON object`;

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

const BOOLEAN_FLAGS = new Set(['no-parity', 'no-check', 'list', 'help', 'json']);

export function parseArgs(argv: readonly string[], known: ReadonlySet<string>, booleans: ReadonlySet<string>): Parsed | string {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (!known.has(name)) return `unknown option --${name}`;
    if (booleans.has(name)) {
      if (eq >= 0) return `--${name} takes no value`;
      flags.set(name, true);
      continue;
    }
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) return `--${name} needs a value`;
    flags.set(name, value);
  }
  return { positional, flags };
}

function positiveInt(v: string | true | undefined, name: string): number | string | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < 1) return `--${name} must be a positive integer, got "${String(v)}"`;
  return n;
}

/** reads a run folder's graph into a Program */
export async function loadRunProgram(runDir: string): Promise<{ program: Program; doc: unknown } | { error: string }> {
  if (!existsSync(join(runDir, 'graph.json'))) return { error: `${runDir} is not a run folder (no graph.json)` };
  let raw: unknown;
  try {
    raw = await readRunGraph(runDir);
  } catch (e) {
    return { error: (e as Error).message };
  }
  const loaded = loadProgram(raw, { fileName: `${runDir}/graph.json` });
  if (!loaded.ok) return { error: loaded.stage === 'document' ? loaded.message : `the run's ${loaded.message.replace(/^the /, '')}` };
  return { program: loaded.program, doc: loaded.doc };
}

/** the metrics at export time: the last evaluation line, plus the checkpoint's losses */
async function metricsAt(runDir: string, losses: Record<string, Record<string, number>> | undefined): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [obj, terms] of Object.entries(losses ?? {})) for (const [k, v] of Object.entries(terms)) out[`loss.${obj}.${k}`] = v;
  const lines = await readMetrics(runDir);
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (l.type === 'metrics') {
      for (const [k, v] of Object.entries(l.metrics)) out[k] = v;
      out['metrics.step'] = l.step;
      break;
    }
  }
  return out;
}

export function reportPath(outFile: string): string {
  return outFile.endsWith('.onnx') ? `${outFile.slice(0, -5)}.parity.json` : `${outFile}.parity.json`;
}

export async function exportCommand(argv: string[], io: CommandIo): Promise<number> {
  const p = parseArgs(argv, new Set(['target', 'node', 'out', 'noise', 'steps', 'n', 'backend', ...BOOLEAN_FLAGS]), BOOLEAN_FLAGS);
  const usage = (msg: string) => {
    io.err(`genloom export: ${msg}\n${EXPORT_USAGE}`);
    return 2;
  };
  if (typeof p === 'string') return usage(p);
  if (p.flags.has('help')) {
    io.out(EXPORT_USAGE);
    return 0;
  }
  if (p.positional.length !== 1) return usage(p.positional.length ? `one run folder expected, got ${p.positional.join(' ')}` : 'the run folder is missing');
  const runDir = resolve(p.positional[0]!);
  const list = p.flags.has('list');
  const node = p.flags.get('node');
  let target = p.flags.get('target');
  if (typeof node === 'string') {
    if (typeof target !== 'string') return usage('--node needs --target KIND');
    if (target.includes(':')) return usage('give the node either as --target KIND:NODE or with --node, not both');
    target = `${target}:${node}`;
  }
  const out = p.flags.get('out');
  const json = p.flags.has('json');
  const say = (s: string) => {
    if (!json) io.out(s);
  };
  const noise = p.flags.get('noise') ?? 'internal';
  if (!list && typeof target !== 'string') return usage('--target is required');
  if (!list && typeof out !== 'string') return usage('--out FILE.onnx is required');
  if (noise !== 'internal' && noise !== 'inputs') return usage(`--noise must be internal or inputs, got "${String(noise)}"`);
  const steps = positiveInt(p.flags.get('steps'), 'steps');
  if (typeof steps === 'string') return usage(steps);
  const n = positiveInt(p.flags.get('n'), 'n') ?? 32;
  if (typeof n === 'string') return usage(n);
  const backendPref = p.flags.get('backend');
  if (backendPref !== undefined && !(BACKENDS as readonly unknown[]).includes(backendPref)) return usage(`--backend must be one of ${BACKENDS.join(', ')}`);

  const loaded = await loadRunProgram(runDir);
  if ('error' in loaded) {
    io.err(`genloom export: ${loaded.error}`);
    return 2;
  }
  const { program, doc } = loaded;
  if (list) {
    const ts = listTargets(program);
    if (json) io.out(JSON.stringify(ts.map((t) => ({ id: t.id, kind: t.kind, node: t.nodeId, title: t.title }))));
    else io.out(ts.length ? ts.map((t) => `${t.id.padEnd(28)} ${t.title}`).join('\n') : 'this graph has nothing to export');
    return 0;
  }

  let ckpt: Awaited<ReturnType<typeof readLatestCheckpoint>>;
  try {
    ckpt = await readLatestCheckpoint(runDir);
  } catch (e) {
    io.err(`genloom export: ${(e as Error).message}`);
    return 2;
  }
  for (const w of ckpt.warnings) io.err(`warning: ${w}`);
  const metrics = await metricsAt(runDir, ckpt.state.losses);
  const template = (doc as { meta?: { template?: unknown } }).meta?.template;

  const outFile = resolve(out as string);
  let model;
  try {
    model = exportOnnx(program, ckpt.weights, target as string, {
      noise,
      ...(steps !== undefined && { steps }),
      meta: { document: doc, ...(typeof template === 'string' && { template }), trainingSteps: ckpt.step, metrics },
    });
  } catch (e) {
    if (e instanceof ExportError) {
      io.err(`genloom export: ${e.message}`);
      // what the user asked for does not exist in this model: bad usage or input
      return ['unknown-target', 'target-not-available', 'no-target', 'bad-option'].includes(e.code) ? 2 : 1;
    }
    throw e;
  }
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, model.bytes);
  say(`wrote ${outFile} (${(model.bytes.byteLength / 1024).toFixed(1)} KiB): ${model.target.title}, noise ${noise}, trained ${ckpt.step} steps`);
  say('inputs:');
  for (const i of model.inputs) say(`  ${i.name}: ${i.dtype} [${i.shape.join(', ')}]  ${i.doc}`);
  say('outputs:');
  for (const o of model.outputs) say(`  ${o.name}: ${o.dtype} [${o.shape.join(', ')}]  ${o.doc}`);

  let ok = true;
  let parity: TargetParityReport | undefined;
  if (!p.flags.has('no-parity')) {
    try {
      const { backend } = await initBackend(backendPref as BackendName | undefined);
      say(`checking parity against the trained graph on tfjs (${backend}), ${n} rows...`);
      parity = await parityCheck(program, ckpt.weights, model.target, { noise, model, n, ...(steps !== undefined && { steps }) });
      say(formatParityReport(parity));
      ok &&= parity.pass;
    } catch (e) {
      io.err(`genloom export: the parity check failed to run: ${(e as Error).message}`);
      ok = false;
    }
  }
  let checker: CheckerResult | undefined;
  let checkerNote: string | undefined;
  if (!p.flags.has('no-check')) {
    const r = runOnnxChecker([outFile]);
    if (!r) checkerNote = 'the ONNX checker is not installed (apt-get install python3-onnx, or set GENLOOM_PYTHON); skipped';
    else {
      checker = r[0];
      ok &&= !!checker?.ok;
    }
    say(checker ? `onnx checker (onnx ${checker.onnx_version}, full_check + strict shape inference): ${checker.ok ? 'PASS' : `FAIL: ${checker.error}`}` : checkerNote!);
  }
  const report = {
    file: outFile,
    bytes: model.bytes.byteLength,
    target: model.target.id,
    title: model.target.title,
    noise,
    trainingSteps: ckpt.step,
    inputs: model.inputs,
    outputs: model.outputs,
    nodes: model.nodeCount,
    loops: model.loopCount,
    weightBytes: model.weightBytes,
    parity: parity ?? null,
    checker: checker ?? (checkerNote ? { skipped: checkerNote } : null),
    ok,
  };
  const rp = reportPath(outFile);
  await writeFile(rp, `${JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`);
  if (json) io.out(JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
  else say(`report: ${rp}`);
  return ok ? 0 : 1;
}
