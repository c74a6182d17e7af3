/**
 * Host of one export job, off the main thread: a worker thread (plain Node: web mode, CLI)
 * or an Electron utilityProcess (out/main/exportProcess.js). Receives one ExportJob, runs
 * it, replies with an ExportReply, and is then ended by its parent (or exits, as a
 * utilityProcess).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runExportJob, type ExportReply } from './exportJob';

/** workerData that marks a worker as an export host (importing this file elsewhere does nothing) */
export const EXPORT_WORKER_DATA = { genloomExportWorker: 1 } as const;

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function reply(job: unknown): Promise<ExportReply> {
  try {
    return { ok: true, result: await runExportJob(job as never) };
  } catch (e) {
    return { ok: false, message: describe(e) };
  }
}

interface UtilityParentPort {
  once(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

const utilityPort = (process as unknown as { parentPort?: UtilityParentPort }).parentPort;
if (utilityPort) {
  utilityPort.once('message', ({ data }) => {
    void reply(data).then((r) => {
      utilityPort.postMessage(r);
      setTimeout(() => process.exit(0), 100);
    });
  });
} else if (parentPort && (workerData as Partial<typeof EXPORT_WORKER_DATA> | undefined)?.genloomExportWorker === 1) {
  const port = parentPort;
  port.once('message', (job: unknown) => {
    void reply(job).then((r) => port.postMessage(r));
  });
}
