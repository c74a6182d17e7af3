/**
 * The one way the project reads a file a user named (a graph document, a CSV dataset): only
 * a regular file, and at most `maxBytes` of it.
 *
 * The file is opened with O_NONBLOCK, so opening a FIFO returns at once instead of
 * waiting for a writer (which would hold a thread of libuv's pool, or the thread itself,
 * for ever); fstat on the open descriptor then refuses anything but a regular file
 * (FIFO, socket, character or block device such as /dev/zero, folder). O_NONBLOCK has
 * no effect on a regular file. The size is checked before reading, and the reading stops
 * at `maxBytes + 1` bytes in case the file grows meanwhile (or reports no size, as
 * /proc files do). Checking the open descriptor, not the path, leaves no gap between the
 * check and the read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/** O_NONBLOCK where the platform has it (not on Windows, where FIFOs are not files) */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export type FileReadProblem = 'not-regular' | 'too-large' | 'io';

/** a file that cannot be read: `problem` says why; `code` is the errno code of an I/O failure */
export class FileReadError extends Error {
  constructor(
    readonly path: string,
    readonly problem: FileReadProblem,
    readonly reason: string,
    readonly code?: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'FileReadError';
  }
}

export interface ReadLimits {
  /** the most bytes the file may have */
  maxBytes: number;
  /** what the file is, for the size message ("a graph document", "a CSV dataset") */
  what?: string;
}

/** 1536 -> "1.5 KiB" */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

function kindOf(s: Stats): string {
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

function ioReason(e: unknown): { reason: string; code?: string } {
  const code = (e as { code?: unknown } | null)?.code;
  const c = typeof code === 'string' ? code : undefined;
  switch (c) {
    case 'ENOENT':
      return { reason: 'the file does not exist (ENOENT)', code: c };
    case 'EACCES':
    case 'EPERM':
      return { reason: `permission denied (${c})`, code: c };
    case 'EISDIR':
      return { reason: 'it is a folder, not a file (EISDIR)', code: c };
    case 'ENOTDIR':
      return { reason: 'a part of the path is not a folder (ENOTDIR)', code: c };
    case 'ENXIO':
      return { reason: 'it is a socket or a device without a reader (ENXIO), not a regular file', code: c };
    default: {
      const msg = e instanceof Error ? e.message : String(e);
      return { reason: c && !msg.includes(c) ? `${msg} (${c})` : msg, ...(c && { code: c }) };
    }
  }
}

function ioError(path: string, e: unknown): FileReadError {
  if (e instanceof FileReadError) return e;
  const { reason, code } = ioReason(e);
  return new FileReadError(path, 'io', reason, code);
}

function checkStats(path: string, s: Stats, limits: ReadLimits): void {
  // a folder as the read of one would say (some systems let a folder be opened)
  if (s.isDirectory()) throw new FileReadError(path, 'not-regular', 'it is a folder, not a file (EISDIR)', 'EISDIR');
  if (!s.isFile()) throw new FileReadError(path, 'not-regular', `it is ${kindOf(s)}, not a regular file`);
  if (s.size > limits.maxBytes) throw tooLarge(path, s.size, limits);
}

function tooLarge(path: string, size: number | undefined, limits: ReadLimits): FileReadError {
  const has = size === undefined ? `it has more than ${formatBytes(limits.maxBytes)}` : `it has ${formatBytes(size)}`;
  return new FileReadError(path, 'too-large', `${has}; ${limits.what ?? 'a file read here'} may have at most ${formatBytes(limits.maxBytes)}`);
}

/** reads a regular file of at most `maxBytes` bytes without blocking the event loop; throws FileReadError */
export async function readRegularFile(path: string, limits: ReadLimits): Promise<Buffer> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (e) {
    throw ioError(path, e);
  }
  try {
    checkStats(path, await handle.stat(), limits);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, limits.maxBytes + 1 - total));
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > limits.maxBytes) throw tooLarge(path, undefined, limits);
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    throw ioError(path, e);
  } finally {
    await handle.close().catch(() => {});
  }
}

/** readRegularFile as UTF-8 text */
export async function readRegularTextFile(path: string, limits: ReadLimits): Promise<string> {
  return (await readRegularFile(path, limits)).toString('utf8');
}

/** the same, synchronously (for code that is synchronous already, e.g. creating a run's feeds) */
export function readRegularFileSync(path: string, limits: ReadLimits): Buffer {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    throw ioError(path, e);
  }
  try {
    checkStats(path, fstatSync(fd), limits);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, limits.maxBytes + 1 - total));
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got === 0) break;
      chunks.push(buf.subarray(0, got));
      total += got;
      if (total > limits.maxBytes) throw tooLarge(path, undefined, limits);
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    throw ioError(path, e);
  } finally {
    closeSync(fd);
  }
}
