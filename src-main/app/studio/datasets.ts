/**
 * CSV datasets of the studio's graphs, under the confinement of studio/confine.ts:
 * - confineDatasets: before a run starts, every CSV dataset node's `csvPath` (a file
 *   handle, a path inside the data folder, or a file granted before) is resolved to its
 *   real path and written back into the document, so the worker reads only files that
 *   passed the check and the run's graph.json names them absolutely. A relative csvPath
 *   resolves against the graph's folder (the folder of the file the graph was opened
 *   from, else dataDir/graphs), never against the host's working directory.
 * - importDataset (web mode, the browser's file picker): the text of a CSV file the user
 *   picked, stored as dataDir/datasets/<name>.csv; its data-folder path goes into csvPath.
 * - pickDataset (Electron): the native open dialog for a CSV file; the file is granted for
 *   reading and its real path goes into csvPath.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Program } from '../../compile/compile';
import type { GraphDocument } from '../../document/index';
import { HandlerError, type Handlers } from '../dispatch';
import type { Dialogs } from '../hostTypes';
import { errText, slug, type StudioPaths } from './common';
import { ConfinementError, realPathOf, resolveFileRef, type FileGrants } from './confine';

/** the most bytes an imported CSV may have (one WebSocket message carries it) */
export const MAX_IMPORTED_CSV_BYTES = 48 * 1024 * 1024;

/** the folder the graph's relative paths resolve against: its file's folder, else dataDir/graphs */
export async function graphFolder(ref: string | undefined, paths: StudioPaths, grants: FileGrants): Promise<string> {
  if (ref === undefined) return paths.graphs;
  try {
    return dirname(await resolveFileRef(ref, { grants, access: 'read', root: paths.dataDir, base: paths.graphs, what: 'the graph file' }));
  } catch (e) {
    // a graph file the studio may not name (moved, handle expired): its folder is not used
    if (e instanceof ConfinementError) return paths.graphs;
    throw e;
  }
}

/**
 * The document with every CSV dataset's path replaced by the checked real path; throws
 * HandlerError (naming the node) for a path the studio may not read.
 */
export async function confineDatasets(
  doc: GraphDocument,
  program: Pick<Program, 'data'>,
  opts: { paths: StudioPaths; grants: FileGrants; base: string },
): Promise<GraphDocument> {
  const csv = program.data.filter((d) => d.dataset === 'csv' && d.csvPath);
  if (csv.length === 0) return doc;
  const resolved = new Map<string, string>();
  for (const d of csv) {
    try {
      resolved.set(
        d.nodeId,
        await resolveFileRef(d.csvPath!, { grants: opts.grants, access: 'read', root: opts.paths.dataDir, base: opts.base, what: 'the CSV file' }),
      );
    } catch (e) {
      if (e instanceof ConfinementError) throw new HandlerError(`cannot train: dataset node "${d.nodeId}": ${e.message}`, { nodeId: d.nodeId, confinement: true });
      throw e;
    }
  }
  return {
    ...doc,
    nodes: doc.nodes.map((n) => (resolved.has(n.id) ? { ...n, params: { ...n.params, csvPath: resolved.get(n.id)! } } : n)),
  };
}

export function datasetHandlers(paths: StudioPaths, dialogs: Dialogs | undefined, grants: FileGrants): Pick<Handlers, 'importDataset' | 'pickDataset'> {
  return {
    async importDataset({ name, text }) {
      if (Buffer.byteLength(text) > MAX_IMPORTED_CSV_BYTES) throw new HandlerError(`cannot import ${name}: a CSV dataset sent from the browser may have at most 48 MiB`);
      const dir = join(paths.dataDir, 'datasets');
      const stem = slug(name.replace(/\.csv$/i, ''), 'dataset');
      try {
        await mkdir(dir, { recursive: true });
        for (let i = 1; i < 1000; i++) {
          const file = join(dir, `${i === 1 ? stem : `${stem}-${i}`}.csv`);
          try {
            await writeFile(file, text, { flag: 'wx', mode: 0o600 }); // never over an existing file or through a link
            return { path: await realPathOf(file) };
          } catch (e) {
            if ((e as { code?: string }).code !== 'EEXIST') throw e;
          }
        }
      } catch (e) {
        throw new HandlerError(`cannot import ${name}: ${errText(e)}`);
      }
      throw new HandlerError(`cannot import ${name}: too many datasets of that name`);
    },

    async pickDataset() {
      if (!dialogs?.openDataset) throw new HandlerError('pickDataset needs a file dialog: in web mode, send the file with importDataset');
      const chosen = await dialogs.openDataset();
      if (chosen === null) return null;
      const file = await realPathOf(chosen);
      return { path: file, handle: await grants.grant(file, ['read']) };
    },
  };
}
