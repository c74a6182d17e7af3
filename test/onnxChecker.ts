import { expect } from 'vitest';
import { checkModels } from '../src-main/export/checker';

/** the official ONNX checker passes every model; fails (not skips) on CI when it is missing */
export function expectCheckerPasses(list: { name: string; bytes: Uint8Array }[]): void {
  const res = checkModels(list);
  if (!res) {
    if (process.env.CI === 'true') throw new Error('CI=true but no python3 with the onnx package was found (apt-get install python3-onnx)');
    console.warn('ONNX checker not available (apt-get install python3-onnx): skipped');
    return;
  }
  expect(res.filter((r) => !r.ok).map((r) => `${r.file}: ${r.error}`)).toEqual([]);
  expect(res).toHaveLength(list.length);
}
