import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';

/** Runs the CLI's main in-process and captures what it prints. */
export async function runMain(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o: Output = {
    out: (t) => (out += t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => (err += t.endsWith('\n') ? t : `${t}\n`),
    isTTY: false,
  };
  const code = await main(args, o);
  return { code, out, err };
}
