/** Graph files and the recent list: openFile, saveFile and recentFiles. */
import { mkdir, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { registry } from '../../../nodes/index';
import { formatDocumentErrors, loadDocumentFile, saveDocumentFile, type GraphDocument } from '../../document/index';
import { readJsonIfPresent, writeJsonAtomic } from '../atomicFile';
import { HandlerError, type Handlers } from '../dispatch';
import type { Dialogs } from '../hostTypes';
import { errText, parseOrThrow, plainDocumentErrors, slug, str, type StudioPaths } from './common';

/** the recent files list (most recent first), serialised: two saves at once must not lose an entry */
export function recentList(path: string, limit: number) {
  let queue: Promise<unknown> = Promise.resolve();
  async function read(): Promise<string[]> {
    const v = await readJsonIfPresent(path);
    return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string' && isAbsolute(p)) : [];
  }
  return {
    read,
    add(file: string): Promise<void> {
      const next = queue.then(async () => {
        const list = (await read()).filter((p) => p !== file);
        list.unshift(file);
        await writeJsonAtomic(path, list.slice(0, limit));
      });
      queue = next.catch(() => {});
      return next;
    },
    /** the files of the list that still exist, once pending additions are written */
    async present(): Promise<string[]> {
      await queue;
      const list = await read();
      const there = await Promise.all(list.map((p) => stat(p).then((s) => s.isFile(), () => false)));
      return list.filter((_, i) => there[i]);
    },
  };
}

export function fileHandlers(paths: StudioPaths, dialogs: Dialogs | undefined, recentLimit: number): Pick<Handlers, 'openFile' | 'saveFile' | 'recentFiles'> {
  const recent = recentList(paths.recent, recentLimit);
  /** a user-given graph path: relative paths are read from dataDir/graphs */
  const graphPath = (p: string) => (isAbsolute(p) ? resolve(p) : resolve(paths.graphs, p));
  const defaultSavePath = (doc: GraphDocument) => join(paths.graphs, `${slug(str(doc.meta.title) ?? '', 'untitled')}.genloom.json`);

  /** where a save goes: the given path, or the dialog's choice (null when cancelled) */
  async function saveTarget(path: string | undefined, saveAs: boolean | undefined, doc: GraphDocument): Promise<string | null> {
    if (path !== undefined && !saveAs) return graphPath(path);
    if (dialogs) {
      const chosen = await dialogs.saveFile(path !== undefined ? graphPath(path) : defaultSavePath(doc));
      return chosen === null ? null : resolve(chosen);
    }
    return path !== undefined ? graphPath(path) : defaultSavePath(doc);
  }

  return {
    async openFile({ path }) {
      let target = path;
      if (target === undefined) {
        if (!dialogs) throw new HandlerError('openFile needs a path: there is no file dialog in web mode');
        const chosen = await dialogs.openFile();
        if (chosen === null) return null;
        target = chosen;
      }
      const file = graphPath(target);
      const loaded = await loadDocumentFile(file, registry);
      if (!loaded.ok) {
        throw new HandlerError(`cannot open ${file}:\n${formatDocumentErrors(loaded.errors)}`, { documentErrors: plainDocumentErrors(loaded.errors) });
      }
      await recent.add(file);
      return { path: file, doc: loaded.doc, ...(loaded.warnings.length && { warnings: loaded.warnings.slice(0, 1000) }) };
    },

    async saveFile({ path, doc, saveAs }) {
      const parsed = parseOrThrow(doc, 'cannot save');
      const target = await saveTarget(path, saveAs, parsed);
      if (target === null) return null;
      if (!target.toLowerCase().endsWith('.json')) {
        throw new HandlerError(`cannot save ${target}: a graph file name must end in .json (e.g. .genloom.json)`);
      }
      if (target.startsWith(paths.graphs)) await mkdir(paths.graphs, { recursive: true });
      try {
        await saveDocumentFile(target, parsed);
      } catch (e) {
        throw new HandlerError(errText(e));
      }
      await unlink(paths.autosave).catch(() => {});
      await recent.add(target);
      return { path: target };
    },

    recentFiles: () => recent.present(),
  };
}
