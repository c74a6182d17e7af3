/**
 * `genloom run-onnx FILE.onnx --n N --out samples.csv [--seed S] [--in data.csv]`
 *
 * Runs a model exported by `genloom export` with onnxruntime-node and writes its outputs
 * as CSV (a header row, then one row per sample). Inputs are filled from the model's
 * documented inputs (metadata genloom.inputs): the sample count `n`; noise inputs and
 * latent codes `z` from a seeded N(0, 1) (or U[0, 1)); time steps uniformly; data
 * inputs (an encoder's or a density's x) from --in, a CSV of numbers.
 * Noise drawn inside a model (noise mode 'internal') comes from onnxruntime, unseeded;
 * --seed fixes what is given as inputs.
 * Exit codes: 0 ok, 1 failure, 2 bad usage or bad input (a missing or broken file).
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Rng } from '../data/rng';
import type { IoDoc } from '../export/exportModel';
import { decodeModel, readMetadata } from '../export/onnxGraph';
import { openSession, type Feed } from '../export/ort';
import { parseArgs, type CommandIo } from './exportCommand';

export const RUN_ONNX_USAGE = `usage: genloom run-onnx FILE.onnx --n N --out samples.csv [options]

  --n N          rows to produce (samples to draw; ignored when --in gives the rows)
  --out FILE     CSV to write: a header row, then one row per sample
  --seed S       seed of the noise and latents given as inputs (default 0)
  --in FILE.csv  data rows for models that take data (an encoder's or a density's x)`;

/** numeric rows of a CSV (a header or other non-numeric lines are skipped) */
export function parseNumericCsv(text: string): number[][] {
  const rows: number[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells = line.split(',').map((c) => Number(c.trim()));
    if (cells.some((c) => !Number.isFinite(c))) continue;
    rows.push(cells);
  }
  return rows;
}

