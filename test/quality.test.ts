/**
 * Short training runs of every template with looser bars than `npm run bench:quality`
 * (which trains the full step counts against the core issue's bars). Each asserts a
 * measured quality from REFERENCE.md, not merely that a loss went down.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateRun } from '../src-main/eval/evaluate';
import { initBackend } from '../src-main/runtime/backend';
import { trainTemplate } from './trainTemplate';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('training quality (short runs, wasm)', () => {
  it('VAE on moons: samples within energy 0.06 of held-out data', () => {
    const { trainer, program, feeds } = trainTemplate('vae-moons', { steps: 1200, overrides: { encoder: { hidden: [64, 64] }, decoder: { hidden: [64, 64] } } });
    const m = evaluateRun(trainer, program, feeds, { n: 2000 });
    expect(m['sampler.energy']).toBeLessThan(0.06);
    expect(m['elbo.kl']).toBeGreaterThan(0.5); // the latent is used
    trainer.dispose();
  });

  it('RealNVP on moons: held-out NLL below 2.9 nats (true entropy 2.395)', () => {
    const { trainer, program, feeds } = trainTemplate('realnvp-moons', { steps: 800, overrides: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`coupling${i + 1}`, { hidden: [64, 64] }])) });
    const m = evaluateRun(trainer, program, feeds, { n: 2000 });
    expect(m['model.nll']).toBeLessThan(2.9);
    expect(m['model.nll']).toBeGreaterThan(2.3); // cannot beat the true entropy by much
    expect(m['sampler.energy']).toBeLessThan(0.05);
    trainer.dispose();
  });

  it('GAN on 8 Gaussians: at least 6 of 8 modes and half the samples of high quality', () => {
    const { trainer, program, feeds } = trainTemplate('gan-8gaussians', {
      steps: 1500,
      batchSize: 128,
      overrides: { generator: { hidden: [64, 64] }, critic: { hidden: [64, 64] } },
    });
    const m = evaluateRun(trainer, program, feeds, { n: 2000 });
    expect(m['sampler.modes']).toBeGreaterThanOrEqual(6);
    expect(m['sampler.highQuality']).toBeGreaterThan(0.5);
    trainer.dispose();
  });

  it('DDPM on the swiss roll: ancestral samples within energy 0.03, 50-step DDIM within 0.08', () => {
    const { trainer, program, feeds } = trainTemplate('ddpm-swissroll', {
      steps: 2500,
      batchSize: 128,
      overrides: { denoiser: { hidden: [64, 64, 64] }, loss: { optimizer: { lr: 0.003 } } },
    });
    const m = evaluateRun(trainer, program, feeds, { n: 1000 });
    expect(m['ddpm.energy']).toBeLessThan(0.03);
    expect(m['ddim.energy']).toBeLessThan(0.08);
    trainer.dispose();
  });

  it('VAE on MNIST: held-out negative ELBO falls below 220 nats in 150 steps', () => {
    const { trainer, program, feeds } = trainTemplate('vae-mnist', { steps: 150, batchSize: 64 });
    const m = evaluateRun(trainer, program, feeds, { n: 500 });
    expect(m['elbo.negElbo']).toBeLessThan(220);
    expect(m['elbo.negElbo']).toBeGreaterThan(80); // above the published NLL of a VAE
    trainer.dispose();
  });
});
