import { ExitCode } from '../../errors.js';
import { planPins, writePins } from '../../pipeline/pin.js';
import type { Output } from '../output.js';

// `dynamo-image pin RECIPE`: after rebuilding a wheel, a dependency or Dynamo wheel, a binary or a
// file, puts each local input's sha256 back into the recipe (pipeline/pin.ts), keeping its layout.

export async function runPin(file: string, opts: { json?: boolean }, o: Output): Promise<number> {
  const { text, changes } = await planPins(file);
  if (opts.json) o.out(JSON.stringify({ file, changes: changes.map(({ field, from, to }) => ({ field, from, to })) }));
  else if (!changes.length) o.err(`${file}: every sha256 matches its file`);
  else for (const c of changes) o.err(`${file}: ${c.field} ${c.from.slice(0, 19) || '(none)'}... -> ${c.to.slice(0, 19)}...`);
  if (changes.length) await writePins(file, text, changes);
  return ExitCode.ok;
}
