/**
 * The official ONNX checker, as an independent judge of exported models: runs
 * scripts/onnx_check.py (onnx.checker.check_model(full_check=True) and strict shape
 * inference) with a Python that has the `onnx` package (Debian: apt-get install
 * python3-onnx). GENLOOM_PYTHON picks the interpreter; otherwise python3, then
 * /usr/bin/python3, are tried.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CheckerResult {
  file: string;
  ok: boolean;
  /** 'ok' | 'failed' | 'not run' */
  checker: string;
  shape_inference: string;
  ir_version?: number;
  opset?: Record<string, number>;
  onnx_version?: string;
  error?: string;
}

export const CHECKER_SCRIPT = fileURLToPath(new URL('../../scripts/onnx_check.py', import.meta.url));

let cached: string | null | undefined;

/** a Python interpreter that can `import onnx`, or undefined */
export function findOnnxPython(): string | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const candidates = [process.env.GENLOOM_PYTHON, 'python3', '/usr/bin/python3', 'python'].filter((x): x is string => !!x);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import onnx, onnx.checker, onnx.shape_inference'], { stdio: 'ignore', timeout: 30_000 });
    if (r.status === 0) {
      cached = py;
      return py;
    }
  }
  cached = null;
  return undefined;
}

/** checks model files; undefined when no Python with onnx is installed */
export function runOnnxChecker(files: readonly string[]): CheckerResult[] | undefined {
  const py = findOnnxPython();
  if (!py) return undefined;
  if (!files.length) return [];
  const r = spawnSync(py, [CHECKER_SCRIPT, ...files], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000 });
  const out: CheckerResult[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as CheckerResult);
    } catch {
      /* not a result line */
    }
  }
  for (const f of files) {
    if (!out.some((x) => x.file === f)) out.push({ file: f, ok: false, checker: 'not run', shape_inference: 'not run', error: `the checker gave no result (exit ${r.status}): ${(r.stderr ?? '').slice(-500)}` });
  }
  return out;
}

/** checks models given as bytes (written to a temporary folder) */
export function checkModels(models: readonly { name: string; bytes: Uint8Array }[]): CheckerResult[] | undefined {
  if (!findOnnxPython()) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'genloom-onnx-'));
  try {
    const files = models.map((m, i) => {
      const f = join(dir, `${i}-${m.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.onnx`);
      writeFileSync(f, m.bytes);
      return f;
    });
    const res = runOnnxChecker(files)!;
    return res.map((r) => ({ ...r, file: models[files.indexOf(r.file)]?.name ?? r.file }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
