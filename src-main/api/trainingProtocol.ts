/**
 * The training protocol between a training host (worker thread, Electron utilityProcess,
 * or in-process for tests) and whoever started it (CLI, Electron main, web server).
 * Every message is validated with these schemas on arrival.
 */
import { z } from 'zod';

export const BackendPref = z.enum(['tensorflow', 'wasm', 'cpu', 'torch']);

export const TrainRequest = z.object({
  /** the graph document (parsed JSON) */
  doc: z.unknown(),
  /**
   * the document compiled by the host (compile/programWire): the worker then trusts `doc`
   * as parsed and does not parse, validate and compile it a second time
   */
  program: z.unknown().optional(),
  /** the run folder: graph, config, checkpoints, metrics.jsonl, samples */
  runDir: z.string().min(1),
  steps: z.number().int().min(1).max(10_000_000),
  seed: z.number().int().default(0),
  batchSize: z.number().int().min(1).max(65536).optional(),
  backend: BackendPref.optional(),
  /** continue from the run folder's last checkpoint */
  resume: z.boolean().default(false),
  logEvery: z.number().int().min(1).default(10),
  sampleEvery: z.number().int().min(1).default(250),
  sampleCount: z.number().int().min(1).max(100_000).default(500),
  checkpointEvery: z.number().int().min(1).default(500),
  /** evaluate the REFERENCE metrics every N steps (0 = only at the end) */
  evalEvery: z.number().int().min(0).default(0),
  /** backend torch: the PyTorch device (cpu, cuda, cuda:N) */
  device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, 'cpu, cuda or cuda:N').default('cpu'),
  /** backend torch: processes (torchrun, data parallel) */
  nproc: z.number().int().min(1).max(1024).default(1),
  /**
   * a finished run (one PyTorch trained): load its newest checkpoint, draw samples and
   * evaluate; no round runs and nothing is written
   */
  evaluateOnly: z.boolean().default(false),
});
export type TrainRequest = z.infer<typeof TrainRequest>;
export type TrainRequestInput = z.input<typeof TrainRequest>;

export const TrainCommand = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), request: TrainRequest }),
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
  z.object({ type: z.literal('stop') }),
]);
export type TrainCommand = z.infer<typeof TrainCommand>;

const Terms = z.record(z.string(), z.record(z.string(), z.number()));

export const TrainEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('started'),
    backend: z.string(),
    runDir: z.string(),
    step: z.number().int(),
    totalSteps: z.number().int(),
    program: z.string(),
    objectives: z.array(z.object({ nodeId: z.string(), terms: z.array(z.string()).optional() })),
    samplers: z.array(z.object({ nodeId: z.string(), shape: z.array(z.number()) })),
  }),
  z.object({
    type: z.literal('step'),
    step: z.number().int(),
    totalSteps: z.number().int(),
    stepsPerSec: z.number(),
    etaSec: z.number(),
    losses: Terms,
  }),
  z.object({
    type: z.literal('samples'),
    step: z.number().int(),
    sampler: z.string(),
    shape: z.array(z.number()),
    data: z.array(z.number()),
  }),
  /** the metrics hook is running (done of total parts; what: the part just finished); a 'metrics' event ends it */
  z.object({ type: z.literal('evaluating'), step: z.number().int(), done: z.number().int(), total: z.number().int(), what: z.string().optional() }),
  z.object({ type: z.literal('metrics'), step: z.number().int(), metrics: z.record(z.string(), z.number()) }),
  z.object({ type: z.literal('checkpoint'), step: z.number().int(), path: z.string() }),
  z.object({ type: z.literal('warning'), message: z.string() }),
  z.object({ type: z.literal('paused'), step: z.number().int() }),
  z.object({ type: z.literal('resumed'), step: z.number().int() }),
  z.object({
    type: z.literal('stopped'),
    step: z.number().int(),
    reason: z.enum(['done', 'user', 'non-finite', 'error']),
    message: z.string().optional(),
    /** for non-finite: the objective that produced it */
    nodeId: z.string().optional(),
    /** the last good checkpoint, kept intact */
    checkpoint: z.string().optional(),
  }),
]);
export type TrainEvent = z.infer<typeof TrainEvent>;
