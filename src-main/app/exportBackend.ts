/**
 * The studio's view of the export module (src-main/export): the targets of a compiled
 * graph (cheap, computed here) and ONNX export with its parity report, which runs tfjs
 * and onnxruntime for seconds (a 1000-step DDPM sampler) and so runs off the main thread:
 * in a worker thread in plain Node, in a utilityProcess under Electron.
 */
import { tsWorkerBootstrap } from '../runtime/tsWorker';
import { Worker } from 'node:worker_threads';
import { listTargets } from '../export/targets';
import type { ExportJob, ExportOutcome, ExportReply } from './exportJob';
import type { ChildProcessLike, ExportBackend } from './hostTypes';

export type ExportJobRunner = (job: ExportJob) => Promise<ExportOutcome>;

export function createExportBackend(run: ExportJobRunner = workerThreadRunner): ExportBackend {
  return {
    listTargets: (program) => listTargets(program).map((t) => ({ id: t.id, kind: t.kind, nodeId: t.nodeId, description: t.title })),
    exportOnnx: ({ doc, runDir, target, noise, path }) => run({ doc, runDir, target, noise, path }),
  };
}

/** on this thread (tests, debugging) */
export const inlineRunner: ExportJobRunner = async (job) => (await import('./exportJob')).runExportJob(job);

function fromReply(r: unknown): ExportOutcome {
  const reply = r as ExportReply | undefined;
  if (reply && reply.ok === true) return reply.result;
  throw new Error(reply && reply.ok === false ? reply.message : 'the export host sent no result');
}

/** a fresh worker thread per job (plain Node) */
export const workerThreadRunner: ExportJobRunner = (job) =>
  new Promise((resolve, reject) => {
    const bootstrap = tsWorkerBootstrap(new URL('./exportWorker.ts', import.meta.url));
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate().catch(() => {});
    };
    const worker = new Worker(bootstrap, { eval: true, name: 'genloom-export', workerData: { genloomExportWorker: 1 } });
    worker.once('message', (r: unknown) => settle(() => {
      try {
        resolve(fromReply(r));
      } catch (e) {
        reject(e);
      }
    }));
    worker.once('error', (e) => settle(() => reject(new Error(`the export worker crashed: ${e.message}`))));
    worker.once('exit', (code) => settle(() => reject(new Error(`the export worker exited (code ${code}) before it finished`))));
    worker.postMessage(job);
  });

/** a fresh Electron utilityProcess per job */
export function utilityProcessRunner(fork: () => ChildProcessLike): ExportJobRunner {
  return (job) =>
    new Promise((resolve, reject) => {
      const child = fork();
      let settled = false;
      child.on('spawn', () => child.postMessage(job));
      child.on('message', (r) => {
        if (settled) return;
        settled = true;
        try {
          resolve(fromReply(r));
        } catch (e) {
          reject(e);
        }
      });
      child.on('exit', (code) => {
        if (settled) return;
        settled = true;
        reject(new Error(`the export process exited (code ${code}) before it finished`));
      });
    });
}
