/** ONNX export of a run: exportTargets and exportOnnx, over an export backend loaded on first use. */
import { join } from 'node:path';
import type { GraphDocument } from '../../document/index';
import { HandlerError, type Handlers } from '../dispatch';
import type { ExportBackend } from '../hostTypes';
import { compileOrThrow, errText, slug } from './common';
import { isHandle, realPathOf, resolveFileRef, type FileGrants } from './confine';

export type ExporterOption = ExportBackend | (() => Promise<ExportBackend>);

async function defaultExporter(): Promise<ExportBackend> {
  const { createExportBackend } = await import('../exportBackend');
  return createExportBackend();
}

/** the backend, loaded once; a failed load is retried on the next call */
export function lazyExporter(option: ExporterOption | undefined): () => Promise<ExportBackend> {
  let exporter: Promise<ExportBackend> | undefined;
  return () =>
    (exporter ??= (async () => {
      const e = option ?? defaultExporter;
      return typeof e === 'function' ? e() : e;
    })().catch((e) => {
      exporter = undefined;
      throw new HandlerError(`ONNX export is not available: ${errText(e)}`);
    }));
}

export function exportHandlers(
  findRun: (runId: string) => Promise<{ runDir: string; doc: GraphDocument }>,
  getExporter: () => Promise<ExportBackend>,
  confinement: { dataDir: string; grants: FileGrants },
): Pick<Handlers, 'exportTargets' | 'exportOnnx'> {
  return {
    async exportTargets({ runId }) {
      const { doc } = await findRun(runId);
      const program = compileOrThrow(doc, 'cannot export');
      const backend = await getExporter();
      return (await backend.listTargets(program)).map(({ id, kind, nodeId, description }) => ({ id, kind, nodeId, description }));
    },

    async exportOnnx({ runId, target, noise, path }) {
      const { doc, runDir } = await findRun(runId);
      const program = compileOrThrow(doc, 'cannot export');
      const backend = await getExporter();
      const targets = await backend.listTargets(program);
      if (!targets.some((t) => t.id === target)) {
        throw new HandlerError(`run "${runId}" has no export target "${target}" (targets: ${targets.map((t) => t.id).join(', ') || 'none'})`);
      }
      // a handle with write access, or a path inside the data folder (relative: against the run's folder)
      if (path !== undefined && !isHandle(path) && !path.toLowerCase().endsWith('.onnx')) throw new HandlerError(`cannot export to ${path}: the file name must end in .onnx`);
      const out =
        path !== undefined
          ? await resolveFileRef(path, { grants: confinement.grants, access: 'write', root: confinement.dataDir, base: runDir, what: 'cannot export to' })
          : await realPathOf(join(runDir, 'export', `${slug(target, 'model')}.onnx`));
      if (!out.toLowerCase().endsWith('.onnx')) throw new HandlerError(`cannot export to ${out}: the file name must end in .onnx`);
      try {
        return await backend.exportOnnx({ program, doc, runDir, target, noise, path: out });
      } catch (e) {
        if (e instanceof HandlerError) throw e;
        throw new HandlerError(`export of "${target}" failed: ${errText(e)}`);
      }
    },
  };
}
