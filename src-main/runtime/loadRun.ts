/**
 * Opens a run folder for sampling, evaluation or export: the graph it was trained with,
 * its compiled program, a Trainer holding the newest complete checkpoint, and its data.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Program } from '../compile/compile';
import { loadProgram } from '../compile/loadProgram';
import { initBackend, type BackendName } from './backend';
import { createFeeds, type Feed } from './feeds';
import { readLatestCheckpoint, readRunGraph, type Checkpoint } from './runFolder';
import { Trainer } from './Trainer';

export interface LoadedRun {
  runDir: string;
  doc: unknown;
  program: Program;
  trainer: Trainer;
  feeds: Map<string, Feed>;
  step: number;
  checkpoint: Checkpoint;
  backend: string;
  warnings: string[];
  dispose(): void;
}

export class RunFolderError extends Error {}

export async function loadRun(dir: string, opts: { backend?: BackendName } = {}): Promise<LoadedRun> {
  const runDir = path.resolve(dir);
  if (!existsSync(path.join(runDir, 'graph.json'))) throw new RunFolderError(`${runDir} is not a run folder (no graph.json)`);
  const raw = await readRunGraph(runDir);
  const loaded = loadProgram(raw, { fileName: path.join(runDir, 'graph.json') });
  if (!loaded.ok) throw new RunFolderError(loaded.stage === 'document' ? loaded.message : `the run's ${loaded.message.replace(/^the /, '')}`);
  const { program } = loaded;
  const checkpoint = await readLatestCheckpoint(runDir);
  const { backend } = await initBackend(opts.backend);
  const feeds = createFeeds(program, { seed: checkpoint.state.seed });
  const trainer = new Trainer(program, feeds, { seed: checkpoint.state.seed, batchSize: checkpoint.state.batchSize });
  trainer.store.load(checkpoint.weights);
  trainer.step = checkpoint.step;
  return {
    runDir,
    doc: loaded.doc,
    program,
    trainer,
    feeds,
    step: checkpoint.step,
    checkpoint,
    backend,
    warnings: checkpoint.warnings,
    dispose: () => trainer.dispose(),
  };
}
