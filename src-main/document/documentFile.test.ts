import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeRegistry, validDocJson } from './__fixtures__/fakeRegistry';
import { DocumentSaveError, loadDocumentFile, saveDocumentFile } from './documentFile';
import { parseDocument } from './parseDocument';
import type { GraphDocument } from './schema';
import { serializeDocument } from './serializeDocument';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'genloom-doc-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sampleDoc(): GraphDocument {
  const r = parseDocument(JSON.stringify(validDocJson()), fakeRegistry);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.doc;
}

describe('loadDocumentFile', () => {
  it('loads and parses a file', async () => {
    const path = join(dir, 'graph.json');
    await writeFile(path, JSON.stringify(validDocJson()));
    const r = await loadDocumentFile(path, fakeRegistry);
    expect(r.ok && r.doc).toEqual(sampleDoc());
  });

  it('turns a missing file into an io error', async () => {
    const path = join(dir, 'missing.json');
    const r = await loadDocumentFile(path, fakeRegistry);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      { code: 'io', path: '', file: path, message: 'cannot read the file: the file does not exist (ENOENT)' },
    ]);
  });

  it('turns a directory into an io error', async () => {
    const r = await loadDocumentFile(dir, fakeRegistry);
    expect(!r.ok && r.errors[0]!.code).toBe('io');
    expect(!r.ok && r.errors[0]!.message).toContain('EISDIR');
  });

  it('puts the file name on parse errors', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"format": "genloom",\n  "version": 1,\n}');
    const r = await loadDocumentFile(path, fakeRegistry);
    expect(!r.ok && r.errors[0]).toMatchObject({ code: 'bad-json', file: path, line: 3, column: 1 });
  });
});

describe('saveDocumentFile', () => {
  it('writes the serialised document and it loads back equal', async () => {
    const path = join(dir, 'graph.json');
    const doc = sampleDoc();
    await saveDocumentFile(path, doc);
    expect(await readFile(path, 'utf8')).toBe(serializeDocument(doc));
    const r = await loadDocumentFile(path, fakeRegistry);
    expect(r.ok && r.doc).toEqual(doc);
    expect(await readdir(dir)).toEqual(['graph.json']);
  });

  it('replaces an existing file and keeps its permissions', async () => {
    const path = join(dir, 'graph.json');
    await writeFile(path, 'old');
    await chmod(path, 0o640);
    await saveDocumentFile(path, sampleDoc());
    expect(await readFile(path, 'utf8')).toBe(serializeDocument(sampleDoc()));
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['graph.json']);
  });

  it('leaves the existing file intact when serialisation throws', async () => {
    const path = join(dir, 'graph.json');
    await writeFile(path, 'precious');
    const doc = sampleDoc();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    doc.nodes[0]!.params = { cyclic };
    const err = await saveDocumentFile(path, doc).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DocumentSaveError);
    expect((err as DocumentSaveError).reason).toBe('serialize');
    expect(await readFile(path, 'utf8')).toBe('precious');
    expect(await readdir(dir)).toEqual(['graph.json']);
  });

  it('refuses a document that does not match the schema, touching nothing', async () => {
    const path = join(dir, 'graph.json');
    await writeFile(path, 'precious');
    const doc = sampleDoc();
    doc.nodes[1]!.id = 'has space';
    const err = await saveDocumentFile(path, doc).catch((e: unknown) => e);
    expect((err as DocumentSaveError).reason).toBe('invalid-document');
    expect((err as Error).message).toContain('nodes[1].id');
    expect(await readFile(path, 'utf8')).toBe('precious');
    expect(await readdir(dir)).toEqual(['graph.json']);
  });

  it('cleans up its temp file when the final rename fails', async () => {
    // the target is a non-empty directory: the temp file is written, then rename fails
    const target = join(dir, 'graph.json');
    await mkdir(target);
    await writeFile(join(target, 'keep'), 'x');
    const err = await saveDocumentFile(target, sampleDoc()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DocumentSaveError);
    expect((err as DocumentSaveError).reason).toBe('io');
    expect(await readdir(dir)).toEqual(['graph.json']);
    expect(await readdir(target)).toEqual(['keep']);
  });

  it('fails cleanly when the directory does not exist', async () => {
    const err = await saveDocumentFile(join(dir, 'no', 'such', 'graph.json'), sampleDoc()).catch((e: unknown) => e);
    expect((err as DocumentSaveError).reason).toBe('io');
    expect((err as Error).message).toContain('ENOENT');
    expect(await readdir(dir)).toEqual([]);
  });

  it('follows a symlink instead of replacing it', async () => {
    const real = join(dir, 'real.json');
    const link = join(dir, 'link.json');
    await writeFile(real, 'old');
    await symlink(real, link);
    await saveDocumentFile(link, sampleDoc());
    expect((await stat(link)).isFile()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe(serializeDocument(sampleDoc()));
    expect((await readdir(dir)).sort()).toEqual(['link.json', 'real.json']);
  });

  it('concurrent saves never interleave: the file is one whole document', async () => {
    const path = join(dir, 'graph.json');
    const docs = Array.from({ length: 8 }, (_, i) => {
      const d = sampleDoc();
      d.meta.title = `version ${i}`.repeat(200);
      return d;
    });
    await Promise.all(docs.map((d) => saveDocumentFile(path, d)));
    const r = await loadDocumentFile(path, fakeRegistry);
    expect(r.ok).toBe(true);
    expect(await readdir(dir)).toEqual(['graph.json']);
  });
});
