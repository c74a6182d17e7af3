import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { applyPath, inferPath, ODE_LATENT, PATH_INPUTS, PATH_OUTPUTS, pathFields, pathUi } from './paths';

/**
 * A variance-preserving conditional path (the trigonometric interpolant; Albergo &
 * Vanden-Eijnden 2023), alpha_t^2 + sigma_t^2 = 1:
 *   x_t = sin(pi t / 2) x1 + cos(pi t / 2) x0,  u_t = pi/2 (cos(pi t / 2) x1 - sin(pi t / 2) x0)
 */
export const vpPath = defineNode({
  type: 'path.vp',
  version: 1,
  title: 'Variance-preserving path',
  category: 'path',
  role: 'none',
  inputs: PATH_INPUTS,
  outputs: PATH_OUTPUTS,
  params: z.object({ ...pathFields }),
  math: {
    latex:
      'x_t = \\sin\\!\\big(\\tfrac{\\pi t}{2}\\big)\\,x_1 + \\cos\\!\\big(\\tfrac{\\pi t}{2}\\big)\\,x_0,\\qquad u_t(x_t \\mid x_1) = \\tfrac{\\pi}{2}\\Big(\\cos\\!\\big(\\tfrac{\\pi t}{2}\\big)\\,x_1 - \\sin\\!\\big(\\tfrac{\\pi t}{2}\\big)\\,x_0\\Big)',
    explain:
      'A variance-preserving path: the signal and noise coefficients satisfy alpha_t^2 + sigma_t^2 = 1, as in a diffusion model, so x_t keeps unit variance when the data has it. The points move on quarter circles from the noise x0 (t = 0) to the data x1 (t = 1); the velocity network regresses their time derivative. Curved paths usually need more ODE steps to sample than the linear path.',
  },
  fixture: { inputs: { x1: { kind: 'Tensor', shape: [2] } } },
  ui: pathUi,
  describe: () => ({ latent: ODE_LATENT }),
  infer: (shapes) => inferPath(shapes),
  apply: (ctx, { inputs, params, shapes }) => applyPath(ctx, 'vp', params, inputs.x1, (shapes.x1 as { shape: number[] }).shape),
});
