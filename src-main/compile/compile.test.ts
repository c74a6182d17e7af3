import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index';
import { validateGraph } from '../graph/validate';
import { compile, CompileError, programToString } from './compile';

const dir = new URL('../../templates/', import.meta.url);
const templates = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('compile', () => {
  it.each(templates)('%s prints the same program', (file) => {
    const doc = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
    const program = compile(validateGraph(doc, registry));
    expect(programToString(program)).toMatchSnapshot();
  });

  it('a GAN has two objectives, critic first, each training only its own network', () => {
    const doc = JSON.parse(readFileSync(new URL('gan-8gaussians.json', dir), 'utf8'));
    const p = compile(validateGraph(doc, registry));
    expect(p.objectives.map((o) => [o.nodeId, o.trains])).toEqual([
      ['criticLoss', ['critic']],
      ['generatorLoss', ['generator']],
    ]);
    expect(p.objectives[0]!.paramNames.every((n) => n.startsWith('critic/'))).toBe(true);
    expect(p.objectives[1]!.paramNames.every((n) => n.startsWith('generator/'))).toBe(true);
  });

  it('a flow gets a held-out NLL evaluator; every sampler a sample evaluator', () => {
    const doc = JSON.parse(readFileSync(new URL('realnvp-moons.json', dir), 'utf8'));
    const p = compile(validateGraph(doc, registry));
    expect(p.evaluators).toEqual([
      { kind: 'nll', objective: 'nll', dist: { node: 'model', port: 'dist' }, data: 'data' },
      { kind: 'samples', sampler: 'sampler', data: 'data' },
    ]);
  });

  it('refuses a graph with errors, listing them', () => {
    const doc = JSON.parse(readFileSync(new URL('vae-moons.json', dir), 'utf8'));
    doc.edges = doc.edges.filter((e: { to: string[] }) => e.to[0] !== 'elbo' || e.to[1] !== 'px');
    expect(() => compile(validateGraph(doc, registry))).toThrow(CompileError);
    expect(() => compile(validateGraph(doc, registry))).toThrow(/\[missing-input\] elbo\.px/);
  });
});
