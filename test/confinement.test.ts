/**
 * The studio's API reaches only its data folder and the files the user picked (file
 * handles the host handed out): every method that takes a path (openFile, saveFile,
 * exportOnnx, startTraining's CSV datasets and graph path) refuses absolute paths outside,
 * '..', and symlinks that lead out, before reading anything; refusals quote no byte of the
 * files concerned. Relative CSV paths resolve against the graph's folder (studio and
 * command line). CSV files read by datasets.ts are regular files only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { TrainRequestInput } from '../src-main/api/trainingProtocol';
import { createStudio, type Dialogs, type TrainingSessionLike } from '../src-main/app/handlers';
import { main } from '../src-main/cli/main';
import { datasetDim, openDataset } from '../src-main/data/datasets';
import { readTemplate } from '../src-main/document/templates';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'genloom-confine-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** a file outside the data folder whose first byte a JSON parse error would quote */
const SECRET = 'Zsecret-content-of-a-private-file\n';
const PASSWD = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n';

let n = 0;
let dataDir: string;
let outside: string;

beforeEach(() => {
  n++;
  dataDir = join(root, `data-${n}`);
  outside = join(root, `outside-${n}`);
  mkdirSync(join(dataDir, 'graphs'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'secret.json'), SECRET);
  writeFileSync(join(outside, 'passwd'), PASSWD);
  writeFileSync(join(outside, 'target.json'), 'untouched');
});

const vae = () => readTemplate('vae-moons') as any;
const withCsv = (csvPath: string) => {
  const doc = vae();
  doc.nodes[0].params = { dataset: 'csv', csvPath, csvColumns: 2 };
  return doc;
};
function circleCsv(rows: number): string {
  const out = ['x,y'];
  for (let i = 0; i < rows; i++) out.push(`${Math.cos(i).toFixed(4)},${Math.sin(i).toFixed(4)}`);
  return `${out.join('\n')}\n`;
}

function fakeHost() {
  const requests: TrainRequestInput[] = [];
  const training = (req: TrainRequestInput): TrainingSessionLike => {
    requests.push(req);
    return { on: () => {}, pause: () => {}, resume: () => {}, stop: () => {}, done: new Promise(() => {}) };
  };
  return { requests, training };
}

/** the message and details of a rejection, as the client would see them */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${(e as Error).message} ${JSON.stringify((e as { details?: unknown }).details ?? null)}`;
  }
  throw new Error('expected a refusal');
}

function expectNoLeak(text: string) {
  expect(text).not.toContain('Zsecret');
  expect(text).not.toMatch(/["'`]Z["'`]/);
  expect(text).not.toContain('root:x');
  expect(text).not.toContain('daemon');
  expect(text).not.toMatch(/line \d+, column \d+/);
}

