/**
 * `npm run bench:torch`: the generated PyTorch program against a hand-written PyTorch loop
 * for the same model (bench/torch_reference.py) and against the tfjs trainer (wasm), ms per
 * training step, interleaved in one run (each round runs every kind once), median of the
 * per-round ratios; at batch 256, 1024 and 4096, one CPU thread each.
 * GENLOOM_TEMPLATES=a,b limits the templates; GENLOOM_ROUNDS=N sets the rounds (default 3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProgramOrThrow } from '../src-main/compile/loadProgram';
import { readTemplate } from '../src-main/document/templates';
import { initBackend } from '../src-main/runtime/backend';
import { createFeeds } from '../src-main/runtime/feeds';
import { Trainer } from '../src-main/runtime/Trainer';
import { exportTorch } from '../src-main/torch/exportTorch';
import { findTorchPython, runPython } from '../src-main/torch/python';

const { backend } = await initBackend((process.env.GENLOOM_BACKEND as never) || 'wasm');
const found = await findTorchPython();
if ('error' in found) throw new Error(found.error);
const python = found.python;
const templates = process.env.GENLOOM_TEMPLATES?.split(',') ?? ['ddpm-swissroll', 'vae-moons', 'gan-8gaussians'];
const rounds = Number(process.env.GENLOOM_ROUNDS ?? 3);
const STEPS: Record<number, number> = { 256: 200, 1024: 80, 4096: 30 };
const root = mkdtempSync(join(tmpdir(), 'genloom-torch-bench-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`PyTorch ${found.torch} (${found.python}), 1 thread; tfjs backend ${backend}; ${rounds} rounds`);

async function generated(dir: string, steps: number): Promise<number> {
  const r = await runPython(python, [join(dir, 'train.py'), '--steps', String(steps), '--threads', '1', '--log-every', String(steps / 2), '--checkpoint-every', '100000000', '--json', '--out', join(dir, 'run')]);
  if (r.code) throw new Error(r.stderr.slice(-400));
  const last = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; stepsPerSec?: number }).filter((e) => e.type === 'step').pop()!;
  return 1000 / last.stepsPerSec!;
}

async function reference(model: string, batch: number, steps: number): Promise<number> {
  const r = await runPython(python, [join(import.meta.dirname, 'torch_reference.py'), model, String(batch), String(steps), '1']);
  if (r.code) throw new Error(r.stderr.slice(-400));
  return (JSON.parse(r.stdout.trim()) as { msPerStep: number }).msPerStep;
}

function tfjs(program: ReturnType<typeof loadProgramOrThrow>['program'], batch: number, steps: number): number {
  const t = new Trainer(program, createFeeds(program, { seed: 0 }), { seed: 0, batchSize: batch });
  try {
    const half = steps / 2;
    for (let i = 0; i < half; i++) t.round(false);
    t.round(true);
    const t0 = performance.now();
    for (let i = 0; i < half; i++) t.round(i === half - 1);
    return (performance.now() - t0) / half;
  } finally {
    t.dispose();
  }
}

const rows: string[] = [];
for (const batch of [256, 1024, 4096]) {
  for (const name of templates) {
    const { program } = loadProgramOrThrow(readTemplate(name), (m) => new Error(m));
    const dir = join(root, `${name}-${batch}`);
    await exportTorch(program, dir, { name, genloom: 'bench', seed: 0, batchSize: batch, steps: STEPS[batch]!, documentText: '{}' });
    const genRef: number[] = [];
    const tfGen: number[] = [];
    let last = { gen: 0, ref: 0, tf: 0 };
    for (let r = 0; r < rounds; r++) {
      const gen = await generated(dir, STEPS[batch]!);
      const ref = await reference(name, batch, STEPS[batch]!);
      const tf = tfjs(program, batch, STEPS[batch]!);
      genRef.push(gen / ref);
      tfGen.push(tf / gen);
      last = { gen, ref, tf };
    }
    const row = `| ${name} | ${batch} | ${last.gen.toFixed(2)} | ${last.ref.toFixed(2)} | ${last.tf.toFixed(2)} | ${median(genRef).toFixed(2)}x (${Math.min(...genRef).toFixed(2)}-${Math.max(...genRef).toFixed(2)}) | ${median(tfGen).toFixed(2)}x |`;
    rows.push(row);
    console.log(row);
  }
}
console.log(`\n| template | batch | program ms/step | hand-written PyTorch ms/step | tfjs ${backend} ms/step | program / hand-written (median, min-max) | tfjs / program |\n| --- | --- | --- | --- | --- | --- | --- |`);
for (const r of rows) console.log(r);
rmSync(root, { recursive: true, force: true });
