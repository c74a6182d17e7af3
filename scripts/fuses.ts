/**
 * After packaging: flips the Electron fuses of the packaged binary (scripts/fuseSettings.ts).
 *
 *   node bin/run-ts.mjs scripts/fuses.ts PATH_TO_PACKAGED_ELECTRON_BINARY
 *
 * (e.g. release/linux-unpacked/genloom, release/mac/Genloom.app, release/win-unpacked/Genloom.exe).
 * It also resets the ad-hoc code signature on macOS arm64 (flipping invalidates it).
 * Exits 1 with a message when the binary cannot be found or flipped.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUSE_SETTINGS, fuseConfig } from './fuseSettings';

interface FusesModule {
  FuseV1Options: Record<string, string | number>;
  FuseVersion: { V1: string };
  flipFuses(path: string, config: Record<string, unknown>): Promise<number>;
}

export async function applyFuses(binary: string): Promise<number> {
  const name = '@electron/fuses';
  const fuses = (await import(name)) as FusesModule;
  const config = fuseConfig(fuses.FuseV1Options, fuses.FuseVersion.V1, FUSE_SETTINGS);
  config.resetAdHocDarwinSignature = process.platform === 'darwin' && process.arch === 'arm64';
  return fuses.flipFuses(binary, config);
}

async function main(argv: string[]): Promise<number> {
  const binary = argv[0];
  if (!binary) {
    console.error('usage: fuses.ts PATH_TO_PACKAGED_ELECTRON_BINARY');
    return 2;
  }
  const path = resolve(binary);
  if (!existsSync(path)) {
    console.error(`no packaged binary at ${path}`);
    return 1;
  }
  try {
    const flipped = await applyFuses(path);
    console.log(`fuses set on ${path} (${flipped} changed): ${Object.entries(FUSE_SETTINGS).map(([k, v]) => `${k}=${v ? 'on' : 'off'}`).join(', ')}`);
    return 0;
  } catch (e) {
    console.error(`cannot set the fuses of ${path}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