describe('openFile', () => {
  it('refuses absolute paths outside the data folder, /etc files, .. and symlinks out, without quoting their bytes', async () => {
    const { handlers: h } = createStudio({ dataDir });
    symlinkSync(join(outside, 'secret.json'), join(dataDir, 'graphs', 'link.json'));
    symlinkSync(outside, join(dataDir, 'graphs', 'dirlink'));
    const cases = [
      join(outside, 'secret.json'),
      '/etc/passwd',
      '/etc/shadow',
      `../../outside-${n}/secret.json`,
      'sub/../../secret.json',
      'link.json',
      join(dataDir, 'graphs', 'link.json'),
      'dirlink/secret.json',
      'a\0b.json',
    ];
    for (const path of cases) {
      const msg = await refusal(h.openFile({ path }));
      expectNoLeak(msg);
      expect(msg, path).toMatch(/outside|'\.\.'|symbolic link|NUL/);
      expect(msg).not.toContain('documentErrors');
    }
    expect(await h.recentFiles({})).toEqual([]);
  });

  it('reads files of the data folder (and still explains their errors with positions)', async () => {
    const { handlers: h } = createStudio({ dataDir });
    writeFileSync(join(dataDir, 'graphs', 'bad.json'), '{"format": "genloom", "nodes": [');
    await expect(h.openFile({ path: 'bad.json' })).rejects.toMatchObject({ details: { documentErrors: [expect.objectContaining({ code: 'bad-json' })] } });
    const saved = await h.saveFile({ doc: vae(), path: 'ok.genloom.json', saveAs: false });
    const opened = await h.openFile({ path: saved!.path });
    expect(opened?.path).toBe(join(dataDir, 'graphs', 'ok.genloom.json'));
    expect(opened?.handle).toBeUndefined();
  });

  it.skipIf(process.platform === 'win32')('a FIFO inside the data folder is still refused at once (regular files only); /dev/zero is outside', async () => {
    const { handlers: h } = createStudio({ dataDir });
    const pipe = join(dataDir, 'graphs', 'pipe.genloom.json');
    execFileSync('mkfifo', [pipe]);
    await expect(h.openFile({ path: 'pipe.genloom.json' })).rejects.toThrow(/FIFO \(named pipe\), not a regular file/);
    await expect(h.openFile({ path: '/dev/zero' })).rejects.toThrow(/outside/);
  });

  it('a file picked through the dialog comes back with a handle; unknown and forged handles are refused', async () => {
    const picked = join(outside, 'picked.genloom.json');
    writeFileSync(picked, JSON.stringify(vae()));
    const dialogs: Dialogs = { openFile: async () => picked, saveFile: async () => null };
    const { handlers: h } = createStudio({ dataDir, dialogs });
    const opened = await h.openFile({});
    expect(opened?.path).toBe(picked);
    expect(opened?.handle).toMatch(/^handle:[0-9a-f]{32}$/);
    // the handle opens and saves that file
    expect((await h.openFile({ path: opened!.handle! }))?.path).toBe(picked);
    const doc = vae();
    doc.meta.title = 'saved through a handle';
    expect(await h.saveFile({ path: opened!.handle!, doc, saveAs: false })).toMatchObject({ path: picked });
    expect(JSON.parse(readFileSync(picked, 'utf8')).meta.title).toBe('saved through a handle');
    for (const path of [`handle:${'0'.repeat(32)}`, 'handle:../../etc/passwd', 'handle:']) {
      expect(await refusal(h.openFile({ path }))).toMatch(/unknown file handle/);
      expect(await refusal(h.saveFile({ path, doc, saveAs: false }))).toMatch(/unknown file handle/);
    }
  });

  it('a picked file stays granted in the next session (the recent list), other files beside it do not', async () => {
    const picked = join(outside, 'picked.genloom.json');
    writeFileSync(picked, JSON.stringify(vae()));
    const first = createStudio({ dataDir, dialogs: { openFile: async () => picked, saveFile: async () => null } });
    await first.handlers.openFile({});
    const again = createStudio({ dataDir }).handlers;
    expect(await again.recentFiles({})).toEqual([picked]);
    const reopened = await again.openFile({ path: picked });
    expect(reopened?.path).toBe(picked);
    expect(reopened?.handle).toMatch(/^handle:/);
    expectNoLeak(await refusal(again.openFile({ path: join(outside, 'secret.json') })));
  });
});

describe('saveFile', () => {
  it('refuses paths outside dataDir/graphs, .., symlinks out, and the data folder files themselves; nothing is written', async () => {
    const { handlers: h } = createStudio({ dataDir });
    symlinkSync(join(outside, 'target.json'), join(dataDir, 'graphs', 'link.json'));
    symlinkSync(outside, join(dataDir, 'graphs', 'dirlink'));
    const doc = vae();
    const cases = [
      join(outside, 'new.json'),
      join(outside, 'target.json'),
      '/tmp/genloom-confine-anywhere.json',
      `../../outside-${n}/new.json`,
      'flows/../x.genloom.json',
      'link.json',
      'dirlink/target.json',
      'dirlink/new.json',
      join(dataDir, 'recent.json'),
      join(dataDir, 'grants.json'),
      join(dataDir, 'autosave.json'),
    ];
    for (const path of cases) {
      const msg = await refusal(h.saveFile({ path, doc, saveAs: false }));
      expect(msg, path).toMatch(/outside|'\.\.'|symbolic link/);
    }
    expect(readFileSync(join(outside, 'target.json'), 'utf8')).toBe('untouched');
    expect(existsSync(join(outside, 'new.json'))).toBe(false);
    expect(existsSync('/tmp/genloom-confine-anywhere.json')).toBe(false);
    expect(existsSync(join(dataDir, 'recent.json'))).toBe(false);
    expect(existsSync(join(dataDir, 'grants.json'))).toBe(false);
  });

  it('a graphs/ folder that is itself a symlink out is refused', async () => {
    rmSync(join(dataDir, 'graphs'), { recursive: true });
    symlinkSync(outside, join(dataDir, 'graphs'));
    const { handlers: h } = createStudio({ dataDir });
    expect(await refusal(h.saveFile({ doc: vae(), path: 'target.json', saveAs: false }))).toMatch(/symbolic link/);
    expect(readFileSync(join(outside, 'target.json'), 'utf8')).toBe('untouched');
  });

  it('the save dialog grants the file it returns (saved again through the handle)', async () => {
    const target = join(outside, 'chosen.genloom.json');
    const { handlers: h } = createStudio({ dataDir, dialogs: { openFile: async () => null, saveFile: async () => target } });
    const first = await h.saveFile({ doc: vae(), saveAs: true });
    expect(first).toMatchObject({ path: target, handle: expect.stringMatching(/^handle:/) });
    expect(await h.saveFile({ doc: vae(), path: first!.handle!, saveAs: false })).toMatchObject({ path: target });
    // a read-only handle (a picked dataset) cannot be written
    const csv = join(outside, 'points.json');
    writeFileSync(csv, 'x,y\n1,2\n');
    const ro = createStudio({ dataDir, dialogs: { openFile: async () => null, saveFile: async () => null, openDataset: async () => csv } }).handlers;
    const pick = await ro.pickDataset({});
    expect(await refusal(ro.saveFile({ doc: vae(), path: pick!.handle, saveAs: false }))).toMatch(/does not allow writing|unknown file handle/);
    expect(readFileSync(csv, 'utf8')).toBe('x,y\n1,2\n');
  });
});

