import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { buildMlp, mlpFields, type Mlp } from '../core/mlp';
import { flatSize, tensorShape } from '../core/objective';
import type { FnValue } from '../core/values';

export const mlp = defineNode({
  type: 'network.mlp',
  version: 1,
  title: 'MLP',
  category: 'network',
  role: 'network',
  inputs: {
    x: { type: { kind: 'Tensor' }, doc: 'input vectors' },
    t: { type: { kind: 'Tensor', semantic: 'time' }, optional: true, doc: 'diffusion time step, embedded with sinusoidal features' },
  },
  outputs: {
    y: { type: { kind: 'Tensor' }, doc: 'f_theta(x[, t])' },
    fn: { type: { kind: 'Fn' }, doc: 'the same network as a function, for samplers' },
  },
  params: z.object({
    ...mlpFields,
    /** output width; 0 = same as the input */
    outDim: z.number().int().min(0).max(4096).default(0),
    /** width of the sinusoidal time embedding when t is connected */
    timeEmbedding: z.number().int().min(2).max(512).multipleOf(2).default(32),
    /** discrete: t is a step index 0..T-1; continuous: t in [0, 1], embedded as 1000 t */
    timeDomain: z.enum(['discrete', 'continuous']).default('discrete'),
  }),
  math: {
    latex: 'f_\\theta(x, t) = W_L\\,\\phi(\\cdots \\phi(W_1 [x, \\operatorname{emb}(t)] + b_1)\\cdots) + b_L',
    explain:
      'A fully connected network. With a time input it becomes the noise predictor epsilon_theta(x_t, t) of a diffusion model, or the velocity field v_theta(x, t) of flow matching: t enters through sinusoidal features concatenated to x.',
  },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [3] }, t: { kind: 'Tensor', shape: [] } }, params: { hidden: [8], outDim: 5 } },
  ui: { timeEmbedding: { advanced: true }, timeDomain: { advanced: true } },
  exports: [
    { kind: 'generator', port: 'fn', doc: 'the network as a function z -> x (when it has no time input)' },
    { kind: 'denoiser', port: 'fn', doc: 'the network as a function of (x_t, t) (when it has a time input)' },
  ],
  infer(shapes, p) {
    const x = tensorShape(shapes, 'x');
    const out = [p.outDim || flatSize(x)];
    const timed = shapes.t !== undefined;
    return { y: { kind: 'Tensor', shape: out }, fn: { kind: 'Fn', in: x, out, timeConditioned: timed, ...(timed && { time: p.timeDomain }) } };
  },
  build(ctx, p, shapes): { net: Mlp<any>; fn: FnValue<any> } {
    const x = (shapes.x as { shape: number[] }).shape;
    const timed = shapes.t !== undefined;
    const inDim = flatSize(x);
    const outDim = p.outDim || inDim;
    const net = buildMlp(ctx, inDim, p.hidden, outDim, p.activation, { timeDim: timed ? p.timeEmbedding : 0, timeScale: p.timeDomain === 'continuous' ? 1000 : 1 });
    return {
      net,
      fn: { kind: 'Fn', owner: ctx.nodeId, in: x, out: [outDim], timeConditioned: timed, ...(timed && { time: p.timeDomain }), call: net },
    };
  },
  staticOutputs: ['fn'],
  apply: (_ctx, { inputs, built }) => ({ y: built.net(inputs.x, inputs.t), fn: built.fn }),
});
