/**
 * Inputs that used to hang or leak: a document nested thousands of levels deep (the
 * training worker was left running when postMessage threw), and FIFOs or devices given as
 * a graph file or a CSV dataset (a read that never ends, or never starts). The command
 * line runs in a child process with a time limit, so a hang fails the test instead of
 * stalling the suite.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createStudio } from '../src-main/app/handlers';
import type { ChildProcessLike } from '../src-main/app/hostTypes';
import { utilityProcessHost } from '../src-main/app/utilityHost';
import { readTemplate } from '../src-main/document/templates';
import { createFeeds } from '../src-main/runtime/feeds';
import { loadProgramOrThrow } from '../src-main/compile/loadProgram';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'genloom-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HAS_FIFO = process.platform !== 'win32';
function fifo(name: string): string {
  const p = join(tmp, name);
  execFileSync('mkfifo', [p]);
  return p;
}

/** a command in a child process; killed after `timeoutMs` (timedOut then says so) */
function child(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string; err: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timedOut = false;
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => {
      timedOut = true;
      c.kill('SIGKILL');
    }, timeoutMs);
    c.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out, err, timedOut });
    });
  });
}
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;

/**
 * `genloom` commands run one after the other through main() in one child process (one
 * start-up for all); each result is printed as it ends, so a hang shows which command hung
 */
async function genloomAll(commands: string[][], timeoutMs = 120_000) {
  const cli = pathToFileURL(join(ROOT, 'src-main/cli/main.ts')).href;
  const code = `
    const { main } = await import(${JSON.stringify(cli)});
    for (const argv of ${JSON.stringify(commands)}) {
      let out = '', err = '';
      const code = await main(argv, { out: (s) => (out += s + '\\n'), err: (s) => (err += s + '\\n'), isTTY: false });
      process.stdout.write(JSON.stringify({ argv, code, out, err }) + '\\n');
    }
    process.exit(0);`;
  const r = await child(['--import', TSX, '--input-type=module', '-e', code], timeoutMs);
  const results = r.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { argv: string[]; code: number; out: string; err: string });
  const hung = commands[results.length];
  expect(r.timedOut, hung ? `genloom ${hung.join(' ')} hung` : 'the child did not exit').toBe(false);
  expect(results, r.err).toHaveLength(commands.length);
  return results;
}

async function run(...argv: string[]) {
  const { main } = await import('../src-main/cli/main');
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), isTTY: false });
  return { code, out, err };
}

/** the VAE template text with `meta.deep` a `depth`-deep array */
function deepDocText(depth: number): string {
  const doc = readTemplate('vae-moons') as any;
  doc.meta.deep = '@@';
  return JSON.stringify(doc).replace('"@@"', `${'['.repeat(depth)}${']'.repeat(depth)}`);
}

describe('a document nested 5000 levels deep', () => {
  const file = join(tmp, 'deep.json');
  writeFileSync(file, deepDocText(5000));

  it('validate and train refuse it at parse time with a clear error (exit 2)', async () => {
    for (const cmd of ['validate', 'train']) {
      const r = await run(...[cmd, file, '--steps', '1'].slice(0, cmd === 'train' ? 4 : 2));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/deep\.json: the document is nested more than 64 levels deep .* \(at line 1, column \d+\)/);
      expect(r.err).not.toMatch(/call stack/);
    }
  });

  it('the studio refuses it without starting a training session', async () => {
    let started = 0;
    const studio = createStudio({
      dataDir: join(tmp, 'studio-deep'),
      training: () => {
        started++;
        throw new Error('must not start');
      },
    });
    const doc = JSON.parse(deepDocText(5000));
    await expect(studio.handlers.startTraining({ doc, steps: 5, seed: 0 })).rejects.toThrow(/nested more than 64 levels deep/);
    await expect(studio.handlers.validate({ doc })).resolves.toMatchObject({ ok: false, documentErrors: [expect.objectContaining({ code: 'too-deep' })] });
    expect(started).toBe(0);
    await studio.dispose();
  });

  it('a session whose request cannot be posted to its worker ends with an error and leaves no worker behind (the process exits)', async () => {
    // startTraining directly (no parsing): postMessage of the request throws in the structured clone
    const session = pathToFileURL(join(ROOT, 'src-main/session/TrainingSession.ts')).href;
    const code = `
      const { startTraining } = await import(${JSON.stringify(session)});
      let deep = []; for (let i = 0; i < 20000; i++) deep = [deep];
      const s = startTraining({ doc: { format: 'genloom', meta: { deep } }, runDir: ${JSON.stringify(join(tmp, 'deep-run'))}, steps: 1 });
      const end = await s.done;
      console.log(JSON.stringify(end));
      // no process.exit: a worker left running keeps the process alive`;
    const r = await child(['--import', TSX, '--input-type=module', '-e', code], 90_000);
    expect(r.timedOut, `the process did not exit: ${r.out} ${r.err}`).toBe(false);
    expect(r.code).toBe(0);
    const end = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(end).toMatchObject({ type: 'stopped', reason: 'error' });
    expect(end.message).toMatch(/could not be sent to the training worker/);
  });
});

