/**
 * Graph files and the recent list: openFile, saveFile and recentFiles.
 *
 * Confinement (studio/confine.ts): openFile reads a file handle, a path inside the data
 * folder (relative paths resolve against dataDir/graphs) or a file granted before (picked
 * through a dialog); saveFile writes a file handle with write access, a path inside
 * dataDir/graphs, or the file the save dialog returns. A file outside dataDir/graphs comes
 * back with a handle that the renderer sends instead of the path to save it again.
 */
import { mkdir, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { registry } from '../../../nodes/index';
import { formatDocumentErrors, loadDocumentFile, saveDocumentFile, type GraphDocument } from '../../document/index';
import { readJsonIfPresent, writeJsonAtomic } from '../atomicFile';
import { HandlerError, type Handlers } from '../dispatch';
import type { Dialogs } from '../hostTypes';
import { errText, parseOrThrow, plainDocumentErrors, slug, str, type StudioPaths } from './common';
import { isHandle, isInside, lexicalPath, realPathOf, resolveFileRef, type FileGrants } from './confine';

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

const JSON_NAME = (p: string) => p.toLowerCase().endsWith('.json');

export function fileHandlers(
  paths: StudioPaths,
  dialogs: Dialogs | undefined,
  recentLimit: number,
  grants: FileGrants,
): Pick<Handlers, 'openFile' | 'saveFile' | 'recentFiles'> {
  const recent = recentList(paths.recent, recentLimit);
  const defaultSavePath = (doc: GraphDocument) => join(paths.graphs, `${slug(str(doc.meta.title) ?? '', 'untitled')}.genloom.json`);

  /** a handle for a file outside graphs/ (where a path would not be accepted for a save); none for a read-only file of the data folder (its path works) */
  async function handleFor(file: string, access: ('read' | 'write')[]): Promise<string | undefined> {
    if (isInside(await realPathOf(paths.graphs), file)) return undefined;
    if (!access.includes('write') && isInside(await realPathOf(paths.dataDir), file)) return undefined;
    return grants.grant(file, access);
  }

  /** where a save goes: the given file, or the dialog's choice (null when cancelled) */
  async function saveTarget(path: string | undefined, saveAs: boolean | undefined, doc: GraphDocument): Promise<{ file: string; picked: boolean } | null> {
    const named = async (ref: string) => {
      if (!isHandle(ref) && !JSON_NAME(ref)) throw new HandlerError(`cannot save ${ref}: a graph file name must end in .json (e.g. .genloom.json)`);
      return { file: await resolveFileRef(ref, { grants, access: 'write', root: paths.graphs, outer: paths.dataDir, base: paths.graphs, what: 'cannot save' }), picked: false };
    };
    if (path !== undefined && !saveAs) return named(path);
    if (dialogs) {
      let start = defaultSavePath(doc);
      if (path !== undefined && !isHandle(path)) {
        try {
          start = lexicalPath(path, paths.graphs);
        } catch {
          /* the dialog starts at the default */
        }
      }
      const chosen = await dialogs.saveFile(start);
      return chosen === null ? null : { file: await realPathOf(resolve(chosen)), picked: true };
    }
    return path !== undefined ? named(path) : { file: defaultSavePath(doc), picked: false };
  }

  return {
    async openFile({ path }) {
      let file: string;
      let picked = false;
      if (path === undefined) {
        if (!dialogs) throw new HandlerError('openFile needs a path: there is no file dialog in web mode');
        const chosen = await dialogs.openFile();
        if (chosen === null) return null;
        file = await realPathOf(resolve(chosen));
        picked = true;
      } else {
        file = await resolveFileRef(path, { grants, access: 'read', root: paths.dataDir, base: paths.graphs, what: 'cannot open' });
      }
      const loaded = await loadDocumentFile(file, registry);
      if (!loaded.ok) {
        throw new HandlerError(`cannot open ${file}:\n${formatDocumentErrors(loaded.errors)}`, { documentErrors: plainDocumentErrors(loaded.errors) });
      }
      const writable = picked || (await grants.allows(file, 'write'));
      const handle = await handleFor(file, writable ? ['read', 'write'] : ['read']);
      await recent.add(file);
      return {
        path: file,
        ...(handle !== undefined && { handle }),
        doc: loaded.doc,
        ...(loaded.warnings.length && { warnings: loaded.warnings.slice(0, 1000) }),
      };
    },

    async saveFile({ path, doc, saveAs }) {
      const parsed = parseOrThrow(doc, 'cannot save');
      const target = await saveTarget(path, saveAs, parsed);
      if (target === null) return null;
      const { file } = target;
      if (!JSON_NAME(file)) {
        throw new HandlerError(`cannot save ${file}: a graph file name must end in .json (e.g. .genloom.json)`);
      }
      if (isInside(await realPathOf(paths.graphs), file)) await mkdir(paths.graphs, { recursive: true });
      try {
        await saveDocumentFile(file, parsed);
      } catch (e) {
        throw new HandlerError(errText(e));
      }
      const handle = target.picked ? await handleFor(file, ['read', 'write']) : isHandle(path ?? '') ? path : undefined;
      await unlink(paths.autosave).catch(() => {});
      await recent.add(file);
      return { path: file, ...(handle !== undefined && { handle }) };
    },

    recentFiles: () => recent.present(),
  };
}
