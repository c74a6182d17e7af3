import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReadError, formatBytes, readRegularFile, readRegularFileSync, readRegularTextFile } from './readRegularFile';

const dir = mkdtempSync(join(tmpdir(), 'genloom-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** a FIFO made with mkfifo(1); undefined where the platform has none (Windows) */
function fifo(name: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  const p = join(dir, name);
  execFileSync('mkfifo', [p]);
  return p;
}

const limits = { maxBytes: 1000, what: 'a test file' };

describe('readRegularFile', () => {
  it('reads a regular file', async () => {
    const p = join(dir, 'a.txt');
    writeFileSync(p, 'héllo');
    expect(await readRegularTextFile(p, limits)).toBe('héllo');
    expect(readRegularFileSync(p, limits).toString('utf8')).toBe('héllo');
  });

  it.skipIf(process.platform === 'win32')('refuses a FIFO at once instead of waiting for a writer', async () => {
    const p = fifo('pipe')!;
    const t0 = Date.now();
    const e = await readRegularFile(p, limits).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FileReadError);
    expect((e as FileReadError).problem).toBe('not-regular');
    expect((e as Error).message).toMatch(/pipe: it is a FIFO \(named pipe\), not a regular file/);
    expect(() => readRegularFileSync(p, limits)).toThrow(/FIFO/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it.skipIf(!existsSync('/dev/zero'))('refuses a device such as /dev/zero (it never ends)', async () => {
    await expect(readRegularFile('/dev/zero', limits)).rejects.toThrow(/\/dev\/zero: it is a character device, not a regular file/);
    expect(() => readRegularFileSync('/dev/zero', limits)).toThrow(/character device/);
  });

  it('refuses a folder, a missing file and a file over the cap, saying which', async () => {
    await expect(readRegularFile(dir, limits)).rejects.toThrow(/it is a folder|EISDIR/);
    await expect(readRegularFile(join(dir, 'nope'), limits)).rejects.toMatchObject({ problem: 'io', code: 'ENOENT' });
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(1001));
    await expect(readRegularFile(big, limits)).rejects.toMatchObject({ problem: 'too-large' });
    await expect(readRegularFile(big, limits)).rejects.toThrow(/it has 1001 bytes; a test file may have at most 1000 bytes/);
    expect(() => readRegularFileSync(big, limits)).toThrow(/at most 1000 bytes/);
    writeFileSync(big, 'x'.repeat(1000));
    expect((await readRegularFile(big, limits)).length).toBe(1000);
  });

  it.skipIf(!existsSync('/proc/self/status'))('stops at the cap when the size is not known in advance (/proc files report 0)', async () => {
    await expect(readRegularFile('/proc/self/status', { maxBytes: 10 })).rejects.toThrow(/more than 10 bytes/);
  });

  it('formats sizes', () => {
    expect(formatBytes(12)).toBe('12 bytes');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(16 * 1024 * 1024)).toBe('16 MiB');
  });
});
