/**
 * `npm start`: the studio. With a usable Electron binary, the desktop app (built by
 * electron-vite into out/ when missing); without one, web mode: the same renderer in the
 * browser, served on 127.0.0.1 with a random token in the printed URL.
 * `npm run web` (`--web`): web mode directly.
 *
 *   node bin/run-ts.mjs src-main/app/start.ts [--web] [--port N] [--data-dir DIR] [--max-training-runs N] [--rebuild]
 *
 * `--max-training-runs N` (or GENLOOM_MAX_TRAINING_RUNS): how many training runs the
 * studio runs at once (default 4); a start past that is refused.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWebServer } from './webServer';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WEB_DIST = join(REPO_ROOT, 'dist', 'web');
export const ELECTRON_OUT = join(REPO_ROOT, 'out');
export const NO_ELECTRON_LINE = 'No Electron binary on this machine; serving the studio in your browser instead:';

/** the Electron executable when one is installed: require('electron') is its path in plain Node */
export function electronBinary(): string | undefined {
  try {
    const p: unknown = createRequire(import.meta.url)('electron');
    return typeof p === 'string' && p.length > 0 && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** the folder Electron's app.getPath('appData') names, + Genloom: both modes share it */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.GENLOOM_DATA_DIR) return resolve(env.GENLOOM_DATA_DIR);
  const home = homedir();
  const appData =
    platform === 'win32'
      ? (env.APPDATA ?? join(home, 'AppData', 'Roaming'))
      : platform === 'darwin'
        ? join(home, 'Library', 'Application Support')
        : (env.XDG_CONFIG_HOME ?? join(home, '.config'));
  return join(appData, 'Genloom');
}

export interface StartArgs {
  web: boolean;
  port: number;
  dataDir?: string;
  /** how many training runs at once (passed on as GENLOOM_MAX_TRAINING_RUNS) */
  maxTrainingRuns?: number;
  rebuild: boolean;
  help: boolean;
}

const USAGE_LINE = 'usage: start [--web] [--port N] [--data-dir DIR] [--max-training-runs N] [--rebuild]';

export function parseStartArgs(argv: readonly string[]): StartArgs {
  const args: StartArgs = { web: false, port: 0, rebuild: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--web') args.web = true;
    else if (a === '--rebuild') args.rebuild = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--port' || a.startsWith('--port=')) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be 0..65535`);
      args.port = n;
    } else if (a === '--data-dir' || a.startsWith('--data-dir=')) args.dataDir = resolve(value());
    else if (a === '--max-training-runs' || a.startsWith('--max-training-runs=')) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error('--max-training-runs must be 1..1000');
      args.maxTrainingRuns = n;
    } else throw new Error(`unknown option ${a}`);
  }
  return args;
}

/** runs a build step quietly; its output is shown only when it fails */
function build(what: string, args: string[]): boolean {
  process.stderr.write(`Building ${what} (first run only)...\n`);
  const r = spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  if (r.status === 0) return true;
  process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}\nBuilding ${what} failed (exit ${r.status}).\n`);
  return false;
}

export function ensureWebBuild(force = false): boolean {
  if (!force && existsSync(join(WEB_DIST, 'index.html'))) return true;
  return build("the studio's renderer", [join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '-c', 'vite.web.config.ts', '--logLevel', 'warn']);
}

export function ensureElectronBuild(force = false): boolean {
  const built = ['main/index.js', 'preload/index.cjs', 'renderer/index.html'].every((f) => existsSync(join(ELECTRON_OUT, f)));
  if (!force && built) return true;
  return build('the desktop app', [join(REPO_ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build']);
}

async function runWeb(args: StartArgs): Promise<number> {
  if (!ensureWebBuild(args.rebuild)) process.stderr.write('The server starts anyway; its page says what is missing.\n');
  const server = await startWebServer({
    port: args.port,
    dataDir: args.dataDir ?? defaultDataDir(),
    staticDir: WEB_DIST,
    ...(args.maxTrainingRuns !== undefined && { studio: { maxTrainingRuns: args.maxTrainingRuns } }),
  });
  console.log(server.url);
  await new Promise<void>((res) => {
    const stop = () => res();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}

async function runElectron(binary: string, args: StartArgs): Promise<number> {
  if (!ensureElectronBuild(args.rebuild)) return 1;
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  if (args.dataDir) env.GENLOOM_DATA_DIR = args.dataDir;
  if (args.maxTrainingRuns !== undefined) env.GENLOOM_MAX_TRAINING_RUNS = String(args.maxTrainingRuns);
  const child = spawn(binary, [join(ELECTRON_OUT, 'main', 'index.js')], { cwd: REPO_ROOT, stdio: 'inherit', env });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  return new Promise((res) => {
    child.on('error', (e) => {
      console.error(`cannot start Electron: ${e.message}`);
      res(1);
    });
    child.on('exit', (code, signal) => res(code ?? (signal ? 1 : 0)));
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: StartArgs;
  try {
    args = parseStartArgs(argv);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE_LINE}`);
    return 2;
  }
  if (args.help) {
    console.log(
      `${USAGE_LINE}\n  --web  serve the studio to a browser on 127.0.0.1 instead of the desktop app\n  --max-training-runs N  training runs at once (default 4; more are refused)`,
    );
    return 0;
  }
  if (args.web) return runWeb(args);
  const binary = electronBinary();
  if (binary) return runElectron(binary, args);
  console.log(NO_ELECTRON_LINE);
  return runWeb(args);
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
