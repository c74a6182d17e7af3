/**
 * Small files of the studio's data folder (recent list, autosave slot), written
 * atomically: temporary file in the same folder, fsync, rename. A crash mid-write leaves
 * the old file or the new one, never half of one.
 */
import { readRegularTextFile } from '../fs/readRegularFile';
import { writeFileAtomic } from '../fs/writeFileAtomic';

/** the most a file of the data folder may have (the autosave slot holds one document) */
export const MAX_DATA_FILE_BYTES = 32 * 1024 * 1024;

export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, { mkdir: true, mode: 0o600 });
}

/** the parsed JSON of a file, or undefined when it is missing, not a regular file, too large or not JSON */
export async function readJsonIfPresent(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readRegularTextFile(path, { maxBytes: MAX_DATA_FILE_BYTES });
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
