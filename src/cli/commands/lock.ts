import { ExitCode } from '../../errors.js';
import { lockRecipe } from '../../pipeline/lock.js';
import type { Output } from '../output.js';

// `dynamo-image lock`: the recipe's images by tag -> recipe.lock.yaml (pipeline/lock.ts), and what changed.

export async function runLock(file: string, opts: { json?: boolean; allowUnsupported?: boolean }, o: Output): Promise<number> {
  const { written, images, localImages, changes, refs } = await lockRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false, note: (t) => o.err(t) });
  if (opts.json) o.out(JSON.stringify({ lockFile: written, images, localImages, changes }));
  else {
    for (const c of changes) {
      const what = c.kind === 'local' ? `local image ${c.now} (made here, in no registry: --locked checks the engine has it)` : c.now;
      o.err(`${c.ref} -> ${what}${c.change === 'changed' ? ` (was ${c.before})` : c.change === 'unchanged' ? ' (unchanged)' : ''}`);
    }
    o.err(`wrote ${written}${refs === 0 ? ' (every image reference already carries a digest)' : ''}`);
  }
  return ExitCode.ok;
}
