/**
 * The studio's end-to-end suite (Chromium through playwright-core, web mode). Kept out of
 * the main suite: `npx vitest run -c test/e2e/vitest.e2e.config.ts`.
 * Needs /usr/bin/chromium (Debian: apt-get install -y chromium).
 */
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('../../', import.meta.url)),
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: 'forks',
    fileParallelism: false,
    // the e2e files skip themselves unless this is set (so the main suite stays fast)
    env: { GENLOOM_E2E: '1' },
    reporters: ['verbose'],
  },
});
