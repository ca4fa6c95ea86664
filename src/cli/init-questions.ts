import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Interface } from 'node:readline/promises';
import { UsageError } from '../errors.js';
import type { ScaffoldAnswers } from '../recipe/scaffold.js';
import { wheelVersion } from '../recipe/scaffold.js';
import { words, type Ask } from './prompts.js';

// `init`'s questions: what the flags did not say, asked on a terminal (a flag answers without
// asking), each answer checked as it comes.

export interface InitOptions {
  dir: string;
  /** What goes in: one of them, copied next to the recipe. */
  wheel?: string;
  binary?: string;
  /** Answers (asked on a terminal when absent). */
  name?: string;
  imageVersion?: string;
  installPath?: string;
  entrypoint?: string;
  command?: string;
  port?: string;
  baseImage?: string;
  cuda?: string;
  python?: string;
  force?: boolean;
  yes?: boolean;
}

export type ScaffoldRequest = Omit<ScaffoldAnswers, 'sha256' | 'fileName'>;

export async function askScaffold(opts: InitOptions, rl: Interface | null, ask: Ask<keyof InitOptions>): Promise<{ source: string; answers: ScaffoldRequest }> {
  let kind: 'wheel' | 'binary' | null = opts.wheel ? 'wheel' : opts.binary ? 'binary' : null;
  let source = opts.wheel ?? opts.binary;
  if (!kind) {
    if (!rl)
      throw new UsageError(
        'init needs --wheel PATH or --binary PATH (no terminal to ask on)',
        'e.g. dynamo-image init --wheel dist/my_backend-1.0.0-py3-none-any.whl --entrypoint my-backend',
      );
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
  const entrypoint = words(
    await ask('entrypoint', 'entrypoint command', kind === 'binary' ? (opts.installPath ?? `/usr/local/bin/${path.basename(source)}`) : name),
  );
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
  return { source, answers: { kind, name, version, engineVersion, entrypoint, command, port, cuda, baseImage, python, installPath: opts.installPath } };
}
