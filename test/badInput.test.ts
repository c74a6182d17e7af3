/**
 * Bad input that should say more: misspelt params, long error lists, CSV datasets checked
 * by `validate` (and before `train`), held-out metrics on small CSV sets, and the exit
 * codes and messages of the command line (bad input is 2).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliHarness';
import { loadProgramOrThrow } from '../src-main/compile/loadProgram';
import { readTemplate } from '../src-main/document/templates';
import { evaluateRun } from '../src-main/eval/evaluate';
import { initBackend } from '../src-main/runtime/backend';
import { createFeeds } from '../src-main/runtime/feeds';
import { runPaths } from '../src-main/runtime/runFolder';
import { Trainer } from '../src-main/runtime/Trainer';

const dir = mkdtempSync(join(tmpdir(), 'genloom-badinput-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli;

function vae(edit: (doc: any) => void = () => {}): any {
  const doc = readTemplate('vae-moons') as any;
  for (const n of doc.nodes) if (Array.isArray(n.params.hidden)) n.params.hidden = [16];
  edit(doc);
  return doc;
}
function file(name: string, doc: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
}
/** n rows of two columns on a circle */
function circleCsv(n: number): string {
  const rows = ['x,y'];
  for (let i = 0; i < n; i++) rows.push(`${Math.cos(i).toFixed(5)},${Math.sin(i).toFixed(5)}`);
  return `${rows.join('\n')}\n`;
}
const withCsv = (csvPath: string, columns = 2) => vae((d) => (d.nodes[0].params = { dataset: 'csv', csvPath, csvColumns: columns }));

describe('misspelt params and long error lists', () => {
  it('validate warns about a misspelt param with a did-you-mean (and stays valid)', async () => {
    const g = file(
      'typo.json',
      vae((d) => {
        const enc = d.nodes.find((n: any) => n.id === 'encoder');
        enc.params.latnetDim = 3;
        delete enc.params.latentDim;
      }),
    );
    const r = await run('validate', g);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/warning \[unknown-param\] encoder\.latnetDim: no param "latnetDim"; it is ignored and the default is used \(did you mean "latentDim"\?\)/);
    const j = JSON.parse((await run('validate', g, '--json')).out);
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ code: 'unknown-param', nodeId: 'encoder', port: 'latnetDim' }));
  });

  it('the studio: openFile says which params of the file were ignored', async () => {
    const { createStudio } = await import('../src-main/app/handlers');
    // the studio opens files of its data folder (or picked through a dialog): graphs/ here
    mkdirSync(join(dir, 'studio', 'graphs'), { recursive: true });
    const g = file(
      join('studio', 'graphs', 'typo.genloom.json'),
      vae((d) => (d.nodes.find((n: any) => n.id === 'encoder').params.latnetDim = 3)),
    );
    const studio = createStudio({ dataDir: join(dir, 'studio') });
    const r = await studio.handlers.openFile({ path: g });
    expect(r?.warnings).toEqual([
      expect.objectContaining({ code: 'unknown-param', nodeId: 'encoder', path: 'nodes[1].params.latnetDim', message: expect.stringMatching(/did you mean "latentDim"\?/) }),
    ]);
    await studio.dispose();
  });

  it('error output is capped: at most 50 errors, then "... and N more"', async () => {
    const doc = vae();
    for (let i = 0; i < 3000; i++) doc.edges.push({ from: [`ghost${i}`, 'x'], to: ['elbo', 'px'] });
    const g = file('many-errors.json', doc);
    for (const cmd of ['validate', 'info']) {
      const r = await run(cmd, g);
      expect(r.code).toBe(2);
      const text = r.out + r.err;
      expect(text.split('\n').filter((l) => /there is no node with id "ghost/.test(l)).length).toBe(50);
      expect(text).toMatch(/\.\.\. and 2950 more errors/);
      expect(text.length).toBeLessThan(20_000);
    }
  });
});

