import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { bernoulli } from '../core/dists';
import { buildMlp, mlpFields } from '../core/mlp';
import { flatSize, tensorShape } from '../core/objective';
import type { FnValue } from '../core/values';

export const bernoulliDecoder = defineNode({
  type: 'decoder.bernoulli',
  version: 1,
  title: 'Bernoulli decoder',
  category: 'decoder',
  role: 'network',
  inputs: { z: { type: { kind: 'Tensor', semantic: 'latent' }, doc: 'latent codes z' } },
  outputs: {
    px: { type: { kind: 'Dist' }, doc: 'the likelihood p_theta(x|z), one Bernoulli per pixel' },
    fn: { type: { kind: 'Fn' }, doc: 'z -> pixel probabilities (the mean), or a Bernoulli draw of p(x|z), for samplers' },
  },
  params: z.object({ ...mlpFields, dataDim: z.number().int().min(1).max(100000).default(784) }),
  math: {
    latex: 'p_\\theta(x \\mid z) = \\prod_i \\operatorname{Bern}\\big(x_i; \\sigma(\\ell_\\theta(z)_i)\\big),\\quad \\log p = \\textstyle\\sum_i x_i \\ell_i - \\operatorname{softplus}(\\ell_i)',
    explain:
      'The decoder for binary (or [0, 1]) images: each pixel is an independent Bernoulli whose logit the network predicts. Its log-likelihood is the negative binary cross-entropy, the reconstruction term of the MNIST VAE.',
  },
  fixture: { inputs: { z: { kind: 'Tensor', shape: [3] } }, params: { hidden: [8], dataDim: 6 } },
  exports: [{ kind: 'generator', port: 'fn' }],
  infer(shapes, p) {
    const zs = tensorShape(shapes, 'z');
    return {
      px: { kind: 'Dist', event: [p.dataDim] },
      fn: { kind: 'Fn', in: zs, out: [p.dataDim], timeConditioned: false },
    };
  },
  build(ctx, p, shapes): { fn: FnValue<any>; net: (z: any) => any } {
    const zs = (shapes.z as { shape: number[] }).shape;
    const net = buildMlp(ctx, flatSize(zs), p.hidden, p.dataDim, p.activation);
    return {
      net,
      fn: {
        kind: 'Fn',
        owner: ctx.nodeId,
        in: zs,
        out: [p.dataDim],
        timeConditioned: false,
        call: (z) => ctx.ops.sigmoid(net(z)),
        // a draw x ~ p(x|z): one Bernoulli(sigmoid(l)) per pixel, as the likelihood's own sample
        sample: (z) => bernoulli(ctx.ops, net(z), [p.dataDim]).sample(0),
      },
    };
  },
  staticOutputs: ['fn'],
  apply: (ctx, { inputs, params, built }) => ({ px: bernoulli(ctx.ops, built.net(inputs.z), [params.dataDim]), fn: built.fn }),
});
