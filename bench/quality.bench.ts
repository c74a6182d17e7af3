/**
 * `npm run bench:quality`: trains every template for its configured steps on the chosen
 * backend (default wasm) and checks the bars its family declares (nodes/<family>/index.ts), as a table.
 * GENLOOM_TEMPLATES=vae-moons,gan-8gaussians limits the set; GENLOOM_STEPS_SCALE=0.5 scales steps.
 */
import { registry } from '../nodes/index';
import { loadProgramOrThrow } from '../src-main/compile/loadProgram';
import { evaluateRun } from '../src-main/eval/evaluate';
import { initBackend } from '../src-main/runtime/backend';
import { createFeeds } from '../src-main/runtime/feeds';
import { Trainer } from '../src-main/runtime/Trainer';
import { readTemplate } from '../src-main/document/templates';
import { importedSources, importWeights, ownerOf } from '../src-main/runtime/importedWeights';
import type { TensorMap } from '../src-main/runtime/runFolder';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Program } from '../src-main/compile/compile';
import type { DataFeed } from '../src-main/runtime/Trainer';
import { loadRun } from '../src-main/runtime/loadRun';
import { exportTorch } from '../src-main/torch/exportTorch';
import { findTorchPython, runPython } from '../src-main/torch/python';

/** each family's bars for its templates: template -> [metric, comparison, bound] */
const BARS: Record<string, [string, '<=' | '>=', number][]> = Object.fromEntries(
  registry.templates().map(({ template }) => [template.name, template.bars.map((b) => [b.metric, b.op, b.bound] as [string, '<=' | '>=', number])]),
);

// GENLOOM_BACKEND=torch: each template trained by its PyTorch program (src-main/torch/), then read back and evaluated here
const torchBackend = process.env.GENLOOM_BACKEND === 'torch';
const { backend } = await initBackend(torchBackend ? 'wasm' : (process.env.GENLOOM_BACKEND as never) || 'wasm');
const only = process.env.GENLOOM_TEMPLATES?.split(',');
const scale = Number(process.env.GENLOOM_STEPS_SCALE ?? 1);
const rows: string[][] = [];
let failed = 0;
console.log(`backend: ${backend}`);
/** the trained weights of the templates other templates import (a distillation's teacher), trained in this run once */
const trainedTeachers = new Map<string, TensorMap>();
function train(name: string) {
  const doc = readTemplate(name) as any;
  const { program } = loadProgramOrThrow(doc, (m) => new Error(`${name}: ${m}`));
  const seed = 0;
  const feeds = createFeeds(program, { seed });
  const trainer = new Trainer(program, feeds, { seed, batchSize: doc.meta.training.batchSize });
  // a teacher from a template: trained here at its full steps (a run folder of it is not assumed)
  for (const [source, params] of importedSources(trainer)) {
    const ref = ownerOf(trainer, params[0]!.name).graph;
    if (!ref.startsWith('template:')) throw new Error(`${name}: its teacher ${ref} is no bundled template`);
    const teacher = ref.slice('template:'.length);
    if (!trainedTeachers.has(teacher)) {
      const t0 = Date.now();
      const inner = train(teacher);
      for (let i = 0; i < inner.steps; i++) inner.trainer.round(false);
      trainedTeachers.set(teacher, inner.trainer.store.snapshot());
      console.log(`${name}: its teacher ${teacher} trained, ${inner.steps} steps in ${((Date.now() - t0) / 1000).toFixed(0)} s (not counted below)`);
      inner.trainer.dispose();
    }
    importWeights(trainer, source, trainedTeachers.get(teacher)!);
  }
  return { doc, program, feeds, trainer, steps: Math.max(1, Math.round(doc.meta.training.steps * scale)) };
}

const torchRoot = mkdtempSync(join(tmpdir(), 'genloom-quality-torch-'));
/** trains `name` by its PyTorch program (its teacher's weights, if it has one, from the teacher's PyTorch run) and loads the run it wrote */
async function trainTorch(name: string): Promise<{ program: Program; feeds: Map<string, DataFeed>; trainer: Trainer; steps: number; dispose(): void }> {
  const { doc, program, trainer, steps } = train(name);
  const dir = join(torchRoot, name);
  const weights = trainer.store.snapshot();
  trainer.dispose();
  await exportTorch(program, dir, { name, genloom: 'bench', seed: 0, batchSize: doc.meta.training.batchSize, steps, documentText: JSON.stringify(doc), weights });
  const found = await findTorchPython();
  if ('error' in found) throw new Error(found.error);
  const r = await runPython(found.python, [join(dir, 'train.py'), '--steps', String(steps), '--out', join(dir, 'run'), '--log-every', '1000', '--checkpoint-every', String(steps)], { timeoutMs: 3_600_000 });
  if (r.code) throw new Error(`${name}: the PyTorch program failed: ${r.stderr.trim().split('\n').pop()}`);
  const run = await loadRun(join(dir, 'run'), {});
  return { program: run.program, feeds: run.feeds, trainer: run.trainer, steps, dispose: () => run.dispose() };
}

for (const name of Object.keys(BARS)) {
  if (only && !only.includes(name)) continue;
  const t0 = Date.now();
  let program: Program, feeds: Map<string, DataFeed>, trainer: Trainer, steps: number;
  if (torchBackend) ({ program, feeds, trainer, steps } = await trainTorch(name));
  else {
    ({ program, feeds, trainer, steps } = train(name));
    for (let i = 0; i < steps; i++) trainer.round(false);
  }
  const trainSec = (Date.now() - t0) / 1000;
  const metrics = evaluateRun(trainer, program, feeds, { n: 2000 });
  const evalSec = (Date.now() - t0) / 1000 - trainSec;
  const checks = BARS[name]!.map(([k, op, bound]) => {
    const v = metrics[k]!;
    const ok = op === '<=' ? v <= bound : v >= bound;
    if (!ok) failed++;
    return `${k} ${v.toPrecision(4)} ${op} ${bound} ${ok ? 'ok' : 'FAIL'}`;
  });
  if (trainSec > 600) {
    failed++;
    checks.push('training time > 10 min FAIL');
  }
  const shown = Object.entries(metrics).map(([k, v]) => `${k}=${v.toPrecision(4)}`).join(' ');
  rows.push([name, torchBackend ? 'torch (cpu)' : backend, String(steps), `${trainSec.toFixed(0)} s`, `${evalSec.toFixed(0)} s`, checks.join('; ') || '(reported)', shown]);
  console.log(`${name}: ${steps} steps in ${trainSec.toFixed(0)} s; ${checks.join('; ')}\n  ${shown}`);
  trainer.dispose();
}
console.log('\n| template | backend | steps | train | eval | bars | metrics |\n| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
process.exitCode = failed ? 1 : 0;
