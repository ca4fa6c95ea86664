import { stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline/promises';
import { ExitCode, UsageError } from '../../errors.js';
import { writeScaffold } from '../../pipeline/scaffold.js';
import { SCAFFOLD_CHECKS, wheelVersion } from '../../recipe/scaffold.js';
import { printIssues, type Output } from '../output.js';
import { asker, words, type Ask } from '../prompts.js';

// Scaffolds a recipe for a custom backend (a Python wheel or a binary): flags for everything,
// prompts only on a terminal. The file is copied next to the recipe and pinned by its sha256; the
// result validates or nothing is written.

export interface InitOptions {
  dir: string;
  /** What goes in: one of them, copied next to the recipe. */
  wheel?: string;
  binary?: string;
  /** Answers (asked on a terminal when absent). */
  name?: string; imageVersion?: string; installPath?: string; entrypoint?: string; command?: string; port?: string;
  baseImage?: string; cuda?: string; python?: string;
  force?: boolean;
  yes?: boolean;
}

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
  let kind: 'wheel' | 'binary' | null = opts.wheel ? 'wheel' : opts.binary ? 'binary' : null;
  let source = opts.wheel ?? opts.binary;
  if (!kind) {
    if (!rl) throw new UsageError('init needs --wheel PATH or --binary PATH (no terminal to ask on)', 'e.g. dynamo-image init --wheel dist/my_backend-1.0.0-py3-none-any.whl --entrypoint my-backend');
    const wheel = (await rl.question('path of the engine wheel (empty for a binary): ')).trim();
    kind = wheel ? 'wheel' : 'binary';
    source = wheel || (await rl.question('path of the binary: ')).trim();
  }
  if (!source) throw new UsageError(`init needs --${kind} PATH`);
  if (!(await stat(source).catch(() => null))?.isFile()) throw new UsageError(`${source}: no such file`);
  const defaultName = path.basename(source).split(/[-.]/)[0]!.toLowerCase().replace(/_/g, '-');
  const name = (await ask('name', 'image name', defaultName))!;
  const engineVersion = kind === 'wheel' ? wheelVersion(source) : null;
  const version = (await ask('imageVersion', 'image version (semver)', engineVersion && /^\d+\.\d+\.\d+$/.test(engineVersion) ? engineVersion : '0.1.0'))!;
  const entrypoint = words(await ask('entrypoint', 'entrypoint command', kind === 'binary' ? (opts.installPath ?? `/usr/local/bin/${path.basename(source)}`) : name));
  if (!entrypoint.length) throw new UsageError('init needs --entrypoint "COMMAND [ARGS]"');
  const command = words(await ask('command', 'default arguments (CMD)', ''));
  const port = await ask('port', 'port it listens on (empty for none)', '');
  let cuda = opts.cuda;
  let baseImage = opts.baseImage;
  if (!cuda && !baseImage) {
    const base = rl ? (await rl.question('base: a CUDA version (base image table) or an image reference [12.9]: ')).trim() || '12.9' : '12.9';
    if (/^\d+\.\d+$/.test(base)) cuda = base;
    else baseImage = base;
  }
  const python = (await ask('python', 'Python version', cuda && !baseImage ? '3.12' : '3.11'))!;
  if (!cuda && !baseImage) throw new UsageError('init needs --cuda VERSION or --base-image REF');

  const written = await writeScaffold({ dir: opts.dir, source, force: opts.force ?? false, answers: { kind, name, version, engineVersion, entrypoint, command, port, cuda, baseImage, python, installPath: opts.installPath } });
  if (!written.ok) {
    printIssues(o, written.issues);
    throw new UsageError('the scaffolded recipe would not validate; nothing was written', 'adjust the flags named above');
  }
  const shown = path.relative(process.cwd(), written.recipeFile);
  const display = shown && !shown.startsWith('..') ? shown : written.recipeFile;
  o.err(`wrote ${display} (${kind} ${written.rel}, sha256 ${written.sha256.slice(0, 12)}...)`);
  o.err(`next: dynamo-image build ${display}`);
  return ExitCode.ok;
}
