/**
 * The graph written as a PyTorch program (src-main/torch/) against the tfjs trainer, with
 * Debian's python3-torch on CPU. Under CI=true a missing torch fails the suite.
 *
 * Parity: one training round of every template from the same initial weights, batches and
 * noise (recorded on tfjs, replayed by train.py). The bar is 1e-5 (relative, loss terms and
 * every weight tensor) or, where float32 rounding alone is larger, 20 times the distance
 * between the same program in float32 and float64 (Adam's first step divides by |g| + 1e-7,
 * so a gradient near 0 turns rounding into a visible difference; MNIST sums of 784 terms
 * round further on wasm than in torch's pairwise sums).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../nodes/index';
import { compile, type Program } from '../src-main/compile/compile';
import { fileExternalResolver } from '../src-main/compile/readGraphFile';
import { TEMPLATE_NAMES } from '../src-main/document/templates';
import { validateGraph } from '../src-main/graph/validate';
import { initBackend } from '../src-main/runtime/backend';
import { readLatestCheckpoint } from '../src-main/runtime/runFolder';
import { decodeSafetensors, encodeSafetensors } from '../src-main/runtime/safetensors';
import { exportTorch } from '../src-main/torch/exportTorch';
import { compareRounds, readRunResult, recordTfjsRound, type RecordedRound } from '../src-main/torch/parity';
import { findTorchPython, runPython } from '../src-main/torch/python';
import { loadTemplate, trainTemplate } from './trainTemplate';

const SEED = 3;
const BATCH = 64;
const root = mkdtempSync(join(tmpdir(), 'genloom-torch-'));
let python = '';
let missing = '';

beforeAll(async () => {
  // the cpu backend computes in plain float32 JavaScript; wasm's kernels (XNNPACK) round
  // further on MNIST-sized sums (iwae-mnist: 6e-4 from PyTorch on wasm, 1.1e-5 on cpu, where
  // PyTorch float32 is 1.7e-5 from float64)
  await initBackend('cpu');
  const found = await findTorchPython();
  if ('error' in found) {
    if (process.env.CI === 'true') throw new Error(`CI=true but ${found.error}`);
    missing = found.error;
    console.warn(`PyTorch tests skipped: ${found.error}`);
  } else python = found.python;
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

let teacher: RecordedRound['init'] | undefined;
function programOf(name: string): Program {
  return compile(validateGraph(loadTemplate(name), registry, { resolveExternal: fileExternalResolver(registry) }));
}

interface Exported {
  dir: string;
  rec: RecordedRound;
  program: Program;
}

/** one tfjs round recorded and the program written beside its replay file */
async function exported(name: string, batchSize = BATCH): Promise<Exported> {
  const program = programOf(name);
  const needsTeacher = program.params.some((p) => p.init.kind === 'imported');
  if (needsTeacher && !teacher) {
    const t = trainTemplate('ddpm-swissroll', { steps: 0 });
    teacher = t.trainer.store.snapshot();
    t.trainer.dispose();
  }
  const rec = await recordTfjsRound(program, { seed: SEED, batchSize, ...(needsTeacher && { teacher }) });
  const dir = mkdtempSync(join(root, `${name}-`));
  await exportTorch(program, dir, { name, genloom: 'test', seed: SEED, batchSize, steps: 1, documentText: '{}', weights: rec.init });
  writeFileSync(join(dir, 'replay.safetensors'), rec.replay);
  return { dir, rec, program };
}

async function train(dir: string, run: string, args: string[]): Promise<void> {
  const r = await runPython(python, [join(dir, 'train.py'), '--out', join(dir, run), '--seed', String(SEED), '--threads', '1', ...args]);
  if (r.code !== 0) throw new Error(`train.py failed (${r.code}): ${r.stderr.trim().split('\n').slice(-4).join(' | ')}`);
}

const replayArgs = (e: Exported, batch = BATCH) => ['--steps', '1', '--batch', String(batch), '--replay', join(e.dir, 'replay.safetensors')];

describe('the PyTorch program: one round of every template matches tfjs', () => {
  for (const name of TEMPLATE_NAMES) {
    it(name, async (ctx) => {
      if (!python) return ctx.skip(missing);
      const e = await exported(name);
      await train(e.dir, 'f32', replayArgs(e));
      const f32 = await readRunResult(join(e.dir, 'f32'));
      const tfjs = { weights: e.rec.after, terms: e.rec.terms };
      const vsTfjs = compareRounds(f32, tfjs, e.rec.init);
      // the round moved the weights (a round that changes nothing proves nothing) and reported every term
      expect(vsTfjs.maxUpdate).toBeGreaterThan(1e-5);
      expect(Object.keys(f32.terms).sort()).toEqual(Object.keys(e.rec.terms).sort());
      // beyond 1e-5, the same program in float64 measures what float32 rounding alone makes
      let rounding = { maxTermRel: 0, maxWeightRel: 0 };
      if (vsTfjs.maxTermRel > 1e-5 || vsTfjs.maxWeightRel > 1e-5) {
        await train(e.dir, 'f64', [...replayArgs(e), '--dtype', 'float64']);
        rounding = compareRounds(f32, await readRunResult(join(e.dir, 'f64')), e.rec.init);
        expect(rounding.maxWeightRel, 'float32 against float64 of the same program').toBeLessThan(1e-3);
      }
      expect(vsTfjs.maxTermRel, `${vsTfjs.worstTerm}: ${vsTfjs.worstTermValues.join(' vs ')}`).toBeLessThanOrEqual(Math.max(1e-5, 20 * rounding.maxTermRel));
      expect(vsTfjs.maxWeightRel, vsTfjs.worstWeight).toBeLessThanOrEqual(Math.max(1e-5, 20 * rounding.maxWeightRel));
    }, 120_000);
  }
});

