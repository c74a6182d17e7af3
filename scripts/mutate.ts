/**
 * Mutation check of nodes/ and src-main/export/: `npm run mutate`.
 *
 * Each mutant below is one small, named, deliberate bug: a textual patch (exact find ->
 * replace, each `find` must occur exactly once) of one file. The working tree is copied
 * to a temporary folder (tracked and untracked, non-ignored files; node_modules is a
 * symlink), so the tree you and others edit is never touched. On the copy:
 *   1. baseline: the union of the mutants' test files must pass unmutated (a file that
 *      fails there cannot kill anything, and is reported);
 *   2. for each mutant: patch, run `vitest run <its test files>`, restore (finally);
 *      the mutant is killed when a test fails (or the run times out).
 * The test files of a mutant are a subset of what `npm test` runs, so every kill is a kill
 * by `npm test`; `--full` re-runs each survivor against the whole suite (slow) so that the
 * score is exactly what `npm test` catches.
 *
 * Options: --only a,b (mutant names)  --list  --full  --keep (keep the copy)
 *          --dir /tmp/genloom-mutate  --timeout 300 (seconds per run)
 * Writes the report (JSON) to <dir>/mutation-report.json.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

interface Mutant {
  name: string;
  /** the kind of bug, in words */
  bug: string;
  file: string;
  edits: [find: string, replace: string][];
  tests: string[];
  /** one of the bugs the issue names (or lists as "similar ones") */
  issue?: boolean;
}

const T = {
  dens: 'test/logDensities.test.ts',
  closed: 'test/closedForms.test.ts',
  flow: 'test/flowLayers.test.ts',
  ddim: 'test/ddim.test.ts',
  samplers: 'test/samplers.test.ts',
  noise: 'test/exportNoise.test.ts',
};

