import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index';
import { readTemplate, TEMPLATE_NAMES } from '../document/templates';
import { loadRequest } from '../runtime/trainSetup';
import { programToString } from './compile';
import { loadProgramOrThrow } from './loadProgram';
import { programFromWire, programToWire } from './programWire';

const compiled = (name: string) => loadProgramOrThrow(readTemplate(name), (m) => new Error(m));

describe('programWire', () => {
  it.each(TEMPLATE_NAMES)('%s: the program survives the wire (JSON and structured clone) unchanged', (name) => {
    const { program } = compiled(name);
    for (const wire of [JSON.parse(JSON.stringify(programToWire(program))), structuredClone(programToWire(program))]) {
      const back = programFromWire(wire, registry);
      if (typeof back === 'string') throw new Error(back);
      expect(programToString(back)).toBe(programToString(program));
      expect(back.params).toEqual(program.params);
      expect(back.evaluators).toEqual(program.evaluators);
      for (const [id, n] of program.graph.nodes) {
        const m = back.graph.nodes.get(id)!;
        expect(m.spec).toBe(n.spec);
        expect(m.params).toEqual(n.params);
        expect(m.outShapes).toEqual(n.outShapes);
      }
    }
  });

  it('refuses a malformed program with the path of the problem, and an unregistered node type by name', () => {
    const wire = programToWire(compiled('vae-moons').program) as any;
    const noShape = structuredClone(wire);
    delete noShape.params[0].shape;
    expect(programFromWire(noShape, registry)).toMatch(/malformed at params\.0\.shape/);
    const badType = structuredClone(wire);
    badType.graph.nodes[0].type = 'no.such.type';
    expect(programFromWire(badType, registry)).toMatch(/node type "no\.such\.type" \(node "[^"]+"\), which this build does not register/);
    const badOrder = structuredClone(wire);
    badOrder.graph.order.push('ghost');
    expect(programFromWire(badOrder, registry)).toMatch(/order names node "ghost"/);
    expect(programFromWire('a string', registry)).toMatch(/malformed/);
  });

  it('the training worker takes the host-compiled program as it is: no second parse, validation or compile', async () => {
    const { doc, program } = compiled('gan-8gaussians');
    const warnings: string[] = [];
    // a document that would not validate (one node taken out): only the program is used
    const broken = { ...doc, nodes: doc.nodes.slice(1) };
    const r = await loadRequest({ doc: broken, program: programToWire(program), runDir: '/tmp/unused', steps: 1 }, (w) => warnings.push(w));
    if (typeof r === 'string') throw new Error(r);
    expect(programToString(r.program)).toBe(programToString(program));
    // without a program the same document is compiled, and refused
    const again = await loadRequest({ doc: broken, runDir: '/tmp/unused', steps: 1 }, () => {});
    expect(again).toMatch(/invalid[\s\S]*no node with id/);
    // and a malformed program is refused with a message, not a crash
    expect(await loadRequest({ doc, program: { graph: 1 }, runDir: '/tmp/unused', steps: 1 }, () => {})).toMatch(/compiled program .* malformed/);
  });
});
