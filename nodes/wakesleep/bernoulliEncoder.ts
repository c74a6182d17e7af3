import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { bernoulli } from '../core/dists';
import { buildMlp, mlpFields } from '../core/mlp';
import { flatSize, tensorShape } from '../core/objective';
import type { FnValue } from '../core/values';

/**
 * The recognition network of a Helmholtz machine (Hinton, Dayan, Frey & Neal 1995): an MLP
 * from x to the logits l_phi(x) of H independent Bernoulli units,
 *   q_phi(z|x) = prod_j Bern(z_j; sigma(l_phi(x)_j)),  log q = sum_j z_j l_j - softplus(l_j).
 * Binary codes have no reparameterisation: its draws carry no gradient, and q is trained by
 * maximum likelihood on (x, z) pairs, dreamed from p (sleep) or drawn from q and reweighted
 * (the wake-phase q update of reweighted wake-sleep).
 * `fn` is the network as a function for the sleep phase: x -> the logits l_phi(x) of q(z|x).
 */
export const bernoulliEncoder = defineNode({
  type: 'encoder.bernoulli',
  version: 1,
  title: 'Bernoulli recognition network',
  category: 'encoder',
  role: 'network',
  inputs: { x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'observations x' } },
  outputs: {
    q: { type: { kind: 'Dist' }, doc: 'the recognition distribution q_phi(z|x), one Bernoulli per latent unit' },
    z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'a binary draw z ~ q(z|x) (no gradient: it cannot be reparameterised)' },
    fn: { type: { kind: 'Fn' }, doc: 'x -> the logits of q(z|x), for the sleep phase (which evaluates q on dreamed x)' },
  },
  params: z.object({ ...mlpFields, latentDim: z.number().int().min(1).max(4096).default(64) }),
  math: {
    latex: 'q_\\phi(z \\mid x) = \\prod_{j=1}^{H} \\operatorname{Bern}\\big(z_j; \\sigma(\\ell_\\phi(x)_j)\\big),\\quad z_j = \\mathbb{1}[u_j < \\sigma(\\ell_\\phi(x)_j)],\\ u \\sim \\mathcal{U}[0, 1)^H',
    explain:
      'The inference (recognition) network of a Helmholtz machine: it runs the generative model backwards, from x to the probabilities of H binary latent units. Binary codes cannot be written as a differentiable function of noise, so no gradient flows through its samples; it is trained like a classifier instead, to predict the latent code from x, on pairs dreamed by the generative model (the sleep phase) or drawn from q itself and reweighted by p(x, z) / q(z | x) (reweighted wake-sleep). It is a learned inverse of the generative network.',
  },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [5] } }, params: { hidden: [8], latentDim: 3 } },
  describe: () => ({ latent: { text: 'binary latent units z with an inferred posterior q(z|x) (a recognition network)', rank: 3 } }),
  infer(shapes, p) {
    const xs = tensorShape(shapes, 'x');
    return {
      q: { kind: 'Dist', event: [p.latentDim] },
      z: { kind: 'Tensor', shape: [p.latentDim] },
      fn: { kind: 'Fn', in: xs, out: [p.latentDim], timeConditioned: false },
    };
  },
  build(ctx, p, shapes): { fn: FnValue<any>; net: (x: any) => any } {
    const xs = (shapes.x as { shape: number[] }).shape;
    const mlp = buildMlp(ctx, flatSize(xs), p.hidden, p.latentDim, p.activation);
    const net = (x: any) => mlp(ctx.ops.reshape(x, [-1, mlp.inDim]));
    return {
      net,
      fn: {
        kind: 'Fn',
        owner: ctx.nodeId,
        in: xs,
        out: [p.latentDim],
        timeConditioned: false,
        call: (x) => net(x),
        sample: (x) => bernoulli(ctx.ops, net(x), [p.latentDim]).sample(0),
      },
    };
  },
  staticOutputs: ['fn'],
  apply(ctx, { inputs, params, built }) {
    const q = bernoulli(ctx.ops, built.net(inputs.x), [params.latentDim]);
    return { q, z: q.sample(0), fn: built.fn };
  },
});
