import { z } from 'zod';
import { defineNode, InferError } from '../core/defineNode';

/** Bundled datasets and their dimensions (docs/REFERENCE.md "Toy datasets"; MNIST 28x28). */
export const BUNDLED_DATASETS = {
  '8gaussians': 2,
  moons: 2,
  swissroll: 2,
  checkerboard: 2,
  pinwheel: 2,
  '2spirals': 2,
  rings: 2,
  '1d-bimodal': 1,
  ring8: 2,
  grid25: 2,
  mnist: 784,
  'mnist-binary': 784,
} as const;
export type BundledDataset = keyof typeof BUNDLED_DATASETS;
const NAMES = Object.keys(BUNDLED_DATASETS) as [BundledDataset, ...BundledDataset[]];

export const dataset = defineNode({
  type: 'data.dataset',
  version: 1,
  title: 'Dataset',
  category: 'data',
  role: 'data',
  inputs: {},
  outputs: {
    x: { type: { kind: 'Tensor', semantic: 'data' }, doc: 'a training batch x ~ p_data' },
  },
  params: z.object({
    dataset: z.enum([...NAMES, 'csv']).default('moons'),
    /** a CSV file of numeric columns, when dataset = csv */
    csvPath: z.string().default(''),
    /** number of numeric columns in the CSV (the studio fills it from the file) */
    csvColumns: z.number().int().min(1).max(100000).default(2),
  }),
  math: {
    latex: 'x \\sim p_{\\text{data}}(x)',
    explain:
      'Draws a mini-batch of training examples from the data distribution. Every generative model tries to make its own distribution p_theta close to this one, whether by maximum likelihood, a variational bound, an adversary or a denoising objective.',
  },
  fixture: { inputs: {} },
  ui: { csvPath: { showWhen: { dataset: ['csv'] } }, csvColumns: { showWhen: { dataset: ['csv'] } } },
  infer(_shapes, p) {
    if (p.dataset === 'csv') {
      if (!p.csvPath) throw new InferError('x', 'choose a CSV file for this dataset', 'bad-input');
      return { x: { kind: 'Tensor', shape: [p.csvColumns] } };
    }
    return { x: { kind: 'Tensor', shape: [BUNDLED_DATASETS[p.dataset]] } };
  },
  apply(ctx) {
    return { x: ctx.feed(ctx.nodeId) };
  },
});
