/** The gallery and the validator: listTemplates and validate. */
import { join } from 'node:path';
import { readDocumentText } from '../../document/index';
import { registry } from '../../../nodes/index';
import type { Result } from '../../api/contract';
import { programToString } from '../../compile/compile';
import { loadProgram } from '../../compile/loadProgram';
import type { Handlers } from '../dispatch';
import { errText, metaOf, plainDocumentErrors, str } from './common';

/** `templateRoot`: the folder holding nodes/<family>/templates/ */
export function templateHandlers(templateRoot: string): Pick<Handlers, 'listTemplates' | 'validate'> {
  return {
    async listTemplates() {
      const out: Result<'listTemplates'> = [];
      for (const { template, family, path } of registry.templates()) {
        let doc: unknown;
        try {
          doc = JSON.parse(await readDocumentText(join(templateRoot, path)));
        } catch (e) {
          console.warn(`[genloom] skipping template ${template.name}: ${errText(e)}`);
          continue;
        }
        const meta = metaOf(doc);
        const id = template.name;
        out.push({ id, title: str(meta.title) ?? id, description: str(meta.description) ?? family.description, dataset: str(meta.dataset) ?? '', doc });
      }
      return out;
    },

    async validate({ doc }) {
      const r = loadProgram(doc ?? null);
      if (r.ok) return { ok: true, diagnostics: r.graph.diagnostics, program: programToString(r.program) };
      return r.stage === 'document' ? { ok: false, diagnostics: [], documentErrors: plainDocumentErrors(r.errors) } : { ok: false, diagnostics: r.diagnostics };
    },
  };
}