describe('exportOnnx', () => {
  async function runWithExporter() {
    const calls: string[] = [];
    const host = fakeHost();
    const studio = createStudio({
      dataDir,
      training: host.training,
      exporter: {
        listTargets: () => [{ id: 'decoder', kind: 'generator', nodeId: 'decoder', description: '' }],
        exportOnnx: async ({ path }) => {
          calls.push(path);
          return { path, bytes: 1, parity: null };
        },
      },
    });
    const { runId, runDir } = await studio.handlers.startTraining({ doc: vae(), steps: 1, seed: 0 });
    return { h: studio.handlers, runId, runDir, calls };
  }

  it('refuses .onnx files outside the data folder, .. and symlinks out; the exporter is never called', async () => {
    const { h, runId, runDir, calls } = await runWithExporter();
    symlinkSync(outside, join(runDir, 'out'));
    for (const path of [join(outside, 'model.onnx'), '/tmp/genloom-anywhere.onnx', `../../../outside-${n}/model.onnx`, 'out/model.onnx']) {
      const msg = await refusal(h.exportOnnx({ runId, target: 'decoder', noise: 'internal', path }));
      expect(msg, path).toMatch(/outside|'\.\.'|symbolic link/);
    }
    expect(calls).toEqual([]);
    // inside the run's folder (relative) and the default both work
    await h.exportOnnx({ runId, target: 'decoder', noise: 'internal', path: 'mine.onnx' });
    await h.exportOnnx({ runId, target: 'decoder', noise: 'internal' });
    expect(calls).toEqual([join(runDir, 'mine.onnx'), join(runDir, 'export', 'decoder.onnx')]);
  });
});