const DISTS = 'nodes/core/dists.ts';
const MUTANTS: Mutant[] = [
  // ---- log-densities (nodes/core/dists.ts)
  { name: 'gauss-drop-half', issue: true, bug: 'the 0.5 of the Gaussian log-likelihood dropped', file: DISTS, edits: [['return sumEvent(ops, ops.mul(per, ops.scalar(-0.5)));', 'return sumEvent(ops, ops.mul(per, ops.scalar(-1)));']], tests: [T.dens, T.closed] },
  { name: 'stdnormal-drop-half', issue: true, bug: 'the 0.5 of the standard normal log-density dropped', file: DISTS, edits: [['ops.mul(ops.add(ops.square(x), ops.scalar(LOG_2PI)), ops.scalar(-0.5))', 'ops.mul(ops.add(ops.square(x), ops.scalar(LOG_2PI)), ops.scalar(-1))']], tests: [T.dens, T.closed] },
  { name: 'gauss-logstd-sign', bug: 'the log-normaliser +2 log sigma with the wrong sign', file: DISTS, edits: [['ops.mul(logStd, ops.scalar(2))), ops.scalar(LOG_2PI));', 'ops.mul(logStd, ops.scalar(-2))), ops.scalar(LOG_2PI));']], tests: [T.dens] },
  { name: 'rsample-logstd-as-std', bug: 'reparameterised sample mu + log(sigma) eps', file: DISTS, edits: [['return ops.add(mu, ops.mul(ops.exp(logStd), eps));', 'return ops.add(mu, ops.mul(logStd, eps));']], tests: [T.dens] },
  { name: 'bernoulli-sigmoid-for-logit', issue: true, bug: 'Bernoulli logProb x sigmoid(l) - softplus(l) instead of x l - softplus(l)', file: DISTS, edits: [['ops.sub(ops.mul(x, logits), ops.softplus(logits))', 'ops.sub(ops.mul(x, ops.sigmoid(logits)), ops.softplus(logits))']], tests: [T.dens] },
  { name: 'bernoulli-sample-flipped', bug: 'Bernoulli sample 1[u > p] (draws with probability 1 - p)', file: DISTS, edits: [['ops.clip(ops.mul(ops.sub(p, u), ops.scalar(1e6)), 0, 1)', 'ops.clip(ops.mul(ops.sub(u, p), ops.scalar(1e6)), 0, 1)']], tests: [T.dens] },
  { name: 'transformed-missing-logdet', issue: true, bug: 'change of variables without the log-det term', file: DISTS, edits: [['return ops.add(base.logProb(z), logDet);', 'return base.logProb(z);']], tests: [T.dens, T.flow] },
  { name: 'transformed-logdet-sign', bug: 'change of variables subtracts the log-det', file: DISTS, edits: [['return ops.add(base.logProb(z), logDet);', 'return ops.sub(base.logProb(z), logDet);']], tests: [T.dens, T.flow] },
  { name: 'kl-std-minus-one', bug: 'KL(N || N(0, 1)) with +1 instead of -1', file: DISTS, edits: [['ops.add(twoLog, ops.scalar(1))', 'ops.sub(twoLog, ops.scalar(1))']], tests: [T.dens, T.closed] },
  { name: 'kl-std-sign', issue: true, bug: 'wrong KL sign (diagonal || standard normal)', file: DISTS, edits: [['return sumEvent(ops, ops.mul(per, ops.scalar(0.5)));', 'return sumEvent(ops, ops.mul(per, ops.scalar(-0.5)));']], tests: [T.dens, T.closed] },
  { name: 'kl-diag-diag-log-ratio', issue: true, bug: 'wrong diagonal-Gaussian KL: log(s_q / s_p) instead of log(s_p / s_q)', file: DISTS, edits: [['const per = ops.add(ops.sub(sp, sq),', 'const per = ops.add(ops.sub(sq, sp),']], tests: [T.dens] },
  { name: 'kl-diag-diag-std-ratio', bug: 'wrong diagonal-Gaussian KL: s_q / s_p instead of s_q^2 / s_p^2', file: DISTS, edits: [['const varRatio = ops.exp(ops.mul(ops.sub(sq, sp), ops.scalar(2)));', 'const varRatio = ops.exp(ops.sub(sq, sp));']], tests: [T.dens] },
  // ---- ELBO
  { name: 'elbo-beta-on-recon', issue: true, bug: 'beta applied to the reconstruction instead of the KL', file: 'nodes/vae/elbo.ts', edits: [['ops.add(recon, ops.mul(kl, ops.scalar(params.beta)))', 'ops.add(ops.mul(recon, ops.scalar(params.beta)), kl)']], tests: [T.dens] },
  { name: 'elbo-kl-sign', bug: 'ELBO recon - KL', file: 'nodes/vae/elbo.ts', edits: [['params.beta === 1 ? ops.add(recon, kl)', 'params.beta === 1 ? ops.sub(recon, kl)']], tests: [T.dens] },
  { name: 'elbo-mc-kl-swapped', bug: 'one-sample KL estimate log p(z) - log q(z|x)', file: 'nodes/vae/elbo.ts', edits: [['klRow = ops.sub(inputs.q.logProb(inputs.z), inputs.prior.logProb(inputs.z));', 'klRow = ops.sub(inputs.prior.logProb(inputs.z), inputs.q.logProb(inputs.z));']], tests: [T.dens] },
  // ---- flows
  { name: 'actnorm-logdet-sign', issue: true, bug: 'actnorm forward log-det -sum s', file: 'nodes/flow/actnorm.ts', edits: [['logDet: ops.add(rowZeros(ops, x), ops.sum(s)) };', 'logDet: ops.sub(rowZeros(ops, x), ops.sum(s)) };']], tests: [T.flow, T.dens] },
  { name: 'actnorm-inverse-logdet-sign', bug: 'actnorm inverse log-det +sum s', file: 'nodes/flow/actnorm.ts', edits: [['logDet: ops.sub(rowZeros(ops, y), ops.sum(s)) };', 'logDet: ops.add(rowZeros(ops, y), ops.sum(s)) };']], tests: [T.flow, T.dens] },
  { name: 'actnorm-init-log-variance', bug: 'actnorm data init sets s = log var instead of log std', file: 'nodes/flow/actnorm.ts', edits: [['ops.mul(ops.log(ops.add(v, ops.scalar(1e-6))), ops.scalar(0.5))', 'ops.log(ops.add(v, ops.scalar(1e-6)))']], tests: [T.flow] },
  { name: 'actnorm-init-no-bias', bug: 'actnorm data init leaves the bias at 0', file: 'nodes/flow/actnorm.ts', edits: [['const bInit = ops.add(ops.mul(done, b0), ops.mul(fresh, m));', 'const bInit = ops.mul(done, b0);']], tests: [T.flow] },
  { name: 'actnorm-init-every-step', bug: 'actnorm re-initialises from every batch (flag never set)', file: 'nodes/flow/actnorm.ts', edits: [["writeState(ctx, 'initialised', ops.onesLike(done));", "writeState(ctx, 'initialised', ops.zerosLike(done));"]], tests: [T.flow] },
  { name: 'coupling-forward-no-logdet', issue: true, bug: 'affine coupling forward without its log-det (missing logDet term)', file: 'nodes/flow/affineCoupling.ts', edits: [['return { y: join(cond, ops.add(ops.mul(tr, ops.exp(s)), t)), logDet: ops.sum(s, [1]) };', 'return { y: join(cond, ops.add(ops.mul(tr, ops.exp(s)), t)), logDet: ops.mul(ops.sum(s, [1]), ops.scalar(0)) };']], tests: [T.flow, T.closed] },
  { name: 'coupling-inverse-logdet-sign', bug: 'affine coupling inverse log-det +sum s', file: 'nodes/flow/affineCoupling.ts', edits: [['logDet: ops.neg(ops.sum(s, [1])) };', 'logDet: ops.sum(s, [1]) };']], tests: [T.flow, T.closed] },
  { name: 'coupling-inverse-order', bug: 'affine coupling inverse (y - t) exp(-s) computed as y exp(-s) - t', file: 'nodes/flow/affineCoupling.ts', edits: [['ops.mul(ops.sub(tr, t), ops.exp(ops.neg(s)))', 'ops.sub(ops.mul(tr, ops.exp(ops.neg(s))), t)']], tests: [T.flow, T.closed] },
  { name: 'chain-inverse-drops-logdet', bug: 'a chain inverse keeps only the last layer log-det', file: 'nodes/flow/chain.ts', edits: [['return { x: a.x, logDet: ops.add(a.logDet, b.logDet) };', 'return { x: a.x, logDet: b.logDet };']], tests: [T.flow] },
  { name: 'permutation-inverse-not-transposed', bug: 'permutation inverse multiplies by P instead of P^T', file: 'nodes/flow/permutation.ts', edits: [['inverse: (y: any) => ({ x: ops.matmul(y, PT)', 'inverse: (y: any) => ({ x: ops.matmul(y, P)']], tests: [T.flow] },
  // ---- diffusion
  { name: 'forward-abar-prev', issue: true, bug: 'forward diffusion indexed by alpha-bar_{t-1}', file: 'nodes/diffusion/forwardDiffusion.ts', edits: [
    ['sqrtAb: ops.constant(s.alphaBars.map(Math.sqrt), [s.T, 1]),', 'sqrtAb: ops.constant(s.alphaBars.map((_a, i) => Math.sqrt(i === 0 ? 1 : s.alphaBars[i - 1]!)), [s.T, 1]),'],
    ['sqrt1mAb: ops.constant(s.alphaBars.map((a) => Math.sqrt(1 - a)), [s.T, 1]),', 'sqrt1mAb: ops.constant(s.alphaBars.map((_a, i) => Math.sqrt(1 - (i === 0 ? 1 : s.alphaBars[i - 1]!))), [s.T, 1]),'],
  ], tests: [T.closed] },
  { name: 'forward-swapped-coefficients', bug: 'forward diffusion sqrt(1 - abar) x0 + sqrt(abar) eps', file: 'nodes/diffusion/forwardDiffusion.ts', edits: [['ops.add(ops.mul(ops.gather(built.sqrtAb, t), x0), ops.mul(ops.gather(built.sqrt1mAb, t), eps))', 'ops.add(ops.mul(ops.gather(built.sqrt1mAb, t), x0), ops.mul(ops.gather(built.sqrtAb, t), eps))']], tests: [T.closed] },
  { name: 'ddpm-swapped-coefficients', issue: true, bug: 'DDPM sampler 1/sqrt(abar_t) and beta_t/sqrt(1 - alpha_t) (alpha and alpha-bar swapped)', file: 'nodes/diffusion/ddpmSampler.ts', edits: [
    ['a[i] = 1 / Math.sqrt(s.alphas[k]!);', 'a[i] = 1 / Math.sqrt(s.alphaBars[k]!);'],
    ['b[i] = s.betas[k]! / Math.sqrt(1 - s.alphaBars[k]!);', 'b[i] = s.betas[k]! / Math.sqrt(1 - s.alphas[k]!);'],
  ], tests: [T.ddim, T.samplers] },
  { name: 'ddpm-noise-coefficient-alpha', bug: 'DDPM sampler eps coefficient beta_t / sqrt(1 - alpha_t)', file: 'nodes/diffusion/ddpmSampler.ts', edits: [['b[i] = s.betas[k]! / Math.sqrt(1 - s.alphaBars[k]!);', 'b[i] = s.betas[k]! / Math.sqrt(1 - s.alphas[k]!);']], tests: [T.ddim, T.samplers] },
  { name: 'ddpm-posterior-variance-index', issue: true, bug: 'DDPM posterior variance of step t - 1', file: 'nodes/diffusion/ddpmSampler.ts', edits: [["posteriorVariance(s, k) : s.betas[k]!", "posteriorVariance(s, k - 1) : s.betas[k]!"]], tests: [T.ddim, T.samplers, T.closed] },
  { name: 'alpha-bar-prev-index', bug: 'alpha-bar_{t-1} read as alpha-bar_t (posterior variance)', file: 'nodes/diffusion/schedules.ts', edits: [['return i === 0 ? 1 : s.alphaBars[i - 1]!;', 'return i === 0 ? 1 : s.alphaBars[i]!;']], tests: [T.closed, T.ddim, T.samplers] },
  { name: 'cosine-off-by-one', issue: true, bug: 'cosine schedule beta_t = 1 - f(t + 1)/f(t)', file: 'nodes/diffusion/schedules.ts', edits: [['betas[t - 1] = Math.min(1 - f(t / T) / f((t - 1) / T), maxBeta);', 'betas[t - 1] = Math.min(1 - f((t + 1) / T) / f(t / T), maxBeta);']], tests: [T.closed] },
  { name: 'linear-schedule-denominator', bug: 'linear schedule spaced by (beta_T - beta_1) / T', file: 'nodes/diffusion/schedules.ts', edits: [['betaStart + ((betaEnd - betaStart) * i) / (T - 1)', 'betaStart + ((betaEnd - betaStart) * i) / T']], tests: [T.closed] },
  { name: 'ddim-time-off-by-one', issue: true, bug: 'wrong time index in DDIM: the network gets t + 1', file: 'nodes/diffusion/ddimSampler.ts', edits: [['cols.t[i] = k;', 'cols.t[i] = k + 1;']], tests: [T.ddim, T.samplers] },
  { name: 'ddim-prev-step-index', bug: 'DDIM jumps to alpha-bar of the previous training step, not of the previous visited step', file: 'nodes/diffusion/ddimSampler.ts', edits: [['const abPrev = j === 0 ? 1 : s.alphaBars[tau[j - 1]!]!;', 'const abPrev = j === 0 ? 1 : s.alphaBars[k - 1]!;']], tests: [T.ddim, T.samplers] },
  { name: 'ddim-sigma-missing-factor', bug: 'DDIM sigma without sqrt(1 - abar_t / abar_prev)', file: 'nodes/diffusion/ddimSampler.ts', edits: [['const sigma = p.eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);', 'const sigma = p.eta * Math.sqrt((1 - abPrev) / (1 - ab));']], tests: [T.ddim, T.samplers] },
  { name: 'ddim-direction-coefficient', bug: 'DDIM direction sqrt(1 - abar_t - sigma^2) instead of abar_prev', file: 'nodes/diffusion/ddimSampler.ts', edits: [['Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma))', 'Math.sqrt(Math.max(0, 1 - ab - sigma * sigma))']], tests: [T.ddim, T.samplers] },
  { name: 'ddim-leading-rounding', bug: 'DDIM leading spacing rounds j T / S instead of flooring', file: 'nodes/diffusion/ddimSampler.ts', edits: [['Math.floor((j * s.T) / S)', 'Math.round((j * s.T) / S)']], tests: [T.ddim] },
  { name: 'ddim-auto-swapped', bug: 'DDIM default spacing: leading on the cosine schedule', file: 'nodes/diffusion/ddimSampler.ts', edits: [["return schedule.name === 'cosine' ? 'trailing' : 'leading';", "return schedule.name === 'cosine' ? 'leading' : 'trailing';"]], tests: [T.ddim] },
  // ---- GAN and the other losses
  { name: 'gan-critic-real-sign', issue: true, bug: 'wrong GAN loss sign: critic -log(1 - D(x)) on real data', file: 'nodes/gan/ganLosses.ts', edits: [['const real = ops.mean(ops.softplus(ops.neg(inputs.realLogit)));', 'const real = ops.mean(ops.softplus(inputs.realLogit));']], tests: [T.closed] },
  { name: 'gan-generator-ns-sign', issue: true, bug: 'wrong GAN loss sign: non-saturating generator softplus(l)', file: 'nodes/gan/ganLosses.ts', edits: [[': ops.mean(ops.softplus(ops.neg(inputs.fakeLogit)));', ': ops.mean(ops.softplus(inputs.fakeLogit));']], tests: [T.closed] },
  { name: 'gan-minimax-sign', bug: 'minimax generator loss +E softplus(l)', file: 'nodes/gan/ganLosses.ts', edits: [['? ops.neg(ops.mean(ops.softplus(inputs.fakeLogit)))', '? ops.mean(ops.softplus(inputs.fakeLogit))']], tests: [T.closed] },
  { name: 'nll-sign', bug: 'maximum likelihood minimises +mean log p', file: 'nodes/common/nll.ts', edits: [['const value = ctx.ops.neg(ctx.ops.mean(inputs.dist.logProb(inputs.x)));', 'const value = ctx.ops.mean(inputs.dist.logProb(inputs.x));']], tests: [T.dens] },
  { name: 'epsilon-mse-abs', bug: 'epsilon loss |pred - target| instead of squared', file: 'nodes/diffusion/epsilonMse.ts', edits: [['ctx.ops.mean(ctx.ops.square(ctx.ops.sub(inputs.pred, inputs.target)))', 'ctx.ops.mean(ctx.ops.abs(ctx.ops.sub(inputs.pred, inputs.target)))']], tests: [T.closed] },
  // ---- decoders
  { name: 'bernoulli-decoder-sample-is-mean', bug: 'the Bernoulli decoder Fn "samples" its probabilities', file: 'nodes/vae/bernoulliDecoder.ts', edits: [['sample: (z) => bernoulli(ctx.ops, net(z), [p.dataDim]).sample(0),', 'sample: (z) => ctx.ops.sigmoid(net(z)),']], tests: [T.dens] },
  { name: 'gaussian-decoder-sample-variance', bug: 'the Gaussian decoder samples with sigma^2 as its scale', file: 'nodes/vae/gaussianDecoder.ts', edits: [['return ops.add(mu, ops.mul(ops.exp(logStd), ops.randomNormalLike(mu)));', 'return ops.add(mu, ops.mul(ops.exp(ops.mul(logStd, ops.scalar(2))), ops.randomNormalLike(mu)));']], tests: [T.dens] },
  // ---- export (src-main/export/)
  { name: 'onnx-random-normal-scale', issue: true, bug: 'a doubled noise scale in the exported RandomNormal', file: 'src-main/export/OnnxOps.ts', edits: [["flt('mean', 0), flt('scale', 1)", "flt('mean', 0), flt('scale', 2)"]], tests: [T.noise] },
  { name: 'onnx-random-normal-mean', bug: 'exported RandomNormal with mean 0.5', file: 'src-main/export/OnnxOps.ts', edits: [["flt('mean', 0), flt('scale', 1)", "flt('mean', 0.5), flt('scale', 1)"]], tests: [T.noise] },
  { name: 'onnx-random-uniform-high', bug: 'exported RandomUniform on [0, 2)', file: 'src-main/export/OnnxOps.ts', edits: [["flt('low', 0), flt('high', 1)", "flt('low', 0), flt('high', 2)"]], tests: [T.noise] },
  { name: 'onnx-random-int-range', bug: 'exported integer draws capped at n - 2', file: 'src-main/export/OnnxOps.ts', edits: [["o.emit('Min', [f, o.constTensor(new Float32Array([n - 1]), [], 'float32')]", "o.emit('Min', [f, o.constTensor(new Float32Array([n - 2]), [], 'float32')]"]], tests: [T.noise] },
];