describe('CSV datasets', () => {
  it('validate reads and checks a CSV dataset: a bad cell, wrong columns, too few rows, a missing file', async () => {
    const bad = file('bad.csv', 'x,y\n1,2\n3,abc\n');
    let r = await run('validate', file('g-bad.json', withCsv(bad)));
    expect(r.code).toBe(2);
    expect(r.out).toContain(`error [bad-dataset] data.csvPath: ${bad}: line 3, column 2: "abc" is not a number`);

    const three = file('three.csv', 'a,b,c\n1,2,3\n4,5,6\n');
    r = await run('validate', file('g-cols.json', withCsv(three)));
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/three\.csv has 3 numeric column\(s\) \(a, b, c\), the Dataset node is set to 2/);

    const small = file('small.csv', circleCsv(12));
    r = await run('validate', file('g-small.json', withCsv(small)));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/warning \[small-dataset\] data\.csvPath: .*small\.csv has 12 row\(s\): 11 for training and 1 held out .* at least 2 held-out rows, i\.e\. 20 rows/);

    r = await run('validate', file('g-missing.json', withCsv(join(dir, 'nope.csv'))));
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/nope\.csv: the file does not exist/);

    r = await run('validate', file('g-good.json', withCsv(file('good.csv', circleCsv(300)))));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/valid \(0 error\(s\), 0 warning\(s\)\)/);
  });

  it('train refuses a bad CSV before starting (exit 2)', async () => {
    const r = await run('train', file('g-bad2.json', withCsv(file('bad2.csv', 'x,y\n1,2\n3,abc\n'))), '--steps', '2', '--out', join(dir, 'bad-csv-run'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad2\.csv: line 3, column 2: "abc" is not a number/);
  });

  it('held-out metrics work on a CSV set of 300 rows (30 held out), not only on 20,000 and more', async () => {
    await initBackend('cpu');
    const { program } = loadProgramOrThrow(withCsv(file('circle.csv', circleCsv(300))), (m) => new Error(m));
    const feeds = createFeeds(program, { seed: 0 });
    const trainer = new Trainer(program, feeds, { seed: 0, batchSize: 32 });
    try {
      for (let i = 0; i < 5; i++) trainer.round(false);
      const m = evaluateRun(trainer, program, feeds, { n: 2000 });
      expect(Number.isFinite(m['sampler.energy'])).toBe(true);
      expect(Number.isFinite(m['sampler.mmd2'])).toBe(true);
      expect(Number.isFinite(m['elbo.negElbo'])).toBe(true);
      expect(feeds.get('data')!.heldOut(2000).length).toBe(30 * 2);
    } finally {
      trainer.dispose();
    }
  });
});

describe('exit codes and messages of the command line', () => {
  const tiny = join(dir, 'tiny.json');
  const runDir = join(dir, 'run');
  beforeAll(async () => {
    writeFileSync(tiny, JSON.stringify(vae()));
    const t = await run('train', tiny, '--steps', '20', '--out', runDir, '--checkpoint-every', '10', '--json');
    expect(t.code, t.err).toBe(0);
  });

  it('--batch-size 100000 and other out-of-range options are bad usage (exit 2), saying the range', async () => {
    let r = await run('train', tiny, '--batch-size', '100000', '--out', join(dir, 'x'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--batch-size must be between 1 and 65536, got 100000/);
    r = await run('train', tiny, '--steps', '0');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--steps must be between 1 and 10000000, got 0/);
    r = await run('train', tiny, '--checkpoint-every', '-3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--checkpoint-every must be at least 1, got -3/);
  });

  it('a --out that cannot be written is bad input (exit 2), naming it and why', async () => {
    const f = join(dir, 'a-file');
    writeFileSync(f, 'x');
    const r = await run('train', tiny, '--steps', '2', '--out', join(f, 'run'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`cannot create the run folder ${f}/run: ${f} is a file, not a folder`));
  });

  it('sample --n -5 says what is wrong', async () => {
    const r = await run('sample', runDir, '--n', '-5', '--out', join(dir, 's.csv'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--n must be between 1 and 1000000, got -5/);
  });

  it('sample warns when the latest checkpoint is corrupt and it falls back', async () => {
    const copy = join(dir, 'run-corrupt');
    mkdirSync(copy);
    for (const name of ['graph.json', 'config.json']) writeFileSync(join(copy, name), readFileSync(join(runDir, name)));
    const { cpSync } = await import('node:fs');
    cpSync(runPaths(runDir).checkpoints, runPaths(copy).checkpoints, { recursive: true });
    const w = join(copy, 'checkpoints', 'step-0000020', 'weights.safetensors');
    const bytes = readFileSync(w);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(w, bytes);
    const r = await run('sample', copy, '--n', '10', '--out', join(dir, 'fallback.csv'));
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: using checkpoint step-0000010 instead: .*step-0000020: weights\.safetensors does not match its SHA-256/);
    expect(r.err).toMatch(/\(step 10\)/);
  });

  it('resume names a broken config.json (exit 2)', async () => {
    const copy = join(dir, 'run-badconfig');
    mkdirSync(copy);
    writeFileSync(join(copy, 'graph.json'), readFileSync(join(runDir, 'graph.json')));
    writeFileSync(join(copy, 'config.json'), '{"steps": 20, ');
    const r = await run('resume', copy, '--steps', '30');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`${copy}/config\\.json is not valid JSON`));
  });
});
