import { defineFamily } from '../core/defineFamily';
import { dsmLoss } from './dsmLoss';
import { annealedScoreLangevin, scoreLangevin } from './langevinSamplers';
import { scoreMlp } from './scoreNetwork';
import { geometricSigma } from './sigmaSchedule';
import { ssmLoss } from './ssmLoss';

/** score matching and noise-conditional score networks (Song & Ermon 2019) */
export const score = defineFamily({
  id: 'score',
  label: 'Score matching',
  colour: '#9aa8ff',
  description: 'A network learns the score grad_x log p_sigma(x) of the data blurred at several noise levels, by denoising or sliced score matching; annealed Langevin dynamics samples it.',
  nodes: [geometricSigma, scoreMlp, dsmLoss, ssmLoss, scoreLangevin, annealedScoreLangevin],
  templates: [
    {
      name: 'ncsn-swissroll',
      bars: [
        {
          metric: 'annealed.energy',
          op: '<=',
          bound: 0.02,
          why: 'annealed Langevin, 10 levels x 100 steps and a denoising step, EMA weights; swissroll floor 0.0018, one Gaussian fit 0.025 (plain Langevin at the smallest level alone: about 0.04, reported)',
        },
      ],
    },
  ],
});