// ------------------------------------------------------------------------------------------

const args = process.argv.slice(2);
const opt = (k: string) => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : undefined;
};
const flag = (k: string) => args.includes(k);
const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const DIR = resolve(opt('--dir') ?? '/tmp/genloom-mutate');
const TIMEOUT_S = Number(opt('--timeout') ?? 300);
const only = opt('--only')?.split(',');
const chosen = only ? MUTANTS.filter((m) => only.includes(m.name)) : MUTANTS;
if (only && chosen.length !== only.length) throw new Error(`unknown mutant(s): ${only.filter((n) => !MUTANTS.some((m) => m.name === n)).join(', ')}`);
const dup = MUTANTS.find((m, i) => MUTANTS.findIndex((x) => x.name === m.name) !== i);
if (dup) throw new Error(`duplicate mutant name ${dup.name}`);

if (flag('--list')) {
  for (const m of MUTANTS) console.log(`${m.name.padEnd(38)} ${m.file.padEnd(38)} ${m.bug}`);
  process.exit(0);
}

function copyTree(): void {
  if (DIR === ROOT || ROOT.startsWith(DIR)) throw new Error(`refusing to use ${DIR}: it contains the repository`);
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const ls = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (ls.status !== 0) throw new Error(`git ls-files failed: ${ls.stderr}`);
  let n = 0;
  for (const f of ls.stdout.split('\0')) {
    if (!f || !existsSync(join(ROOT, f))) continue; // deleted in the working tree
    mkdirSync(dirname(join(DIR, f)), { recursive: true });
    cpSync(join(ROOT, f), join(DIR, f));
    n++;
  }
  symlinkSync(join(ROOT, 'node_modules'), join(DIR, 'node_modules'), 'dir');
  console.log(`copied ${n} files of ${ROOT} to ${DIR} (node_modules linked)`);
}

