/**
 * The Electron fuses of a packaged Genloom, by name (the names of @electron/fuses'
 * FuseV1Options). scripts/fuses.ts flips them in the packaged binary after packaging.
 *
 * - RunAsNode off: ELECTRON_RUN_AS_NODE cannot turn the app into a plain Node.js;
 * - EnableNodeOptionsEnvironmentVariable off: NODE_OPTIONS (--require, --inspect...) is ignored;
 * - EnableNodeCliInspectArguments off: --inspect and friends are ignored;
 * - EnableEmbeddedAsarIntegrityValidation on: app.asar is checked against the hash built into the binary;
 * - OnlyLoadAppFromAsar on: the app is loaded from app.asar only (no app/ folder beside it);
 * - EnableCookieEncryption on: cookies on disk are encrypted with the OS key store.
 * No Electron binary exists here; test/electronSecurity.test.ts checks this object and the
 * config built from it.
 */
export const FUSE_SETTINGS = {
  RunAsNode: false,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  EnableCookieEncryption: true,
} as const;

export type FuseName = keyof typeof FUSE_SETTINGS;

/** the config flipFuses takes: { version: FuseVersion.V1, [FuseV1Options[name]]: value, ... }; throws for a fuse the enum lacks */
export function fuseConfig(options: Record<string, string | number>, version: string, settings: Record<string, boolean> = FUSE_SETTINGS): Record<string, unknown> {
  const config: Record<string, unknown> = { version };
  for (const [name, value] of Object.entries(settings)) {
    const id = options[name];
    if (typeof id !== 'number') throw new Error(`@electron/fuses has no fuse ${name}`);
    config[id] = value;
  }
  return config;
}
