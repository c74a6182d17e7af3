import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { diagNormal } from '../core/dists';
import { buildMlp, mlpFields } from '../core/mlp';
import { flatSize, tensorShape } from '../core/objective';
import type { FnValue } from '../core/values';

export const gaussianDecoder = defineNode({
  type: 'decoder.gaussian',
  version: 1,
  title: 'Gaussian decoder',
  category: 'decoder',
  role: 'network',
  inputs: { z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'latent codes z' } },
  outputs: {
    px: { type: { kind: 'Dist' }, doc: 'the likelihood p_theta(x|z)' },
    fn: { type: { kind: 'Fn' }, doc: 'z -> x, for samplers (mean, or a draw of p(x|z))' },
  },
  params: z.object({
    ...mlpFields,
    dataDim: z.number().int().min(1).max(100000).default(2),
    /** one learned scale per data dimension, shared by all z */
    initLogStd: z.number().min(-10).max(5).default(-1),
  }),
  math: {
    latex: 'p_\\theta(x \\mid z) = \\mathcal{N}\\big(x; \\mu_\\theta(z), \\operatorname{diag}\\sigma^2\\big)',
    explain:
      'The generative network of a VAE for real-valued data: it maps a latent code to the mean of a Gaussian over x, with a learned per-dimension noise scale. Its log-density is the reconstruction term of the ELBO.',
  },
  fixture: { inputs: { z: { kind: 'Tensor', shape: [3] } }, params: { hidden: [8], dataDim: 5 } },
  exports: [{ kind: 'generator', port: 'fn' }],
  infer(shapes, p) {
    const zs = tensorShape(shapes, 'z');
    return {
      px: { kind: 'Dist', event: [p.dataDim] },
      fn: { kind: 'Fn', in: zs, out: [p.dataDim], timeConditioned: false },
    };
  },
  build(ctx, p, shapes): { fn: FnValue<any>; net: (z: any) => any; logStd: any } {
    const zs = (shapes.z as { shape: number[] }).shape;
    const net = buildMlp(ctx, flatSize(zs), p.hidden, p.dataDim, p.activation);
    const logStd = ctx.param('logStd', [p.dataDim], { kind: 'constant', value: p.initLogStd });
    const { ops } = ctx;
    return {
      net,
      logStd,
      fn: {
        kind: 'Fn',
        owner: ctx.nodeId,
        in: zs,
        out: [p.dataDim],
        timeConditioned: false,
        call: (z) => net(z),
        sample: (z) => {
          const mu = net(z);
          return ops.add(mu, ops.mul(ops.exp(logStd), ops.randomNormalLike(mu)));
        },
      },
    };
  },
  staticOutputs: ['fn'],
  apply(ctx, { inputs, params, built }) {
    const mu = built.net(inputs.z);
    return { px: diagNormal(ctx.ops, mu, built.logStd, [params.dataDim]), fn: built.fn };
  },
});
