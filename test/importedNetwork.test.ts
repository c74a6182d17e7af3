/**
 * A trained network of another graph (network.imported): the teacher of a distillation is
 * another document, referenced by path (or a bundled template's name), with the weights of
 * its run folder.
 * - resolution: the other document is read and validated, its node found; every failure is a
 *   'bad-external' diagnostic on the node's `graph` port that says what is wrong (a missing
 *   template or file, a node that is not there or offers no network, documents that refer
 *   to one another in a cycle); relative paths name files beside the document;
 * - the compiled program marks the weights as imported, and carries the resolved node over
 *   the wire to the training worker;
 * - a new run copies the weights from the teacher's newest checkpoint before its run folder
 *   is written (a missing teacher run or a teacher trained from another version of the
 *   document stops it with a message naming the command to run); the weights stay as
 *   trained; the run's own checkpoints carry them, so it resumes without the teacher's run;
 *   a Trainer never runs a round with weights that were not loaded.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../nodes/index';
import type { TrainEvent } from '../src-main/api/trainingProtocol';
import { programToString } from '../src-main/compile/compile';
import { loadProgram } from '../src-main/compile/loadProgram';
import { programFromWire, programToWire } from '../src-main/compile/programWire';
import { fileExternalResolver } from '../src-main/compile/readGraphFile';
import { readTemplate } from '../src-main/document/templates';
import { validateGraph } from '../src-main/graph/validate';
import { initBackend } from '../src-main/runtime/backend';
import { createFeeds, withCsvPathsResolved } from '../src-main/runtime/feeds';
import { readLatestCheckpoint } from '../src-main/runtime/runFolder';
import { runTraining, type TrainControl } from '../src-main/runtime/trainLoop';
import { Trainer } from '../src-main/runtime/Trainer';
import { runCli } from './cliHarness';

let tmp: string;
beforeAll(async () => {
  await initBackend('wasm');
  tmp = mkdtempSync(join(tmpdir(), 'genloom-import-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** the ddpm-swissroll teacher, small */
function teacherDoc(hidden = [16]): any {
  const doc = readTemplate('ddpm-swissroll') as any;
  doc.nodes.find((n: any) => n.id === 'denoiser').params.hidden = hidden;
  return doc;
}

/** the distillation template with its student small and its teacher at `teacher` */
function studentDoc(teacher: Record<string, string>): any {
  const doc = readTemplate('consistency-distill-ddpm-swissroll') as any;
  doc.nodes.find((n: any) => n.id === 'net').params.hidden = [16];
  Object.assign(doc.nodes.find((n: any) => n.id === 'teacher').params, teacher);
  return doc;
}

const badExternal = (doc: unknown) => {
  const g = validateGraph(doc as never, registry, { resolveExternal: fileExternalResolver(registry, tmp) });
  return g.diagnostics.filter((d) => d.code === 'bad-external');
};

