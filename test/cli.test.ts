/** The genloom command line, end to end through `main(argv, io)`: exit codes and outputs. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registry } from '../nodes/index';
import { runCli } from './cliHarness';
import { loadTemplate } from './trainTemplate';

const dir = mkdtempSync(join(tmpdir(), 'genloom-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli;

const tiny = join(dir, 'tiny-vae.json');
writeFileSync(tiny, JSON.stringify(loadTemplate('vae-moons', { encoder: { hidden: [16] }, decoder: { hidden: [16] } })));

describe('genloom CLI', () => {
  it('prints usage and exits 2 without a command, 0 with --help', async () => {
    expect((await run()).code).toBe(2);
    const h = await run('--help');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/genloom train FILE/);
  });

  it('families: every family module with its node types and templates', async () => {
    const r = await run('families', '--json');
    expect(r.code).toBe(0);
    const fams = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(fams.map((f: { id: string }) => f.id)).toEqual(registry.families().map((f) => f.id));
    expect(fams.flatMap((f: { nodes: string[] }) => f.nodes).sort()).toEqual(registry.types().sort());
    expect((await run('validate', 'ddpm-swissroll')).code).toBe(0); // a template's name stands for its file
  });

  it('validate: 0 for a valid template, 2 for a bad graph naming node and port', async () => {
    expect((await run('validate', 'nodes/gan/templates/gan-8gaussians.json')).code).toBe(0);
    const doc = JSON.parse(readFileSync(tiny, 'utf8'));
    doc.edges = doc.edges.filter((e: { to: string[] }) => !(e.to[0] === 'elbo' && e.to[1] === 'px'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify(doc));
    const r = await run('validate', bad, '--json');
    expect(r.code).toBe(2);
    const j = JSON.parse(r.out);
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ code: 'missing-input', nodeId: 'elbo', port: 'px' }));
  });

  it('bad input files exit 2 with the path in the file, never a stack trace', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "format": "genloom", "version": 1,\n  "nodes": [}');
    const r = await run('info', broken);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/line 2, column/);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/);
    const missing = await run('validate', join(dir, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no such file/);
  });

  it('bad usage exits 2', async () => {
    expect((await run('train', tiny, '--steps', 'many')).code).toBe(2);
    expect((await run('train', tiny, '--backend', 'gpu')).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('sample', dir, '--n', '5', '--out', join(dir, 'x.csv'))).code).toBe(2); // not a run folder
  });

  it('info prints the compiled program', async () => {
    const r = await run('info', 'ddpm-swissroll');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/loss \(loss\.epsilonMse\) x1: trains denoiser/);
  });

  it('train, sample (csv, json, png), eval and resume a run', async () => {
    const runDir = join(dir, 'run');
    const t = await run('train', tiny, '--steps', '40', '--out', runDir, '--seed', '3', '--json');
    expect(t.code).toBe(0);
    const events = t.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ type: 'started', backend: expect.any(String) });
    expect(events.at(-1)).toMatchObject({ type: 'stopped', reason: 'done', step: 40 });
    expect(events.some((e) => e.type === 'step' && Number.isFinite(e.losses.elbo.recon))).toBe(true);

    for (const ext of ['csv', 'json', 'png']) {
      const file = join(runDir, `s.${ext}`);
      expect((await run('sample', runDir, '--n', '50', '--out', file)).code).toBe(0);
      expect(existsSync(file)).toBe(true);
    }
    const csv = readFileSync(join(runDir, 's.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('x0,x1');
    expect(csv).toHaveLength(51);
    expect(readFileSync(join(runDir, 's.png')).subarray(1, 4).toString()).toBe('PNG');

    const e = await run('eval', runDir, '--json', '--n', '300');
    expect(e.code).toBe(0);
    const m = JSON.parse(e.out).metrics;
    expect(m['sampler.energy']).toBeGreaterThan(0);
    expect(m['elbo.negElbo']).toBeGreaterThan(0);

    const r = await run('resume', runDir, '--steps', '60', '--json');
    expect(r.code).toBe(0);
    const last = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ type: 'stopped', reason: 'done', step: 60 });
  });
});
