/**
 * The one atomic file write of the project (graph documents, run folders, the studio's data
 * folder): a temporary file in the same folder, fsync, rename over the target, then fsync
 * the folder so the rename itself survives a crash. A crash mid-write leaves the old file
 * or the new one, never half of one. A symlinked target is written through its link, and
 * an existing file keeps its permissions.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: { mkdir?: boolean; mode?: number } = {}): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const dir = dirname(target);
  if (opts.mkdir) await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = await stat(target).then(
    (s) => s.mode & 0o7777,
    () => opts.mode,
  );
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx', mode ?? 0o666);
    if (mode !== undefined) await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, target);
  } catch (e) {
    if (handle) await handle.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fsyncDir(dir);
}

/** makes renames and creations in `dir` durable; best effort (not possible everywhere) */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* e.g. Windows cannot open a folder */
  }
}
