import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index';
import { validateGraph } from '../graph/validate';
import { readTemplate, TEMPLATE_NAMES } from '../document/templates';
import { compile, CompileError, programToString } from './compile';
import { fileExternalResolver } from './readGraphFile';

const templates = TEMPLATE_NAMES.map((n) => `${n}.json`).sort();
const read = (file: string) => readTemplate(file.replace(/\.json$/, '')) as any;

describe('compile', () => {
  it.each(templates)('%s prints the same program', (file) => {
    const doc = read(file);
    const program = compile(validateGraph(doc, registry, { resolveExternal: fileExternalResolver(registry) }));
    expect(programToString(program)).toMatchSnapshot();
  });

  it('a GAN has two objectives, critic first, each training only its own network', () => {
    const doc = read('gan-8gaussians.json');
    const p = compile(validateGraph(doc, registry));
    expect(p.objectives.map((o) => [o.nodeId, o.trains])).toEqual([
      ['criticLoss', ['critic']],
      ['generatorLoss', ['generator']],
    ]);
    expect(p.objectives[0]!.paramNames.every((n) => n.startsWith('critic/'))).toBe(true);
    expect(p.objectives[1]!.paramNames.every((n) => n.startsWith('generator/'))).toBe(true);
  });

  it('a flow gets a held-out NLL evaluator; every sampler a sample evaluator', () => {
    const doc = read('realnvp-moons.json');
    const p = compile(validateGraph(doc, registry));
    expect(p.evaluators).toEqual([
      { kind: 'nll', objective: 'nll', dist: { node: 'model', port: 'dist' }, data: 'data' },
      { kind: 'samples', sampler: 'sampler', data: 'data' },
    ]);
  });

  it('refuses a graph with errors, listing them', () => {
    const doc = read('vae-moons.json');
    doc.edges = doc.edges.filter((e: { to: string[] }) => e.to[0] !== 'elbo' || e.to[1] !== 'px');
    expect(() => compile(validateGraph(doc, registry))).toThrow(CompileError);
    expect(() => compile(validateGraph(doc, registry))).toThrow(/\[missing-input\] elbo\.px/);
  });
});
