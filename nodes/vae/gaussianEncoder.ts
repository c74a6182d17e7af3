import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { diagNormal } from '../core/dists';
import { buildMlp, mlpFields, type Mlp } from '../core/mlp';
import { flatSize, tensorShape } from '../core/objective';

export const gaussianEncoder = defineNode({
  type: 'encoder.gaussian',
  version: 1,
  title: 'Gaussian encoder',
  category: 'encoder',
  role: 'network',
  inputs: { x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'observations x' } },
  outputs: {
    q: { type: { kind: 'Dist' }, doc: 'the approximate posterior q_phi(z|x)' },
    z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'z = mu + sigma * eps (reparameterised)' },
  },
  params: z.object({ ...mlpFields, latentDim: z.number().int().min(1).max(1024).default(2) }),
  math: {
    latex:
      'q_\\phi(z \\mid x) = \\mathcal{N}\\big(z; \\mu_\\phi(x), \\operatorname{diag}\\sigma_\\phi^2(x)\\big),\\quad z = \\mu_\\phi(x) + \\sigma_\\phi(x) \\odot \\epsilon',
    explain:
      'The inference network of a VAE. It maps x to the mean and log-scale of a Gaussian over latents. Writing z as mu + sigma * eps with eps ~ N(0, I) (the reparameterisation trick) lets gradients of the ELBO flow through the sample into phi.',
  },
  fixture: { inputs: { x: { kind: 'Tensor', shape: [5] } }, params: { hidden: [8], latentDim: 3 } },
  exports: [{ kind: 'encoder', port: 'q' }],
  describe: () => ({ latent: { text: 'latent variable z with an inferred posterior q(z|x) (an encoder)', rank: 3 } }),
  infer(shapes, p) {
    tensorShape(shapes, 'x');
    return { q: { kind: 'Dist', event: [p.latentDim] }, z: { kind: 'Tensor', shape: [p.latentDim] } };
  },
  build: (ctx, p, shapes): Mlp<any> =>
    buildMlp(ctx, flatSize((shapes.x as { shape: number[] }).shape), p.hidden, 2 * p.latentDim, p.activation),
  apply(ctx, { inputs, params, built }) {
    const { ops } = ctx;
    const h = built(ops.reshape(inputs.x, [-1, built.inDim]));
    const mu = ops.sliceAxis(h, 1, 0, params.latentDim);
    // soft-clip the log-scale for stability: 5 tanh(s / 5)
    const logStd = ops.mul(ops.tanh(ops.mul(ops.sliceAxis(h, 1, params.latentDim, params.latentDim), ops.scalar(0.2))), ops.scalar(5));
    const q = diagNormal(ops, mu, logStd, [params.latentDim]);
    return { q, z: q.rsample!(0) };
  },
});