describe('the PyTorch program under torchrun', () => {
  // 2 processes at batch B/2 each (gloo, gradients all-reduced) against 1 process at B, the same rows and noise
  for (const name of ['gan-8gaussians', 'wgangp-8gaussians']) {
    it(`${name}: 2 processes at B/2 give the update of 1 process at B`, async (ctx) => {
      if (!python) return ctx.skip(missing);
      const e = await exported(name);
      await train(e.dir, 'one', replayArgs(e));
      const torchrun = python === '/usr/bin/python3' ? '/usr/bin/torchrun' : 'torchrun';
      const r = await runPython(
        torchrun,
        ['--standalone', '--nnodes=1', '--nproc_per_node=2', '--redirects', '1', '--tee', '1', '--log_dir', join(e.dir, 'logs'), join(e.dir, 'train.py'), '--out', join(e.dir, 'two'), '--seed', String(SEED), '--threads', '1', ...replayArgs(e)],
        { env: { ...process.env, OMP_NUM_THREADS: '1' } },
      );
      expect(r.code, r.stderr.slice(-600)).toBe(0);
      const cfg = JSON.parse(readFileSync(join(e.dir, 'two', 'config.json'), 'utf8')) as { processes: number };
      expect(cfg.processes).toBe(2);
      const d = compareRounds(await readRunResult(join(e.dir, 'two')), await readRunResult(join(e.dir, 'one')), e.rec.init);
      expect(d.maxUpdate).toBeGreaterThan(1e-5);
      expect(d.maxTermRel, d.worstTerm).toBeLessThan(1e-5);
      expect(d.maxWeightRel, d.worstWeight).toBeLessThan(1e-5);
    }, 180_000);
  }
});

describe('the PyTorch program: runs, resumes and refuses', () => {
  it('resumed from its checkpoint, a run continues exactly as the uninterrupted run (weights and optimiser state)', async (ctx) => {
    if (!python) return ctx.skip(missing);
    const e = await exported('gan-8gaussians');
    await train(e.dir, 'straight', ['--steps', '4', '--checkpoint-every', '2']);
    await train(e.dir, 'resumed', ['--steps', '2']);
    await train(e.dir, 'resumed', ['--steps', '4', '--resume']);
    const [a, b] = [await readLatestCheckpoint(join(e.dir, 'straight')), await readLatestCheckpoint(join(e.dir, 'resumed'))];
    expect(b.step).toBe(4);
    for (const [k, v] of a.weights) expect(Array.from(b.weights.get(k)!.data), k).toEqual(Array.from(v.data));
    for (const [k, v] of a.optimizer) expect(Array.from(b.optimizer.get(k)!.data), k).toEqual(Array.from(v.data));
    // the steps before the checkpoint are in metrics.jsonl once each
    const steps = readFileSync(join(e.dir, 'resumed', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps).toEqual([...new Set(steps)]);
  }, 120_000);

  it('a non-finite loss stops the run with a one-line message naming the objective, before any checkpoint of it is written', async (ctx) => {
    if (!python) return ctx.skip(missing);
    const e = await exported('vae-moons');
    const path = join(e.dir, 'weights.safetensors');
    const w = decodeSafetensors(readFileSync(path));
    const first = e.program.params[0]!.name;
    w.tensors.get(first)!.data[0] = NaN;
    writeFileSync(path, encodeSafetensors(w.tensors));
    const r = await runPython(python, [join(e.dir, 'train.py'), '--out', join(e.dir, 'nan'), '--steps', '3', '--log-every', '1', '--json']);
    expect(r.code).toBe(3);
    const err = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; message?: string; code?: string }).find((l) => l.type === 'error');
    expect(err?.code).toBe('non-finite-loss');
    expect(err?.message).toMatch(/objective "elbo" produced a non-finite \S+ at step 1/);
    await expect(readLatestCheckpoint(join(e.dir, 'nan'))).rejects.toThrow();
  }, 60_000);

  it('asked for CUDA on a machine without it, the program says so in one line and exits 2', async (ctx) => {
    if (!python) return ctx.skip(missing);
    const probe = await runPython(python, ['-c', 'import torch; print(torch.cuda.is_available())']);
    if (probe.stdout.trim() === 'True') return ctx.skip('this machine has CUDA');
    const e = await exported('vae-moons');
    const r = await runPython(python, [join(e.dir, 'train.py'), '--out', join(e.dir, 'cuda'), '--steps', '1', '--device', 'cuda']);
    expect(r.code).toBe(2);
    expect(r.stdout.trim()).toMatch(/^error: --device cuda asked for, but torch \S+ sees no CUDA device: use --device cpu$/);
  }, 60_000);
});
