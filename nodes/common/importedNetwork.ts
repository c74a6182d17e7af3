import { z } from 'zod';
import { defineNode, InferError, type ExternalNode, type NodeCtx } from '../core/defineNode';
import type { FnValue } from '../core/values';
import { mlp } from './mlp';

/** a graph reference naming a bundled template (no path separator, no .json), not a file */
export const isTemplateRef = (graph: string) => graph.startsWith('template:') || (!/[\\/]/.test(graph) && !graph.toLowerCase().endsWith('.json'));

/**
 * A trained network of another graph: the node `node` of the document `graph`, with the
 * weights of the newest checkpoint of its run folder `run`. The teacher of a distillation
 * (a consistency model distilled from a DDPM trained on its own) is wired in this way.
 *
 * Its weights are parameters named `${thisId}/${innerId}/${local}`, loaded from the run when
 * training starts and saved in this graph's checkpoints (a run of this graph opens without
 * the teacher's run). The node is no network of this graph: no objective trains it, its
 * weights stay as they were trained. Relative paths are resolved against the folder of this
 * graph's document (the working folder for a template); `graph` may also name a bundled
 * template.
 */
export const importedNetwork = defineNode({
  type: 'network.imported',
  version: 1,
  title: 'Trained network (from another graph)',
  category: 'network',
  role: 'none',
  inputs: {},
  outputs: {
    fn: { type: { kind: 'Fn' }, doc: 'the trained network as a function (its weights fixed)' },
  },
  params: z.object({
    /** the graph document that defines the network (a .json file, or a bundled template's name) */
    graph: z.string().min(1).max(4096).default('ddpm-swissroll'),
    /** the id of the network node in that document */
    node: z.string().min(1).max(200).default('denoiser'),
    /** the run folder of that document whose newest checkpoint holds the trained weights */
    run: z.string().min(1).max(4096).default('runs/ddpm-swissroll'),
  }),
  math: {
    latex: 'f_{\\phi^*}(x[, t]),\\quad \\phi^* = \\text{the weights of another graph after its training};\\ \\ \\nabla_{\\phi}\\,\\mathcal{L} = 0',
    explain:
      'A network trained in another graph, brought in with its weights: a teacher whose knowledge this graph distils. Nothing here trains it; it is evaluated as it was at the end of its own training.',
  },
  external: (p) => ({ graph: p.graph, node: p.node, run: p.run }),
  resolvePaths: (p, abs) => ({ ...p, graph: isTemplateRef(p.graph) ? p.graph : abs(p.graph), run: abs(p.run) }),
  fixture: {
    inputs: {},
    external: (): ExternalNode => ({
      ref: { graph: 'template:fixture', node: 'denoiser', run: '/runs/fixture' },
      type: mlp.type,
      spec: mlp,
      params: mlp.params.parse({ hidden: [8], timeEmbedding: 4 }),
      inShapes: { x: { kind: 'Tensor', shape: [2] }, t: { kind: 'Tensor', shape: [] } },
      outShapes: { y: { kind: 'Tensor', shape: [2] }, fn: { kind: 'Fn', in: [2], out: [2], timeConditioned: true, time: 'discrete' } },
    }),
  },
  infer(_shapes, p, external) {
    if (!external) throw new InferError('graph', `the network "${p.node}" of ${p.graph} has not been read`, 'bad-input');
    const fn = external.outShapes.fn;
    if (!fn || fn.kind !== 'Fn' || !external.spec.staticOutputs?.includes('fn')) {
      throw new InferError('node', `"${p.node}" in ${external.ref.graph} is a ${external.spec.title}, which offers no network function (fn)`, 'bad-input');
    }
    return { fn };
  },
  build(ctx, p): { fn: FnValue<any> } {
    const ext = ctx.external;
    if (!ext) throw new Error(`${ctx.nodeId}: the network "${p.node}" of ${p.graph} has not been read`);
    const inner = p.node;
    // the inner node's build, its parameters under this node's name, marked as imported
    const sub: NodeCtx<any> = {
      ...ctx,
      param: (local, shape) => ctx.param(`${inner}/${local}`, shape, { kind: 'imported', source: ext.ref.run, name: `${inner}/${local}` }),
      ema: undefined,
      external: undefined,
    };
    const built = ext.spec.build!(sub, ext.params, ext.inShapes as never, {} as never) as { fn: FnValue<any> };
    return { fn: { ...built.fn, owner: ctx.nodeId } };
  },
  staticOutputs: ['fn'],
  apply: (_ctx, { built }) => ({ fn: built.fn }),
});