describe('a training request the Electron training process cannot be sent', () => {
  it('ends the session with reason error and kills the child (no exception in the main process)', async () => {
    const on = new Map<string, (...a: any[]) => void>();
    let killed = 0;
    const child: ChildProcessLike = {
      postMessage: () => {
        throw new RangeError('Maximum call stack size exceeded');
      },
      kill: () => {
        killed++;
        setImmediate(() => on.get('exit')?.(1));
        return true;
      },
      on: (ev: string, fn: (...a: any[]) => void) => void on.set(ev, fn),
    } as ChildProcessLike;
    const session = await utilityProcessHost(() => child)({ doc: {}, runDir: join(tmp, 'u'), steps: 1 });
    const events: unknown[] = [];
    session.on((e) => events.push(e));
    expect(() => on.get('spawn')!()).not.toThrow();
    await expect(session.done).resolves.toMatchObject({ reason: 'error' });
    expect(killed).toBe(1);
    expect(events).toContainEqual(expect.objectContaining({ type: 'stopped', reason: 'error', message: expect.stringMatching(/could not be sent to the training process/) }));
  });
});

describe.skipIf(!HAS_FIFO)('FIFOs and devices instead of files', () => {
  it('validate, info and train refuse a FIFO graph, /dev/zero and a FIFO CSV dataset at once (exit 2)', async () => {
    const graphPipe = fifo('graph.json');
    const csv = fifo('data.csv');
    const doc = readTemplate('vae-moons') as any;
    doc.nodes[0].params = { dataset: 'csv', csvPath: csv, csvColumns: 2 };
    const graph = join(tmp, 'fifo-csv.json');
    writeFileSync(graph, JSON.stringify(doc));
    const zero = existsSync('/dev/zero');
    const results = await genloomAll([
      ['validate', graphPipe],
      ['info', graphPipe],
      ['train', graphPipe, '--steps', '1'],
      ...(zero ? [['validate', '/dev/zero']] : []),
      ['validate', graph],
      ['train', graph, '--steps', '1', '--out', join(tmp, 'fifo-run')],
    ]);
    for (const r of results) expect(r.code, r.argv.join(' ')).toBe(2);
    for (const r of results.slice(0, 3)) expect(r.err).toMatch(/graph\.json: it is a FIFO \(named pipe\), not a regular file/);
    if (zero) expect(results[3]!.err).toMatch(/\/dev\/zero: it is a character device, not a regular file/);
    for (const r of results.slice(-2)) expect(r.err + r.out).toMatch(/data\.csv: it is a FIFO \(named pipe\), not a regular file/);
    // the feeds of a run refuse it too
    const { program } = loadProgramOrThrow(doc, (m) => new Error(m));
    expect(() => createFeeds(program, { seed: 0 })).toThrow(/dataset node "data": cannot read the CSV file .*data\.csv: it is a FIFO/);
  });

  it('the studio: openFile on FIFOs and /dev/zero is refused at once; the other file requests keep answering', async () => {
    const studio = createStudio({ dataDir: join(tmp, 'studio-fifo') });
    const h = studio.handlers;
    // the studio opens files of its data folder only (studio/confine.ts): the FIFOs are there
    mkdirSync(join(tmp, 'studio-fifo', 'graphs'), { recursive: true });
    const pipes = [0, 1, 2, 3, 4, 5].map((i) => fifo(join('studio-fifo', 'graphs', `open-${i}.genloom.json`)));
    const t0 = Date.now();
    const results = await Promise.allSettled(pipes.map((path) => h.openFile({ path })));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(String((r as PromiseRejectedResult).reason.message)).toMatch(/FIFO \(named pipe\), not a regular file/);
    }
    // outside the data folder: refused before it is opened
    if (existsSync('/dev/zero')) await expect(h.openFile({ path: '/dev/zero' })).rejects.toThrow(/outside/);
    // the file I/O of the server still answers
    await expect(h.recentFiles({})).resolves.toEqual([]);
    expect((await h.listTemplates({})).length).toBeGreaterThan(0);
    await expect(h.autosave({ doc: { a: 1 } })).resolves.toMatchObject({ savedAt: expect.any(Number) });
    expect(Date.now() - t0).toBeLessThan(20_000);
    await studio.dispose();
  }, 30_000);
});