describe('startTraining: CSV datasets', () => {
  it('refuses a csvPath outside the data folder (/etc/passwd, absolute, .., symlink out) and quotes none of the file', async () => {
    const host = fakeHost();
    const { handlers: h } = createStudio({ dataDir, training: host.training });
    symlinkSync(join(outside, 'passwd'), join(dataDir, 'graphs', 'passwd.csv'));
    for (const csvPath of ['/etc/passwd', join(outside, 'passwd'), `../../outside-${n}/passwd`, 'passwd.csv', join(dataDir, 'graphs', 'passwd.csv')]) {
      const msg = await refusal(h.startTraining({ doc: withCsv(csvPath), steps: 1, seed: 0 }));
      expectNoLeak(msg);
      expect(msg, csvPath).toMatch(/dataset node "data": .*(outside|'\.\.'|symbolic link)/);
    }
    expect(host.requests).toEqual([]);
    expect(existsSync(join(dataDir, 'runs')) ? execFileSync('ls', [join(dataDir, 'runs')]).toString().trim() : '').toBe('');
  });

  it('a relative csvPath resolves against the graph folder, not the working directory; the run gets the real path', async () => {
    const host = fakeHost();
    const { handlers: h } = createStudio({ dataDir, training: host.training });
    writeFileSync(join(dataDir, 'graphs', 'points.csv'), circleCsv(40));
    mkdirSync(join(dataDir, 'graphs', 'project'));
    writeFileSync(join(dataDir, 'graphs', 'project', 'points.csv'), circleCsv(40));
    await h.startTraining({ doc: withCsv('points.csv'), steps: 1, seed: 0 });
    const saved = await h.saveFile({ doc: withCsv('points.csv'), path: 'project/g.genloom.json', saveAs: false });
    await h.startTraining({ doc: withCsv('points.csv'), steps: 1, seed: 0, path: saved!.path });
    const csvOf = (r: TrainRequestInput) => ((r.doc as any).nodes[0].params.csvPath as string);
    expect(csvOf(host.requests[0]!)).toBe(join(dataDir, 'graphs', 'points.csv'));
    expect(csvOf(host.requests[1]!)).toBe(join(dataDir, 'graphs', 'project', 'points.csv'));
    expect((host.requests[1]!.program as any).data[0].csvPath).toBe(join(dataDir, 'graphs', 'project', 'points.csv'));
    // a graph path the studio may not name is not used as the base: dataDir/graphs is
    await h.startTraining({ doc: withCsv('passwd'), steps: 1, seed: 0, path: join(outside, 'g.json') });
    expect(csvOf(host.requests[2]!)).toBe(join(dataDir, 'graphs', 'passwd'));
  });

  it('a dataset picked through the dialog (handle) or sent from the browser (importDataset) trains', async () => {
    const host = fakeHost();
    const csv = join(outside, 'mine.csv');
    writeFileSync(csv, circleCsv(30));
    const { handlers: h } = createStudio({ dataDir, training: host.training, dialogs: { openFile: async () => null, saveFile: async () => null, openDataset: async () => csv } });
    const pick = await h.pickDataset({});
    expect(pick).toEqual({ path: csv, handle: expect.stringMatching(/^handle:/) });
    await h.startTraining({ doc: withCsv(pick!.handle), steps: 1, seed: 0 });
    // granted: its path works too, in this session and the next
    await h.startTraining({ doc: withCsv(csv), steps: 1, seed: 0 });
    const next = createStudio({ dataDir, training: host.training }).handlers;
    await next.startTraining({ doc: withCsv(csv), steps: 1, seed: 0 });
    expect(host.requests.map((r) => (r.doc as any).nodes[0].params.csvPath)).toEqual([csv, csv, csv]);

    const a = await h.importDataset({ name: 'browser points.csv', text: circleCsv(25) });
    const b = await h.importDataset({ name: 'browser points.csv', text: 'x,y\n0,0\n' });
    expect(a.path).toBe(join(dataDir, 'datasets', 'browser-points.csv'));
    expect(b.path).not.toBe(a.path);
    expect(readFileSync(a.path, 'utf8')).toBe(circleCsv(25));
    await h.startTraining({ doc: withCsv(a.path), steps: 1, seed: 0 });
    // the name the browser sends is only a name: the file lands in datasets/
    expect((await h.importDataset({ name: '../../evil.csv', text: '1,2\n' })).path).toBe(join(dataDir, 'datasets', 'evil.csv'));
  });
});

describe('the command line and datasets.ts', () => {
  it('genloom validate resolves a relative csvPath against the graph folder, wherever it runs', async () => {
    const dir = join(root, 'cli-graph');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'points.csv'), circleCsv(40));
    writeFileSync(join(dir, 'g.json'), JSON.stringify(withCsv('points.csv')));
    const out: string[] = [];
    const code = await main(['validate', join(dir, 'g.json')], { out: (s) => out.push(s), err: (s) => out.push(s), isTTY: false });
    expect(out.join('\n')).not.toMatch(/bad-dataset/);
    expect(code).toBe(0);
  });

  it.skipIf(process.platform === 'win32')('openDataset and datasetDim refuse a FIFO at once (regular files only)', () => {
    const pipe = join(root, `data-${n}.csv`);
    execFileSync('mkfifo', [pipe]);
    const t0 = Date.now();
    expect(() => openDataset({ csv: pipe }, { seed: 0 })).toThrow(/FIFO|not a regular file/);
    expect(() => datasetDim({ csv: pipe })).toThrow(/not a regular file/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
