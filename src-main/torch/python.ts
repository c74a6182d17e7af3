/** The python3 that runs the PyTorch programs, and running it. */
import { execFile } from 'node:child_process';

export interface PythonRun {
  stdout: string;
  stderr: string;
  code: number;
}

/** runs a command, never throwing on a non-zero exit */
export function runPython(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<PythonRun> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20, env: opts.env ?? process.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr) + (err && !stderr ? String(err.message) : ''), code });
    });
  });
}

/** the python3 that has torch: $GENLOOM_PYTHON when set, else /usr/bin/python3 (Debian's python3-torch), else python3 on PATH */
export function findTorchPython(): Promise<{ python: string; torch: string } | { error: string }> {
  // looked up once per choice of interpreter (the CLI's check, the session and the studio's panel share it)
  const key = process.env.GENLOOM_PYTHON ?? '';
  let found = probes.get(key);
  if (!found) probes.set(key, (found = probe()));
  return found;
}

const probes = new Map<string, Promise<{ python: string; torch: string } | { error: string }>>();

async function probe(): Promise<{ python: string; torch: string } | { error: string }> {
  const candidates = process.env.GENLOOM_PYTHON ? [process.env.GENLOOM_PYTHON] : ['/usr/bin/python3', 'python3'];
  const tried: string[] = [];
  for (const py of candidates) {
    const r = await runPython(py, ['-c', 'import torch; print(torch.__version__)'], { timeoutMs: 60_000 });
    if (r.code === 0) return { python: py, torch: r.stdout.trim() };
    tried.push(`${py}: ${/No module named|not found|ENOENT/.test(r.stderr) ? (r.stderr.includes('torch') ? 'no torch' : 'not found') : r.stderr.trim().split('\n').pop()}`);
  }
  return { error: `no python3 with torch (${tried.join('; ')}); install PyTorch (Debian: apt-get install python3-torch) or set GENLOOM_PYTHON` };
}
