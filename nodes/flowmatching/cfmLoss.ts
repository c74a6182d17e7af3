import { z } from 'zod';
import { defineNode } from '../core/defineNode';
import { expectSame, LOSS_OUT, OBJECTIVE_UI, objectiveFields, tensorShape } from '../core/objective';

/**
 * Conditional flow matching (Lipman et al. 2023, eq. 9):
 *   L_CFM = E_{t, x0, x1} || v_theta(x_t, t) - d x_t / dt ||^2, averaged per dimension.
 * Its minimiser is the marginal velocity v*(x, t) = E[u_t | x_t = x], so the loss does
 * not reach 0: for N(0, 1) -> N(0, 1) with independent coupling the floor is pi/2.
 */
export const cfmLoss = defineNode({
  type: 'loss.flowMatching',
  version: 1,
  title: 'Flow matching loss',
  category: 'loss',
  role: 'objective',
  inputs: {
    pred: { type: { kind: 'Tensor' }, doc: 'the velocity network v_theta(x_t, t)' },
    target: { type: { kind: 'Tensor', semantic: 'velocity' }, doc: 'the conditional velocity u_t(x_t | x1) of the path' },
  },
  outputs: LOSS_OUT,
  params: z.object({ ...objectiveFields }),
  math: {
    latex: '\\mathcal{L}_{\\text{CFM}} = \\mathbb{E}_{t, \\mathbf{x}_0, \\mathbf{x}_1} \\left[ \\left\\| u_t(\\mathbf{x}_t) - \\frac{d\\mathbf{x}_t}{dt} \\right\\|^2 \\right]',
    explain:
      'Conditional Flow Matching: regress the velocity network onto the time derivative of the path through one noise sample and one data point. Training is simulation-free (no ODE is solved), and the minimiser is the marginal velocity field that carries the noise distribution to the data, so the loss stays above a floor set by how much the paths cross.',
  },
  fixture: { inputs: { pred: { kind: 'Tensor', shape: [3] }, target: { kind: 'Tensor', shape: [3] } } },
  ui: OBJECTIVE_UI,
  describe: () => ({
    divergence: 'none directly: least squares onto the conditional velocity, whose minimiser is the marginal field carrying the noise to the data',
    likelihood: { kind: 'exact', text: 'exact log-likelihood by the ODE with the divergence (a CNF); trained by velocity regression, not by maximum likelihood' },
  }),
  infer(shapes) {
    expectSame('pred', tensorShape(shapes, 'pred'), tensorShape(shapes, 'target'), 'the predicted velocity must match the target velocity');
    return { loss: { kind: 'Loss' } };
  },
  apply(ctx, { inputs }) {
    const value = ctx.ops.mean(ctx.ops.square(ctx.ops.sub(inputs.pred, inputs.target)));
    return { loss: { kind: 'Loss', value, terms: { cfm: value } } };
  },
});
