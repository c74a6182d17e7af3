/**
 * Bundled templates: each family module lists its own (nodes/<family>/templates/<name>.json).
 * Resolved against the folder that holds nodes/ (the repository, or the packaged app's
 * resources).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registry } from '../../nodes/index';

/** the folder holding nodes/ (src-main/document/ and out/main/ are both two levels down) */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const TEMPLATE_NAMES: readonly string[] = registry.templates().map((t) => t.template.name);

/** the file of a bundled template; throws naming the known templates */
export function templatePath(name: string, root: string = REPO_ROOT): string {
  const t = registry.templates().find((x) => x.template.name === name);
  if (!t) throw new Error(`no bundled template "${name}"; the templates are: ${TEMPLATE_NAMES.join(', ')}`);
  return join(root, t.path);
}

/** the parsed JSON of a bundled template (not yet validated) */
export function readTemplate(name: string, root: string = REPO_ROOT): unknown {
  return JSON.parse(readFileSync(templatePath(name, root), 'utf8'));
}
