import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import { distEvent, expectSame, LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';

/**
 * The VQ-VAE objective (van den Oord et al. 2017, eq. 3):
 *   L = -log p(x | z_q(x)) + ||sg[z_e(x)] - e||^2 + beta ||z_e(x) - sg[e]||^2
 * (the last two computed by the quantiser). Reported beside it: the perplexity of code use
 * over the batch, exp(-sum_k u_k log u_k) with u the mean usage, between 1 (one code for
 * everything) and K (all codes equally used).
 */
export const vqLoss = defineNode({
  type: 'loss.vqvae',
  version: 1,
  title: 'VQ-VAE loss',
  category: 'loss',
  role: 'objective',
  inputs: {
    x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'the data' },
    px: { type: { kind: 'Dist' }, doc: 'the decoder\'s likelihood p(x | z_q)' },
    codebookLoss: { type: { kind: 'Tensor' }, doc: 'the quantiser\'s codebook term' },
    commitLoss: { type: { kind: 'Tensor' }, doc: 'the quantiser\'s commitment term' },
    usage: { type: { kind: 'Tensor' }, doc: 'the quantiser\'s code usage per row' },
  },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields }),
  math: {
    latex: '\\mathcal{L} = -\\log p_\\theta(x \\mid z_q(x)) + \\lVert \\operatorname{sg}[z_e(x)] - e \\rVert^2 + \\beta \\lVert z_e(x) - \\operatorname{sg}[e] \\rVert^2,\\qquad \\text{perplexity} = e^{-\\sum_k \\bar u_k \\log \\bar u_k}',
    explain:
      'A VQ-VAE is trained as an autoencoder: the reconstruction error of the decoder from the quantised codes, plus the two codebook terms. There is no KL term: with a uniform prior over codes and a deterministic encoder it would be a constant. So the model has no usable prior after this step; a second model is fitted to the codes of the training images, and sampling draws codes from it and decodes them. The perplexity of code use shows whether the codebook is used or has collapsed to a few entries.',
  },
  ui: OBJECTIVE_UI,
  fixture: {
    inputs: { x: { kind: 'Tensor', shape: [3] }, px: { kind: 'Dist', event: [3] }, codebookLoss: { kind: 'Tensor', shape: [1] }, commitLoss: { kind: 'Tensor', shape: [1] }, usage: { kind: 'Tensor', shape: [4] } },
  },
  evaluators: [{ kind: 'terms', metric: 'recon', sum: ['recon'], report: ['perplexity', 'codebook', 'commit'] }],
  describe: () => ({
    divergence: 'reconstruction error plus codebook and commitment terms (an autoencoder; the prior over codes is fitted by a separate objective)',
    likelihood: { kind: 'none', text: 'no likelihood from this objective: a separate model of the code grid gives p(codes)' },
  }),
  infer(shapes) {
    expectSame('px', distEvent(shapes, 'px'), tensorShape(shapes, 'x'), 'the decoder must model the data');
    for (const port of ['codebookLoss', 'commitLoss'] as const) expectSame(port, tensorShape(shapes, port), [1], 'one value per row, from the quantiser');
    if (tensorShape(shapes, 'usage').length !== 1) throw new InferError('usage', '"usage" must be the quantiser\'s code usage [K]', 'bad-input');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs }) {
    const { ops } = ctx;
    const recon = ops.neg(ops.mean(inputs.px.logProb(inputs.x)));
    const codebook = ops.mean(inputs.codebookLoss);
    const commit = ops.mean(inputs.commitLoss);
    const u = ops.stopGradient(ops.maximum(ops.mean(inputs.usage, [0]), ops.scalar(0)));
    const perplexity = ops.exp(ops.neg(ops.sum(ops.mul(u, ops.log(ops.add(u, ops.scalar(1e-10)))))));
    return { loss: { kind: 'Loss', value: ops.add(ops.add(recon, codebook), commit), terms: { recon, codebook, commit, perplexity } } };
  },
});
