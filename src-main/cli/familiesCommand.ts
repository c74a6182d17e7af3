/** `genloom families`: the family modules, their node types, templates and quality bars. */
import { registry } from '../../nodes/index';
import { args } from './args';
import type { Io } from './io';

export async function familiesCommand(argv: string[], io: Io): Promise<number> {
  const { values } = args(argv, { json: { type: 'boolean' } }, 0);
  for (const f of registry.families()) {
    const templates = f.templates.map((t) => ({ name: t.name, file: `nodes/${f.id}/templates/${t.name}.json`, bars: t.bars.map((b) => `${b.metric} ${b.op} ${b.bound}`) }));
    if (values.json) {
      io.out(JSON.stringify({ id: f.id, label: f.label, description: f.description, nodes: f.nodes.map((n) => n.type), templates }));
      continue;
    }
    io.out(`${f.label} (nodes/${f.id}/): ${f.description}`);
    io.out(`  nodes: ${f.nodes.map((n) => n.type).join(', ')}`);
    for (const t of templates) io.out(`  template ${t.name}: ${t.file}${t.bars.length ? `; bars: ${t.bars.join(', ')}` : ''}`);
  }
  return 0;
}