interface RunResult {
  ok: boolean;
  timedOut: boolean;
  /** test files that failed (relative) */
  failed: string[];
  seconds: number;
  tail: string;
}

function vitest(files: string[]): RunResult {
  const out = join(DIR, '.mutate-result.json');
  rmSync(out, { force: true });
  const t0 = Date.now();
  const r = spawnSync(join(DIR, 'node_modules', '.bin', 'vitest'), ['run', ...files, '--reporter=json', `--outputFile=${out}`], {
    cwd: DIR,
    encoding: 'utf8',
    timeout: TIMEOUT_S * 1000,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 28,
    env: { ...process.env, CI: '1', FORCE_COLOR: '0' },
  });
  const seconds = (Date.now() - t0) / 1000;
  const timedOut = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  let failed: string[] = [];
  if (existsSync(out)) {
    const rep = JSON.parse(readFileSync(out, 'utf8')) as { testResults: { name: string; status: string }[] };
    failed = rep.testResults.filter((t) => t.status !== 'passed').map((t) => t.name.replace(`${DIR}/`, ''));
  } else if (r.status !== 0) failed = files;
  const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').slice(-15).join('\n');
  return { ok: r.status === 0 && !timedOut, timedOut, failed, seconds, tail };
}

interface Outcome {
  name: string;
  bug: string;
  file: string;
  issue: boolean;
  status: 'killed' | 'survived' | 'stale';
  by: string[];
  seconds: number;
  note?: string;
}

