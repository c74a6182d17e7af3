/**
 * One ONNX export, as a job that can run anywhere (a worker thread in plain Node, a
 * utilityProcess under Electron, or inline in tests): the run's latest checkpoint ->
 * model bytes written atomically to `path` -> parity report (onnxruntime-node vs the
 * trained graph on tfjs, same inputs and noise). The job is plain data (structured-clone
 * and JSON safe); the heavy modules (tfjs, onnxruntime) load only when a job runs.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { loadProgram } from '../compile/loadProgram';

export const ExportJob = z.object({
  /** the run's graph document (parsed JSON) */
  doc: z.unknown(),
  runDir: z.string().min(1),
  target: z.string().min(1),
  noise: z.enum(['internal', 'inputs']),
  /** where the .onnx file goes */
  path: z.string().min(1),
});
export type ExportJob = z.infer<typeof ExportJob>;

export interface ExportOutcome {
  path: string;
  bytes: number;
  parity: unknown;
}

/** the message a job host sends back */
export type ExportReply = { ok: true; result: ExportOutcome } | { ok: false, message: string };

export async function runExportJob(input: ExportJob): Promise<ExportOutcome> {
  const job = ExportJob.parse(input);
  const loaded = loadProgram(job.doc ?? null);
  if (!loaded.ok) throw new Error(`the run's graph has errors:\n${loaded.message}`);
  const { program } = loaded;

  const [mod, { readLatestCheckpoint, writeFileAtomic }, { initBackend }] = await Promise.all([
    import('../export/exportModel'),
    import('../runtime/runFolder'),
    import('../runtime/backend'),
  ]);
  const ckpt = await readLatestCheckpoint(job.runDir);
  const model = mod.exportOnnx(program, ckpt.weights, job.target, { noise: job.noise, meta: { document: loaded.doc, trainingSteps: ckpt.step } });
  await mkdir(dirname(job.path), { recursive: true });
  await writeFileAtomic(job.path, model.bytes);
  await initBackend();
  const report = await mod.parityCheck(program, ckpt.weights, model.target, { noise: job.noise, model });
  // JSON-safe: Infinity/NaN (a failed comparison) would not survive the wire
  const parity = JSON.parse(
    JSON.stringify({ ...report, step: ckpt.step, summary: mod.formatParityReport(report), warnings: ckpt.warnings }, (_k, v) =>
      typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
    ),
  ) as unknown;
  return { path: job.path, bytes: model.bytes.byteLength, parity };
}
