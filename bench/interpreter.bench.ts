/** `npm run bench`: speed ratios taken side by side in one run. */
import { initBackend } from '../src-main/runtime/backend';
import { benchInterpreter } from './interpreterOverhead';
import { benchMatMulGrad } from './matMulGrad';

const { backend } = await initBackend((process.env.GENLOOM_BACKEND as never) || undefined);
console.log(`backend: ${backend}`);

const interp = benchInterpreter();
console.log('\ninterpreter overhead (DDPM denoiser training step, batch 256, median of 5 x 100 steps)');
console.log(`  hand-written tfjs  ${interp.handMs.toFixed(2)} ms/step`);
console.log(`  compiled program   ${interp.compiledMs.toFixed(2)} ms/step`);
console.log(`  ratio              ${interp.ratio.toFixed(3)}x   (bar: <= 1.15x) ${interp.ratio <= 1.15 ? 'PASS' : 'FAIL'}`);

const mm = benchMatMulGrad(['vae-mnist', 'vae-moons', 'gan-8gaussians', 'realnvp-moons', 'ddpm-swissroll']);
console.log(`\nmatMul gradient: explicit transposes against tfjs's transposed kernels (training step, median of 5 rounds x 10 steps)`);
for (const r of mm) console.log(`  ${r.template.padEnd(16)} ${r.fastMs.toFixed(2)} ms/step against ${r.tfjsMs.toFixed(2)}: ${r.speedup.toFixed(2)}x faster`);

try {
  const mod = await import('../src-main/export/samplerBench');
  const r = await mod.benchDdpmSampler();
  console.log('\nDDPM sampler, 2000 points, 1000 steps');
  console.log(`  tfjs (${backend})       ${r.tfjsMs.toFixed(0)} ms`);
  console.log(`  onnxruntime-node   ${r.onnxMs.toFixed(0)} ms`);
  console.log(`  speed-up           ${r.ratio.toFixed(2)}x   (aim: >= 3x) ${r.ratio >= 3 ? 'PASS' : 'below aim'}`);
} catch (e) {
  console.log(`\nONNX sampler bench unavailable: ${(e as Error).message}`);
}
