/**
 * Unit tests of the renderer's model (pure TypeScript, no DOM): `npx vitest run -c src-renderer/vitest.config.ts`.
 * (They are fast; the main suite can include 'src-renderer/**\/*.test.ts' too.)
 */
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('../', import.meta.url)),
  test: {
    include: ['src-renderer/**/*.test.ts'],
    pool: 'forks',
  },
});