/** the model's inputs: documented by genloom, or read from the graph (other models) */
function inputDocs(bytes: Uint8Array): IoDoc[] {
  const meta = readMetadata(bytes);
  if (meta['genloom.inputs']) return JSON.parse(meta['genloom.inputs']) as IoDoc[];
  const m = decodeModel(bytes);
  const inits = new Set((m.graph?.initializer ?? []).map((i) => i.name));
  return (m.graph?.input ?? [])
    .filter((i) => !inits.has(i.name))
    .map((i) => {
      const t = i.type?.tensorType;
      const shape = (t?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
      const int64 = t?.elemType === 7;
      return { name: i.name ?? '', dtype: int64 ? 'int64' : 'float32', shape, doc: i.docString ?? '', role: int64 && shape.length === 0 ? 'count' : 'noise', fill: int64 ? { kind: 'count' } : { kind: 'normal' } } as IoDoc;
    });
}

export async function runOnnxCommand(argv: string[], io: CommandIo): Promise<number> {
  const booleans = new Set(['help']);
  const p = parseArgs(argv, new Set(['n', 'out', 'seed', 'in', 'help']), booleans);
  const usage = (msg: string) => {
    io.err(`genloom run-onnx: ${msg}\n${RUN_ONNX_USAGE}`);
    return 2;
  };
  if (typeof p === 'string') return usage(p);
  if (p.flags.has('help')) {
    io.out(RUN_ONNX_USAGE);
    return 0;
  }
  if (p.positional.length !== 1) return usage(p.positional.length ? `one model file expected, got ${p.positional.join(' ')}` : 'the model file is missing');
  const out = p.flags.get('out');
  if (typeof out !== 'string') return usage('--out FILE.csv is required');
  const nFlag = p.flags.get('n');
  const inFile = p.flags.get('in');
  let n = nFlag === undefined ? undefined : Number(nFlag);
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) return usage(`--n must be a positive integer, got "${String(nFlag)}"`);
  const seed = p.flags.get('seed') === undefined ? 0 : Number(p.flags.get('seed'));
  if (!Number.isFinite(seed)) return usage(`--seed must be a number`);

  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(resolve(p.positional[0]!)));
  } catch (e) {
    io.err(`genloom run-onnx: cannot read ${p.positional[0]}: ${(e as Error).message}`);
    return 2;
  }
  let docs: IoDoc[];
  try {
    docs = inputDocs(bytes);
  } catch (e) {
    io.err(`genloom run-onnx: ${p.positional[0]} is not an ONNX model: ${(e as Error).message}`);
    return 2;
  }

  let dataRows: number[][] | undefined;
  const dataInputs = docs.filter((d) => d.role === 'data' && d.fill?.kind === 'data');
  if (dataInputs.length) {
    if (typeof inFile !== 'string') {
      io.err(`genloom run-onnx: this model takes data (${dataInputs.map((d) => `${d.name} [${d.shape.join(', ')}]`).join(', ')}): give the rows with --in FILE.csv`);
      return 2;
    }
    try {
      dataRows = parseNumericCsv(await readFile(resolve(inFile), 'utf8'));
    } catch (e) {
      io.err(`genloom run-onnx: cannot read ${inFile}: ${(e as Error).message}`);
      return 2;
    }
    if (!dataRows.length) {
      io.err(`genloom run-onnx: ${inFile} has no numeric rows`);
      return 2;
    }
    n = dataRows.length;
  }
  if (n === undefined) return usage('--n is required');

  const rng = new Rng(seed);
  const feeds: Record<string, Feed> = {};
  for (const d of docs) {
    const shape = d.shape.map((s) => (typeof s === 'string' ? n! : s));
    const size = shape.reduce((a, b) => a * b, 1);
    if (d.fill?.kind === 'count' || (d.dtype === 'int64' && shape.length === 0)) {
      feeds[d.name] = { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(n)) };
      continue;
    }
    const data = new Float32Array(size);
    const fill = d.fill ?? { kind: 'normal' };
    if (fill.kind === 'data') {
      const width = size / n;
      for (let r = 0; r < n; r++) {
        const row = dataRows![r]!;
        if (row.length !== width) {
          io.err(`genloom run-onnx: ${inFile} row ${r + 1} has ${row.length} numbers, input ${d.name} needs ${width}`);
          return 2;
        }
        data.set(row, r * width);
      }
    } else if (fill.kind === 'uniform') for (let i = 0; i < size; i++) data[i] = rng.uniform();
    else if (fill.kind === 'steps') for (let i = 0; i < size; i++) data[i] = Math.min(fill.T - 1, Math.floor(rng.uniform() * fill.T));
    else for (let i = 0; i < size; i++) data[i] = rng.normal();
    feeds[d.name] = { dtype: 'float32', shape, data };
  }

  const t0 = performance.now();
  let outs: Record<string, { shape: number[]; data: Float32Array }>;
  try {
    const s = await openSession(bytes);
    try {
      outs = await s.run(feeds);
    } finally {
      await s.release();
    }
  } catch (e) {
    io.err(`genloom run-onnx: ${(e as Error).message}`);
    return 1;
  }
  const ms = performance.now() - t0;

  const cols: { name: string; data: Float32Array; width: number }[] = [];
  for (const [name, t] of Object.entries(outs)) {
    if (t.shape[0] !== n) {
      io.err(`warning: output ${name} [${t.shape.join(', ')}] has no row per sample; left out of the CSV`);
      continue;
    }
    cols.push({ name, data: t.data, width: t.data.length / n });
  }
  const header = cols.flatMap((c) => (c.width === 1 ? [c.name] : Array.from({ length: c.width }, (_, j) => `${c.name}_${j}`)));
  const lines = [header.join(',')];
  for (let r = 0; r < n; r++) {
    const cells: string[] = [];
    for (const c of cols) for (let j = 0; j < c.width; j++) cells.push(String(Math.fround(c.data[r * c.width + j]!)));
    lines.push(cells.join(','));
  }
  const outFile = resolve(out);
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, `${lines.join('\n')}\n`);
  io.out(`wrote ${n} rows x ${header.length} columns to ${outFile} (${Object.entries(outs).map(([k, t]) => `${k} [${t.shape.join(', ')}]`).join(', ')}) in ${ms.toFixed(0)} ms`);
  return 0;
}