describe('resolving the other graph', () => {
  it('the bundled template resolves: its denoiser (an MLP in discrete time) is the teacher, its weights imported', () => {
    const r = loadProgram(readTemplate('consistency-distill-ddpm-swissroll'));
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
    if (!r.ok) return;
    const t = r.graph.nodes.get('teacher')!;
    expect(t.external).toMatchObject({ ref: { graph: 'template:ddpm-swissroll', node: 'denoiser' }, type: 'network.mlp' });
    expect(t.outShapes.fn).toMatchObject({ kind: 'Fn', in: [2], out: [2], time: 'discrete' });
    const imported = r.program.params.filter((p) => p.init.kind === 'imported');
    expect(imported.map((p) => p.name)).toContain('teacher/denoiser/l0.w');
    expect(imported.every((p) => p.name.startsWith('teacher/denoiser/'))).toBe(true);
    // no objective trains the teacher
    expect(r.program.objectives.flatMap((o) => o.paramNames).some((n) => n.startsWith('teacher/'))).toBe(false);
    expect(programToString(r.program)).toContain('imported(denoiser/l0.w)');
  });

  it('every failure is a bad-external diagnostic on the node, saying what is wrong', () => {
    writeFileSync(join(tmp, 'notjson.json'), '{ not json');
    const cases: [Record<string, string>, RegExp][] = [
      [{ graph: 'no-such-template' }, /no bundled template "no-such-template".*ddpm-swissroll/],
      [{ graph: 'missing/teacher.json' }, /cannot read the graph "missing\/teacher.json".*(no such file|does not exist|ENOENT)/i],
      [{ graph: 'notjson.json' }, /notjson\.json/],
      [{ node: 'nope' }, /has no node "nope" \(its nodes: data, schedule, diffuse, denoiser/],
    ];
    for (const [params, message] of cases) {
      const ds = badExternal(studentDoc(params));
      expect(ds, JSON.stringify(params)).toHaveLength(1);
      expect(ds[0]).toMatchObject({ nodeId: 'teacher', port: 'graph', severity: 'error' });
      expect(ds[0]!.message).toMatch(message);
    }
    // a node that is there but offers no network function
    const g = validateGraph(studentDoc({ node: 'loss' }), registry, { resolveExternal: fileExternalResolver(registry, tmp) });
    const d = g.diagnostics.find((x) => x.nodeId === 'teacher')!;
    expect(d.message).toMatch(/offers no network function/);
    // without a resolver (nothing reads files): reported, not thrown
    expect(validateGraph(studentDoc({}), registry).diagnostics.find((x) => x.nodeId === 'teacher')?.code).toBe('bad-external');
  });

  it('documents that import from one another in a cycle end with a message, not a stack overflow', () => {
    const self = studentDoc({ graph: join(tmp, 'cycle.json'), node: 'teacher' });
    writeFileSync(join(tmp, 'cycle.json'), JSON.stringify(self));
    const ds = badExternal(self);
    expect(ds).toHaveLength(1);
    expect(ds[0]!.message).toMatch(/more than 4 deep/);
  });

  it('relative paths name files beside the document: made absolute when the document is read', () => {
    const doc = studentDoc({ graph: 'teacher.json', run: 'runs/teacher' });
    const abs = withCsvPathsResolved(doc, '/some/folder');
    const p = abs.nodes.find((n: any) => n.id === 'teacher')!.params as Record<string, string>;
    expect(p).toMatchObject({ graph: '/some/folder/teacher.json', run: '/some/folder/runs/teacher', node: 'denoiser' });
    // a template name is no path
    const t = withCsvPathsResolved(studentDoc({}), '/some/folder').nodes.find((n: any) => n.id === 'teacher')!.params as Record<string, string>;
    expect(t.graph).toBe('ddpm-swissroll');
  });

  it('the resolved node travels with the compiled program to the training worker', () => {
    const r = loadProgram(studentDoc({}));
    if (!r.ok) throw new Error(r.message);
    const back = programFromWire(JSON.parse(JSON.stringify(programToWire(r.program))), registry);
    if (typeof back === 'string') throw new Error(back);
    const ext = back.graph.nodes.get('teacher')!.external!;
    expect(ext.spec).toBe(registry.get('network.mlp'));
    expect(ext.params).toEqual(r.graph.nodes.get('teacher')!.external!.params);
    expect(programToString(back)).toBe(programToString(r.program));
    // a Trainer builds from it, and refuses to train before the teacher's weights are loaded
    const t = new Trainer(back, createFeeds(back, { seed: 0 }), { seed: 0, batchSize: 8 });
    try {
      expect(() => t.round(false)).toThrow(/never loaded.*teacher\/denoiser\//);
    } finally {
      t.dispose();
    }
  });
});

describe('training with a teacher from another run', () => {
  const free: TrainControl = { paused: () => false, stopped: () => false, waitWhilePaused: async () => {} };
  async function train(req: { doc: unknown; runDir: string; steps: number; resume?: boolean }) {
    const events: TrainEvent[] = [];
    await runTraining({ batchSize: 32, logEvery: 1, checkpointEvery: 10, sampleEvery: 100_000, seed: 1, ...req }, (e) => events.push(e), free, null);
    const stopped = events.find((e) => e.type === 'stopped') as Extract<TrainEvent, { type: 'stopped' }>;
    const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
    return { stopped, warnings };
  }

  it('copies the weights of the teacher run, keeps them as trained, checkpoints them; refuses a missing or mismatched teacher run', async () => {
    const teacherFile = join(tmp, 'teacher.json');
    const teacherRun = join(tmp, 'runs', 'teacher');
    writeFileSync(teacherFile, JSON.stringify(teacherDoc()));
    const student = studentDoc({ graph: teacherFile, run: teacherRun });

    // no teacher run yet: stopped with the command to run, and no student run folder left behind
    const early = await train({ doc: student, runDir: join(tmp, 'runs', 'early'), steps: 5 });
    expect(early.stopped).toMatchObject({ reason: 'error' });
    expect(early.stopped.message).toMatch(/train the teacher first: genloom train .*teacher\.json --out .*runs\/teacher/);
    await expect(readLatestCheckpoint(join(tmp, 'runs', 'early'))).rejects.toThrow();
    // the command line removes the folder it made for the refused run
    const studentFile = join(tmp, 'student.json');
    writeFileSync(studentFile, JSON.stringify(student));
    const cli = await runCli('train', studentFile, '--steps', '5', '--out', join(tmp, 'runs', 'refused'));
    expect(cli.code).toBe(1);
    expect(cli.err).toMatch(/train the teacher first/);
    expect(existsSync(join(tmp, 'runs', 'refused'))).toBe(false);

    const t = await train({ doc: teacherDoc(), runDir: teacherRun, steps: 20 });
    expect(t.stopped).toMatchObject({ reason: 'done', step: 20 });
    const taught = (await readLatestCheckpoint(teacherRun)).weights;

    const runDir = join(tmp, 'runs', 'student');
    const s = await train({ doc: student, runDir, steps: 10 });
    expect(s.stopped, s.stopped.message).toMatchObject({ reason: 'done', step: 10 });
    expect(s.warnings.some((w) => /teacher: the trained network of .*teacher\.json loaded from .*runs\/teacher \(step 20\)/.test(w))).toBe(true);
    const mine = (await readLatestCheckpoint(runDir)).weights;
    let compared = 0;
    for (const [name, v] of taught) {
      if (!name.startsWith('denoiser/')) continue;
      expect(Array.from(mine.get(`teacher/${name}`)!.data)).toEqual(Array.from(v.data));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(4);
    // the student did train
    expect(Array.from(mine.get('net/l0.w')!.data)).not.toEqual(Array.from((await readLatestCheckpoint(runDir)).weights.get('teacher/denoiser/l0.w')!.data));

    // the teacher's run gone: the student's run resumes from its own checkpoints
    rmSync(teacherRun, { recursive: true, force: true });
    const more = await train({ doc: student, runDir, steps: 20, resume: true });
    expect(more.stopped, more.stopped.message).toMatchObject({ reason: 'done', step: 20 });

    // a teacher document changed since its run was trained: the weights do not fit
    await train({ doc: teacherDoc(), runDir: teacherRun, steps: 10 });
    writeFileSync(teacherFile, JSON.stringify(teacherDoc([24])));
    const wrong = await train({ doc: student, runDir: join(tmp, 'runs', 'wrong'), steps: 5 });
    expect(wrong.stopped).toMatchObject({ reason: 'error' });
    expect(wrong.stopped.message).toMatch(/has shape \[.*\], .*declares \[.*\]: the run was trained from a different version of the document/);
  }, 120_000);
});
