import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';
import type { PortShape } from '../core/ports';
import { SAMPLES_OUT } from '../core/samplerShapes';
import { runStepper } from '../core/stepper';
import type { FnValue } from '../core/values';
import { langevinFields, langevinStep, uniformStart } from './langevin';

/** the energy Fn on `port`, checked: a scalar per point */
export function energyFn(shapes: Record<string, PortShape | undefined>, port: string) {
  const f = shapes[port];
  if (!f) throw new InferError(port, `connect an energy network to "${port}"`, 'bad-input');
  if (f.kind !== 'Fn') throw new InferError(port, `"${port}" must be a network function`, 'bad-input');
  if (f.timeConditioned) throw new InferError(port, `the energy on "${port}" must not take a time input`, 'bad-input');
  if (f.out.length !== 1 || f.out[0] !== 1) throw new InferError(port, `the energy must be one scalar per point, the network on "${port}" gives [B, ${f.out.join(', ')}]`);
  return f;
}

export const langevinSampler = defineNode({
  type: 'sampler.langevin',
  version: 1,
  title: 'Langevin MCMC sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: { energy: { type: { kind: 'Fn' }, doc: 'E_theta(x)' } },
  outputs: SAMPLES_OUT,
  params: z.object({
    /** K: Langevin steps (one energy gradient each) */
    steps: z.number().int().min(1).max(100000).default(500),
    ...langevinFields,
  }),
  math: {
    latex: 'x_{k+1} = x_k - \\frac{\\epsilon}{2}\\nabla_x E_\\theta(x_k) + s\\sqrt{\\epsilon}\\,z_k,\\quad z_k \\sim \\mathcal{N}(0, I),\\quad x_0 \\sim \\mathcal{U}[-b, b]^d',
    explain:
      'Markov chain Monte Carlo with the gradient of the energy: each step moves downhill on E and adds Gaussian noise, the Euler-Maruyama discretisation of Langevin dynamics, whose stationary density is exp(-E). It needs no partition function, only grad_x E. With noise scale s = 1 it samples p_theta (as the step size goes to 0); s < 1 samples the colder density exp(-E / s^2). Chains start from uniform noise over the data box.',
  },
  ui: { stepSize: { units: 'eps' }, steps: { units: 'steps' }, box: { advanced: true } },
  fixture: { inputs: { energy: { kind: 'Fn', in: [2], out: [1], timeConditioned: false } }, params: { steps: 3, stepSize: 0.1 } },
  describe: (p) => ({ sampler: { calls: p.steps, text: `${p.steps} Langevin steps (one energy gradient each) from uniform noise` } }),
  infer(shapes) {
    const f = energyFn(shapes, 'energy');
    return { samples: { kind: 'Tensor', shape: f.in } };
  },
  apply(ctx, { inputs, params: p }) {
    const { ops } = ctx;
    const E: FnValue<any> = inputs.energy;
    const samples = runStepper(ops, {
      steps: p.steps,
      init: () => [uniformStart(ops, ctx.batchSize, E.in, p.box)],
      step: (_i, [x]) => [langevinStep(ops, E, x!, p.stepSize, p.noiseScale, p.box)],
    });
    return { samples };
  },
});

/**
 * Annealed Langevin: L levels of K / L steps each, the noise scale going geometrically
 * from s_1 (hot: the chains cross between modes) to s_L (the target temperature, 1 for
 * p_theta). At level l the chain samples exp(-E / s_l^2) (Song & Ermon 2019 anneal the
 * noise level of the data instead; for an EBM, tempering is the analogue).
 */
export const annealedLangevin = defineNode({
  type: 'sampler.annealedLangevin',
  version: 1,
  title: 'Annealed Langevin sampler',
  category: 'sampler',
  role: 'sampler',
  inputs: { energy: { type: { kind: 'Fn' }, doc: 'E_theta(x)' } },
  outputs: SAMPLES_OUT,
  params: z.object({
    /** total Langevin steps, split evenly over the levels */
    steps: z.number().int().min(1).max(100000).default(500),
    /** L: noise levels */
    levels: z.number().int().min(1).max(1000).default(5),
    /** s_1: the noise scale of the first level */
    noiseStart: z.number().positive().max(100).default(3),
    /** s_L: the noise scale of the last level (1 = p_theta itself) */
    noiseEnd: z.number().positive().max(100).default(1),
    stepSize: langevinFields.stepSize,
    box: langevinFields.box,
  }),
  math: {
    latex:
      'x_{k+1} = x_k - \\frac{\\epsilon}{2}\\nabla_x E_\\theta(x_k) + s_{l(k)}\\sqrt{\\epsilon}\\,z_k,\\qquad s_l = s_1 \\Big(\\frac{s_L}{s_1}\\Big)^{\\frac{l-1}{L-1}},\\quad l = 1..L',
    explain:
      'Langevin dynamics at a falling temperature: a level with noise scale s samples exp(-E / s^2), which is flatter when s is large, so early levels let chains cross the low-density gaps between modes and the last level (s_L = 1) samples p_theta. This fixes the weights of well separated modes that a single cold chain inherits from its starting point.',
  },
  ui: { stepSize: { units: 'eps' }, steps: { units: 'steps' }, box: { advanced: true } },
  fixture: { inputs: { energy: { kind: 'Fn', in: [2], out: [1], timeConditioned: false } }, params: { steps: 4, levels: 2, stepSize: 0.1 } },
  describe: (p) => ({ sampler: { calls: p.steps, text: `${p.steps} Langevin steps over ${p.levels} noise levels (one energy gradient each)` } }),
  infer(shapes) {
    const f = energyFn(shapes, 'energy');
    return { samples: { kind: 'Tensor', shape: f.in } };
  },
  build(ctx, p): { scales: any; table: Float32Array } {
    const scales = new Float32Array(p.steps);
    for (let k = 0; k < p.steps; k++) {
      const l = Math.min(p.levels - 1, Math.floor((k * p.levels) / p.steps));
      scales[k] = p.levels === 1 ? p.noiseEnd : p.noiseStart * Math.pow(p.noiseEnd / p.noiseStart, l / (p.levels - 1));
    }
    return { scales: ctx.ops.constant(scales, [p.steps]), table: scales };
  },
  apply(ctx, { inputs, params: p, built }) {
    const { ops } = ctx;
    const E: FnValue<any> = inputs.energy;
    const samples = runStepper(ops, {
      steps: p.steps,
      init: () => [uniformStart(ops, ctx.batchSize, E.in, p.box)],
      step: (i, [x]) => [langevinStep(ops, E, x!, p.stepSize, ops.gather(built.scales, i), p.box)],
    });
    return { samples };
  },
});