function applyEdits(text: string, m: Mutant): string {
  let t = text;
  for (const [find, replace] of m.edits) {
    const count = t.split(find).length - 1;
    if (count !== 1) throw new Error(`"${find}" occurs ${count} times in ${m.file}`);
    t = t.replace(find, () => replace);
  }
  return t;
}

function main(): void {
  copyTree();
  const union = [...new Set(chosen.flatMap((m) => m.tests))];
  console.log(`baseline: ${union.join(' ')}`);
  const base = vitest(union);
  const broken = new Set(base.failed);
  if (broken.size) console.log(`WARNING: these files fail unmutated and cannot kill: ${[...broken].join(', ')}\n${base.tail}`);
  else console.log(`baseline passes (${base.seconds.toFixed(0)} s)`);

  const outcomes: Outcome[] = [];
  for (const m of chosen) {
    const path = join(DIR, m.file);
    const original = readFileSync(path, 'utf8');
    let mutated: string;
    try {
      mutated = applyEdits(original, m);
    } catch (e) {
      outcomes.push({ name: m.name, bug: m.bug, file: m.file, issue: !!m.issue, status: 'stale', by: [], seconds: 0, note: (e as Error).message });
      console.log(`STALE     ${m.name}: ${(e as Error).message}`);
      continue;
    }
    let r: RunResult;
    try {
      writeFileSync(path, mutated);
      r = vitest(m.tests);
    } finally {
      writeFileSync(path, original);
    }
    const by = r.timedOut ? ['(timeout)'] : r.failed.filter((f) => !broken.has(f));
    const status = by.length ? 'killed' : 'survived';
    outcomes.push({ name: m.name, bug: m.bug, file: m.file, issue: !!m.issue, status, by, seconds: r.seconds });
    console.log(`${status.toUpperCase().padEnd(9)} ${m.name.padEnd(38)} ${r.seconds.toFixed(0).padStart(4)} s  ${by.join(', ')}`);
  }

  if (flag('--full')) {
    for (const o of outcomes.filter((x) => x.status === 'survived')) {
      const m = MUTANTS.find((x) => x.name === o.name)!;
      const path = join(DIR, m.file);
      const original = readFileSync(path, 'utf8');
      let r: RunResult;
      try {
        writeFileSync(path, applyEdits(original, m));
        r = vitest([]);
      } finally {
        writeFileSync(path, original);
      }
      const by = r.failed.filter((f) => !broken.has(f));
      o.note = `full suite (${r.seconds.toFixed(0)} s): ${by.length ? `killed by ${by.join(', ')}` : 'survives'}`;
      if (by.length) {
        o.status = 'killed';
        o.by = by;
      }
      console.log(`FULL      ${o.name}: ${o.note}`);
    }
  }

  const live = outcomes.filter((o) => o.status !== 'stale');
  const killed = live.filter((o) => o.status === 'killed');
  const issue = live.filter((o) => o.issue);
  console.log('\nmutation score');
  console.log(`  killed ${killed.length} / ${live.length} (${((100 * killed.length) / Math.max(1, live.length)).toFixed(1)} %)`);
  console.log(`  of the issue's bug kinds: ${issue.filter((o) => o.status === 'killed').length} / ${issue.length}`);
  const survivors = live.filter((o) => o.status === 'survived');
  if (survivors.length) console.log(`  survivors:\n${survivors.map((o) => `    ${o.name} (${o.file}): ${o.bug}${o.note ? ` [${o.note}]` : ''}`).join('\n')}`);
  const stale = outcomes.filter((o) => o.status === 'stale');
  if (stale.length) console.log(`  stale (patch no longer applies; update the mutant):\n${stale.map((o) => `    ${o.name}: ${o.note}`).join('\n')}`);
  if (broken.size) console.log(`  files failing unmutated: ${[...broken].join(', ')}`);
  const report = { root: ROOT, copy: DIR, date: new Date().toISOString(), killed: killed.length, total: live.length, stale: stale.length, baselineFailures: [...broken], outcomes };
  writeFileSync(join(DIR, 'mutation-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`  report: ${join(DIR, 'mutation-report.json')}`);
  if (!flag('--keep')) {
    // keep the report, drop the copy
    const keepReport = readFileSync(join(DIR, 'mutation-report.json'), 'utf8');
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, 'mutation-report.json'), keepReport);
  }
  process.exitCode = killed.length >= 0.9 * live.length && !broken.size ? 0 : 1;
}

main();
