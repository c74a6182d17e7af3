import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { applyPath, inferPath, ODE_LATENT, PATH_INPUTS, PATH_OUTPUTS, pathFields, pathUi } from './paths';

/**
 * The linear conditional path (rectified flow, Liu et al. 2023; the
 * OT path of Lipman et al. 2023 with sigma_min):
 *   x_t = (1 - (1 - sigma_min) t) x0 + t x1,  u_t = x1 - (1 - sigma_min) x0,  t ~ U[0, 1]
 */
export const linearPath = defineNode({
  type: 'path.linear',
  version: 1,
  title: 'Linear path (rectified flow)',
  category: 'path',
  role: 'none',
  inputs: PATH_INPUTS,
  outputs: PATH_OUTPUTS,
  params: z.object({
    ...pathFields,
    /** width of the path at the data end (Lipman et al.); 0 = straight lines onto the data */
    sigmaMin: z.number().min(0).max(0.5).default(0),
  }),
  math: {
    latex:
      'x_t = (1-t)\\,x_0 + t\\,x_1,\\quad x_0 \\sim \\mathcal{N}(0, I),\\ t \\sim U[0,1],\\qquad u_t(x_t \\mid x_1) = \\frac{d x_t}{dt} = x_1 - x_0',
    explain:
      'Linear interpolation between a noise sample x0 (t = 0) and a data point x1 (t = 1): every pair moves on a straight line at constant velocity x1 - x0, the regression target of conditional flow matching. With sigma_min > 0 the lines end in a small Gaussian around x1 instead (x_t = (1 - (1 - sigma_min) t) x0 + t x1). The OT coupling pairs noise and data of a batch by a Sinkhorn plan, so the lines cross less and the learned ODE is straighter.',
  },
  fixture: { inputs: { x1: { kind: 'Tensor', shape: [2] } } },
  ui: { ...pathUi, sigmaMin: { advanced: true } },
  describe: () => ({ latent: ODE_LATENT }),
  infer: (shapes) => inferPath(shapes),
  apply: (ctx, { inputs, params, shapes }) => applyPath(ctx, 'linear', params, inputs.x1, (shapes.x1 as { shape: number[] }).shape),
});
