/**
 * Program -> one self-contained PyTorch training program (train.py), recorded by running
 * the graph's nodes on TorchOps exactly as the trainer runs them on tfjs:
 *
 *   build()               what the nodes build once (schedules, embeddings, EMA targets)
 *   loss_<objective>(n, feed, new_state) -> (loss, {term: value})
 *                         one step's loss; the detached nodes upstream (Langevin negatives)
 *                         first, under no_grad, as the trainer evaluates them off the tape;
 *                         an objective trained by update rules also returns the new values
 *   sample_<sampler>(n)   n samples
 *   OBJECTIVES            order, steps per round, optimiser, trained parameters, EMA links
 *
 * followed by the fixed runtime (pythonRuntime.ts: data, optimisers, loop, checkpoints,
 * torchrun). The program reads its initial weights (and large constants) from
 * weights.safetensors beside it, and the rows of MNIST or CSV data from data.safetensors.
 */
import type { StateInit } from '../../nodes/core/defineNode';
import type { Init } from '../../nodes/core/ops';
import type { LossValue } from '../../nodes/core/values';
import { formatOptimizer, type ObjectiveProgram, type Program } from '../compile/compile';
import { Runner, stepInputs, type EvalOptions, type Memo } from '../compile/execute';
import { instrumentGraph } from '../export/targets';
import { PYTHON_RUNTIME } from './pythonRuntime';
import { TORCH_BATCH, TorchOps, TorchUnsupportedError, pyNumber, type TorchConstant, type TorchValue } from './TorchOps';

/** the version of the program's layout: a program of another version is refused by the importer */
export const TORCH_PROGRAM_VERSION = 1;

export interface PersistentSpec {
  name: string;
  shape: number[];
  init: StateInit;
}

export interface EmitOptions {
  /** the graph's name (run folder default, comments) */
  name: string;
  genloom: string;
  seed: number;
  batchSize: number;
  steps: number;
}

export interface EmittedProgram {
  /** train.py */
  source: string;
  /** constants too large to inline, stored as `const/<key>` in weights.safetensors */
  constants: TorchConstant[];
  /** the persistent non-trained tensors (node state, EMA shadows) the program reads from its weights file */
  persistent: PersistentSpec[];
  /** samplers with no PyTorch form, and why */
  skippedSamplers: { nodeId: string; reason: string }[];
}

const py = (s: string) => JSON.stringify(s);
const ident = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');

/** a float32 array as a Python list literal */
function pyList(data: Float32Array | Int32Array): string {
  return `[${Array.from(data, (v) => (data instanceof Int32Array ? String(v) : pyNumber(Math.fround(v)))).join(', ')}]`;
}

