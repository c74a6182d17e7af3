/** The genloom command line run in-process through `main(argv, io)`, its output captured. */
import { main } from '../src-main/cli/main';

export async function runCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const line = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
  const code = await main(argv, { out: (s) => out.push(line(s)), err: (s) => err.push(line(s)), isTTY: false });
  return { code, out: out.join(''), err: err.join('') };
}
