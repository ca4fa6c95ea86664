import path from 'node:path';
import { createInterface, type Interface } from 'node:readline/promises';
import { ExitCode, UsageError } from '../../errors.js';
import { writeScaffold } from '../../pipeline/scaffold.js';
import { SCAFFOLD_CHECKS } from '../../recipe/scaffold.js';
import { printIssues, type Output } from '../output.js';
import { askScaffold, type InitOptions } from '../init-questions.js';
import { asker, type Ask } from '../prompts.js';

// Scaffolds a recipe for a custom backend (a Python wheel or a binary): flags for everything,
// prompts only on a terminal. The file is copied next to the recipe and pinned by its sha256; the
// result validates or nothing is written.

export async function runInit(opts: InitOptions, o: Output): Promise<number> {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !opts.yes;
  const rl = interactive ? createInterface({ input: process.stdin, output: process.stderr }) : null;
  const ask = asker<keyof InitOptions>(opts, rl, SCAFFOLD_CHECKS, o);
  try {
    return await scaffold(opts, o, rl, ask);
  } catch (e) {
    // Ctrl+D or Ctrl+C at a prompt.
    if ((e as Error).name === 'AbortError' || /Ctrl\+[CD]/.test((e as Error).message)) throw new UsageError('init aborted at a prompt; nothing was written');
    throw e;
  } finally {
    rl?.close();
  }
}

async function scaffold(opts: InitOptions, o: Output, rl: Interface | null, ask: Ask<keyof InitOptions>): Promise<number> {
  const { source, answers } = await askScaffold(opts, rl, ask);
  const written = await writeScaffold({ dir: opts.dir, source, force: opts.force ?? false, answers });
  if (!written.ok) {
    printIssues(o, written.issues);
    throw new UsageError('the scaffolded recipe would not validate; nothing was written', 'adjust the flags named above');
  }
  const shown = path.relative(process.cwd(), written.recipeFile);
  const display = shown && !shown.startsWith('..') ? shown : written.recipeFile;
  o.err(`wrote ${display} (${answers.kind} ${written.rel}, sha256 ${written.sha256.slice(0, 12)}...)`);
  o.err(`next: dynamo-image build ${display}`);
  return ExitCode.ok;
}