export function emitProgram(program: Program, opts: EmitOptions): EmittedProgram {
  const g = program.graph;
  const ops = new TorchOps();
  ops.describeNode = (id) => {
    const n = g.nodes.get(id);
    return n ? { type: n.type, math: n.spec.math.latex.replace(/\s+/g, ' ').trim() } : undefined;
  };
  const graph = instrumentGraph(g, ops);
  const emas: { name: string; source: string; decay: number }[] = [];
  const persistent: PersistentSpec[] = [];
  const remember = (name: string, shape: number[], init: StateInit) => {
    if (!persistent.some((p) => p.name === name)) persistent.push({ name, shape: [...shape], init });
  };
  let newState = false;
  const runnerEnv = {
    param: (name: string, shape: number[], _init: Init) => ops.external(`P[${py(name)}]`, shape),
    state: (name: string, shape: number[], init: StateInit) => {
      remember(name, shape, init);
      return ops.external(`S[${py(name)}]`, shape);
    },
    setState: (name: string, v: TorchValue) => {
      if (!newState) return;
      ops.line(`new_state[${py(name)}] = ${v.expr}`);
    },
    ema: (name: string, source: string, decay: number, shape: number[], init: Init) => {
      remember(name, shape, init);
      if (!emas.some((e) => e.name === name)) emas.push({ name, source, decay });
      return ops.external(`S[${py(name)}]`, shape);
    },
  };
  const built = ops.recordBlock(() => new Runner(graph, ops, runnerEnv));
  const runner = built.result;
  const out: string[] = [];
  const w = (...lines: string[]) => out.push(...lines);

  // ------------------------------------------------------------ build
  const buildNames = new Set<string>();
  for (const l of built.lines) {
    const m = /^\s+([A-Za-z_]\w*(?:, [A-Za-z_]\w*)*) = /.exec(l);
    if (m) for (const v of m[1]!.split(', ')) buildNames.add(v);
  }
  w('', '# ------------------------------------------------------------------ built once (nodes\' constants, schedules, EMA targets)');
  w('def build():');
  if (buildNames.size) w(`    global ${[...buildNames].join(', ')}`);
  w(...built.lines, '    return None', '');

  // ------------------------------------------------------------ objectives
  const objectiveEntries: string[] = [];
  for (const o of program.objectives) {
    const { upstream: up, detached, shared, data: dataIds } = stepInputs(g, o.nodeId);
    const update = o.optimizer.kind === 'update';
    const recordAt = (batchSize: number) => {
      const eo: EvalOptions<TorchValue> = {
        batchSize,
        mode: 'train',
        feed: (id) => ops.external(`feed[${py(id)}]`, [batchSize, program.data.find((d) => d.nodeId === id)!.dim]),
      };
      return ops.recordBlock(() => {
        let memo: Memo<TorchValue> = new Map();
        if (detached.length) {
          ops.line('with torch.no_grad():  # detached nodes: evaluated off the tape, shared with the step');
          const before: Memo<TorchValue> = new Map();
          ops.nested(() => runner.evaluate(detached, eo, before));
          memo = new Map([...before].filter(([id]) => shared.has(id)));
        }
        const [v] = runner.evaluate([{ node: o.nodeId, port: 'loss' }], eo, memo);
        const loss = v as LossValue<TorchValue>;
        const updates = update ? runner.updates(o.trains, eo, memo) : undefined;
        return { loss, updates };
      });
    };
    newState = true;
    // any batch size where the nodes allow it; else the export's batch (a node reads the batch size)
    let fixedBatch: number | undefined;
    let rec: ReturnType<typeof recordAt>;
    try {
      if ([...up].some((id) => g.nodes.get(id)!.spec.batchDependent)) throw new TorchUnsupportedError('a node depends on the batch size');
      rec = recordAt(TORCH_BATCH);
    } catch {
      fixedBatch = opts.batchSize;
      rec = recordAt(fixedBatch);
    } finally {
      newState = false;
    }
    const fn = `loss_${ident(o.nodeId)}`;
    const terms = Object.entries(rec.result.loss.terms).map(([k, t]) => `${py(k)}: ${t.expr}`);
    w(`# ------------------------------------------------------------------ objective ${o.nodeId} (${o.type}): ${o.title}`);
    w(`#   trains ${o.trains.join(', ')} with ${formatOptimizer(o.optimizer)}, ${o.stepsPerRound} step(s) per round`);
    w(`def ${fn}(n, feed, new_state):`, ...rec.lines);
    if (rec.result.updates) {
      const ups = [...rec.result.updates].map(([k, t]) => `${py(k)}: ${t.expr}`);
      w(`    return ${rec.result.loss.value.expr}, {${terms.join(', ')}}, {${ups.join(', ')}}`, '');
    } else w(`    return ${rec.result.loss.value.expr}, {${terms.join(', ')}}`, '');
    objectiveEntries.push(objectiveEntry(o, fn, dataIds, fixedBatch));
  }
  // EMA links are known once every build ran: each objective takes the shadows of what it trains
  w('# ------------------------------------------------------------------ samplers');
  const skippedSamplers: EmittedProgram['skippedSamplers'] = [];
  const samplerEntries: string[] = [];
  for (const s of program.samplers) {
    try {
      const rec = ops.recordBlock(() => {
        ops.line('with torch.no_grad():');
        return ops.nested(() => runner.evaluate([{ node: s.nodeId, port: 'samples' }], { batchSize: TORCH_BATCH, mode: 'sample' })[0] as TorchValue);
      });
      const fn = `sample_${ident(s.nodeId)}`;
      w(`def ${fn}(n):`, ...rec.lines, `    return ${rec.result.expr}`, '');
      samplerEntries.push(`    ${py(s.nodeId)}: ${fn},`);
    } catch (e) {
      skippedSamplers.push({ nodeId: s.nodeId, reason: (e as Error).message });
      w(`# sampler ${s.nodeId} has no PyTorch form here: ${(e as Error).message.replace(/\n/g, ' ')}`, '');
    }
  }

  // ------------------------------------------------------------ tables
  const small = ops.constants.filter((c) => c.data.length <= 64);
  const large = ops.constants.filter((c) => c.data.length > 64);
  w('# ------------------------------------------------------------------ constants (larger ones are in weights.safetensors as const/<key>)');
  w('def INLINE_CONSTANTS():', '    return {');
  for (const c of small) w(`        ${py(c.key)}: torch.tensor(${pyList(c.data)}, dtype=torch.${c.dtype}).reshape(${c.shape.length ? `(${c.shape.join(', ')}${c.shape.length === 1 ? ',' : ''})` : '()'}),`);
  w('    }', '');
  w('OBJECTIVES = [', ...objectiveEntries, ']');
  w(
    'for _o in OBJECTIVES:',
    "    _o['emas'] = [e for e in GRAPH['emas'] if e['source'] in _o['params']]",
    '',
    'SAMPLERS = {',
    ...samplerEntries,
    '}',
    '',
  );
  const graphInfo = {
    name: opts.name,
    genloom: opts.genloom,
    programVersion: TORCH_PROGRAM_VERSION,
    seed: opts.seed,
    batchSize: opts.batchSize,
    steps: opts.steps,
    params: program.params.map((p) => ({ name: p.name, shape: p.shape })),
    persistent: persistent.map((p) => p.name),
    emas,
    /** large int32 constants, stored as float32 in the weights file */
    intConstants: large.filter((c) => c.dtype === 'int32').map((c) => c.key),
    data: program.data.map((d) => ({ node: d.nodeId, dataset: d.dataset, dim: d.dim, file: d.dataset === 'csv' || d.dataset.startsWith('mnist') })),
  };
  const head = [
    '#!/usr/bin/env python3',
    `"""The graph ${py(opts.name)} as a PyTorch training program (Genloom ${opts.genloom}, program version ${TORCH_PROGRAM_VERSION}).`,
    '',
    'Train:        python3 train.py --steps N --device cpu|cuda --out RUN',
    'Several GPUs: torchrun --standalone --nproc_per_node N train.py --steps N --device cuda --out RUN',
    '',
    'The run folder has the layout of a Genloom run (checkpoints/step-*/weights.safetensors,',
    'optimizer.safetensors, state.json; metrics.jsonl), so `genloom sample`, `evaluate` and',
    '`export` read it as they read a run trained in the app. Each function below is one',
    'recorded evaluation of the graph; a comment names the node each line comes from, with',
    'its equation.',
    '"""',
  ];
  const source = [
    ...head,
    PYTHON_RUNTIME,
    '# ================================================================== the graph',
    `GRAPH = json.loads(${py(JSON.stringify(graphInfo))})`,
    ...out,
    "if __name__ == '__main__':",
    '    main()',
    '',
  ].join('\n');
  return { source, constants: large, persistent, skippedSamplers };
}

function objectiveEntry(o: ObjectiveProgram, fn: string, data: string[], batch: number | undefined): string {
  const { clipWeights, ...rest } = o.optimizer;
  const optimizer = { ...rest, ...(clipWeights !== undefined && { clipWeights }) };
  return `    {'name': ${py(o.nodeId)}, 'fn': ${fn}, 'stepsPerRound': ${o.stepsPerRound}, 'optimizer': json.loads(${py(JSON.stringify(optimizer))}), 'params': ${JSON.stringify(o.paramNames)}, 'data': ${JSON.stringify(data)}, 'batch': ${batch ?? 'None'}},`;
}
