/**
 * What the studio's API may touch on disk. A method that takes a path accepts either
 *   - a file handle ("handle:" + 32 hex digits): an opaque id the host handed out for a file
 *     the user picked through a native dialog (Electron) or that the host created for an
 *     upload from the browser's file picker; it maps, on the host only, to a real path and
 *     the access granted (read, write); or
 *   - a path inside a confinement folder (the studio's data folder, or a part of it such
 *     as graphs/ for saves): no '..' segment, no NUL, an absolute path only inside the
 *     folder, and its real path (symlinks resolved) still inside the folder's real path.
 * A file the user picked once through a dialog stays granted across sessions: the host
 * records its real path in dataDir/grants.json (written by the host only; no API method
 * can write there), so a graph reopened from the recent list, or a CSV dataset named by
 * its absolute path in a graph, keeps working without being picked again.
 *
 * A path that is refused is refused before anything is read from it, and the refusal
 * quotes only the path the client sent, so no byte of a file outside the confinement
 * (nor whether it exists) reaches the client.
 */
import { randomBytes } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { readJsonIfPresent, writeJsonAtomic } from '../atomicFile';
import { HandlerError } from '../dispatch';

export type Access = 'read' | 'write';

export const HANDLE_PREFIX = 'handle:';
const HANDLE_RE = /^handle:[0-9a-f]{32}$/;

/** a string that names a file handle (well-formed or not: never taken for a path) */
export const isHandle = (ref: string): boolean => ref.startsWith(HANDLE_PREFIX);

/** the most files grants.json remembers (the oldest are forgotten first) */
export const MAX_GRANTS = 1000;
/** the most handles one session holds */
export const MAX_HANDLES = 10_000;

/** a path or handle the studio refuses; the message quotes only what the client sent */
export class ConfinementError extends HandlerError {
  constructor(message: string) {
    super(message, { confinement: true });
    this.name = 'ConfinementError';
  }
}

/** `p` is `root` or inside it (both absolute, normalised) */
export function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** the real path of `p`, for a file that may not exist yet: its deepest existing ancestor resolved, the rest appended */
export async function realPathOf(p: string): Promise<string> {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      const real = await realpath(cur);
      return rest.length ? join(real, ...rest.reverse()) : real;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      const parent = dirname(cur);
      if (parent === cur) return p;
      rest.push(basename(cur));
      cur = parent;
    }
  }
}

function shown(ref: string): string {
  const s = ref.length > 200 ? `${ref.slice(0, 200)}...` : ref;
  return JSON.stringify(s);
}

/**
 * The lexical part of the check: `ref` resolved against `base` (absolute), or a
 * ConfinementError for NUL and '..' segments. Touches no file.
 */
export function lexicalPath(ref: string, base: string): string {
  if (ref.length === 0) throw new ConfinementError('an empty path');
  if (ref.includes('\0')) throw new ConfinementError(`the path ${shown(ref)} contains a NUL character`);
  if (ref.split(/[\\/]/).includes('..')) throw new ConfinementError(`the path ${shown(ref)} contains '..': name a file inside the studio's data folder, or pick it through the file dialog`);
  return isAbsolute(ref) ? resolve(ref) : resolve(base, ref);
}

/**
 * A path inside `root`: lexically, then with symlinks resolved (the real path, which is
 * what is returned and used). Refused, with `what` in the message, otherwise.
 */
export async function confinedPath(ref: string, opts: { root: string; outer?: string; base?: string; what: string }): Promise<string> {
  const root = resolve(opts.root);
  const abs = lexicalPath(ref, opts.base ?? root);
  if (!isInside(root, abs)) throw new ConfinementError(`${opts.what} ${shown(ref)}: it is outside ${root}; pick the file through the file dialog instead`);
  const realRoot = await realPathOf(root);
  // a confinement folder inside the data folder (graphs/) must not itself be a link out of it
  const outer = opts.outer === undefined ? undefined : resolve(opts.outer);
  const rootInPlace = outer === undefined || !isInside(outer, root) || realRoot === join(await realPathOf(outer), relative(outer, root));
  const real = await realPathOf(abs);
  if (!rootInPlace || !isInside(realRoot, real)) throw new ConfinementError(`${opts.what} ${shown(ref)}: it leads outside ${root} (through a symbolic link)`);
  return real;
}

interface GrantEntry {
  path: string;
  access: Access[];
}

/**
 * The files the host granted: handles (this session) and the persisted list of real
 * paths (grants.json). Only the host adds to it: after a native dialog, an upload, or a
 * save into the data folder.
 */
export class FileGrants {
  private readonly handles = new Map<string, GrantEntry>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string) {}

  private async readList(): Promise<GrantEntry[]> {
    const v = await readJsonIfPresent(this.file);
    if (!Array.isArray(v)) return [];
    return v.filter(
      (e): e is GrantEntry =>
        typeof e === 'object' && e !== null && typeof e.path === 'string' && isAbsolute(e.path) && Array.isArray(e.access) && e.access.every((a: unknown) => a === 'read' || a === 'write'),
    );
  }

  /** grants `access` to the file at real path `path`; returns a fresh handle for it */
  async grant(path: string, access: readonly Access[]): Promise<string> {
    const handle = `${HANDLE_PREFIX}${randomBytes(16).toString('hex')}`;
    const entry = { path, access: [...new Set(access)] };
    this.handles.set(handle, entry);
    // a long session: the oldest handles go first (Map keeps insertion order)
    if (this.handles.size > MAX_HANDLES) this.handles.delete(this.handles.keys().next().value!);
    const next = this.queue.then(async () => {
      const all = await this.readList();
      const old = all.find((e) => e.path === path);
      const list = all.filter((e) => e.path !== path);
      list.unshift({ path, access: [...new Set([...(old?.access ?? []), ...access])] });
      await writeJsonAtomic(this.file, list.slice(0, MAX_GRANTS));
    });
    this.queue = next.catch(() => {});
    await next;
    return handle;
  }

  /** the real path of a handle with `access`, or a ConfinementError */
  lookup(handle: string, access: Access): string {
    const entry = HANDLE_RE.test(handle) ? this.handles.get(handle) : undefined;
    if (!entry) throw new ConfinementError(`unknown file handle ${shown(handle)} (handles last one session: pick the file again)`);
    if (!entry.access.includes(access)) throw new ConfinementError(`the file handle ${shown(handle)} does not allow ${access === 'write' ? 'writing' : 'reading'}`);
    return entry.path;
  }

  /** the file at `path` (absolute, normalised) was granted `access` in this or an earlier session */
  async allows(path: string, access: Access): Promise<boolean> {
    await this.queue;
    return (await this.readList()).some((e) => e.path === path && e.access.includes(access));
  }
}

/**
 * A file reference of the API (a handle, or a path) -> the real path to use, or a
 * ConfinementError: a handle with `access`; else a path inside `root` (relative paths
 * resolve against `base`); else, when `grants` is given, a path the user granted before.
 */
export async function resolveFileRef(
  ref: string,
  opts: { grants: FileGrants; access: Access; root: string; outer?: string; base?: string; what: string; grantedPaths?: boolean },
): Promise<string> {
  if (isHandle(ref)) return opts.grants.lookup(ref, opts.access);
  const root = resolve(opts.root);
  const abs = lexicalPath(ref, opts.base ?? root);
  if (isInside(root, abs)) return confinedPath(ref, opts);
  if (opts.grantedPaths !== false && (await opts.grants.allows(abs, opts.access))) return abs;
  return confinedPath(ref, opts); // throws: outside
}
