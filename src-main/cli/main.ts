/**
 * The `genloom` command line. Exit codes: 0 ok, 1 failure, 2 bad usage or bad input.
 * `--json` prints one JSON object per line instead of text.
 */
import { familiesCommand } from './familiesCommand';
import { validateCommand, infoCommand } from './graphCommands';
import { trainCommand, resumeCommand } from './trainCommand';
import { sampleCommand, evalCommand } from './runCommands';
import type { Io } from './io';
import { BadInputError, UsageError } from './args';

export const USAGE = `genloom: a studio for generative models (command line)

usage:
  genloom families [--json]                 the model families: node types, templates, bars
  genloom validate FILE                     check a graph document; print diagnostics
                                            (FILE may be a bundled template's name)
  genloom info FILE                         print the compiled program
  genloom train FILE [--steps N] [--seed S] [--backend tensorflow|wasm|cpu|torch]
                     [--batch-size B] [--out DIR] [--json]
                     [--device cpu|cuda] [--nproc N]   (torch: PyTorch, N processes by torchrun)
  genloom resume DIR [--steps N] [--json]   continue a run from its last checkpoint
  genloom export-torch FILE_OR_RUN --out DIR
                                            the graph as a PyTorch program (train.py)
  genloom sample DIR --n N --out FILE       samples as .csv, .json or .png
                     [--sampler NODE] [--seed S]
  genloom eval DIR [--n N] [--json]         REFERENCE metrics on a fresh held-out sample
  genloom export RUN_DIR --target generator|encoder|density|sampler [--node ID]
                     [--steps N] [--noise internal|inputs] --out FILE.onnx
  genloom run-onnx FILE.onnx --n N --out samples.csv

exit codes: 0 ok, 1 failure, 2 bad usage or bad input`;

type Command = (argv: string[], io: Io) => Promise<number>;

const lazy = (load: () => Promise<Command>): Command => async (argv, io) => (await load())(argv, io);

const COMMANDS: Record<string, Command> = {
  families: familiesCommand,
  validate: validateCommand,
  info: infoCommand,
  train: trainCommand,
  resume: resumeCommand,
  sample: sampleCommand,
  eval: evalCommand,
  export: lazy(async () => (await import('./exportCommand')).exportCommand),
  'export-torch': lazy(async () => (await import('./torchCommands')).exportTorchCommand),
  'run-onnx': lazy(async () => (await import('./runOnnxCommand')).runOnnxCommand),
};

export const stdio: Io = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
  isTTY: Boolean(process.stderr.isTTY),
};

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.out(USAGE);
    return cmd ? 0 : 2;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    io.err(`genloom: unknown command "${cmd}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (e) {
    if (e instanceof BadInputError) {
      io.err(`genloom ${cmd}: ${e.message.trim()}`);
      return 2;
    }
    if (e instanceof UsageError) {
      io.err(`genloom ${cmd}: ${e.message}\n(run "genloom --help" for usage)`);
      return 2;
    }
    io.err(`genloom ${cmd}: ${(e as Error).message}`);
    return 1;
  }
}
