import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline/promises';
import { stringify } from 'yaml';
import { ExitCode, UsageError } from '../../errors.js';
import { hashFile } from '../../plan/digest-cache.js';
import { tryPlanRecipe } from '../../plan/make-plan.js';
import { API_VERSION } from '../../recipe/schema.js';
import { PACKAGE_ROOT } from '../../support/load.js';
import { printIssues, type Output } from '../output.js';

// Scaffolds a recipe for a custom backend (a Python wheel or a binary): flags for everything,
// prompts only on a terminal. The file is copied next to the recipe and pinned by its sha256; the
// result validates or nothing is written.

export interface InitOptions {
  dir: string;
  name?: string;
  imageVersion?: string;
  wheel?: string;
  binary?: string;
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

function wheelVersion(file: string): string | null {
  const m = /^[A-Za-z0-9_.]+-([^-]+)-/.exec(path.basename(file));
  return m ? m[1]! : null;
}

function words(s: string | undefined): string[] {
  return (s ?? '').split(/\s+/).filter(Boolean);
}

export async function runInit(opts: InitOptions, o: Output): Promise<number> {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !opts.yes;
  const rl = interactive ? createInterface({ input: process.stdin, output: process.stderr }) : null;
  // Each answer is checked as it is given: a bad one is asked again (a bad flag is refused at once).
  const ask = async (key: keyof InitOptions, question: string, fallback?: string): Promise<string | undefined> => {
    const check = CHECKS[key];
    const given = opts[key];
    if (typeof given === 'string' && given) {
      const bad = check?.(given);
      if (bad) throw new UsageError(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${given}: ${bad}`);
      return given;
    }
    if (!rl) return fallback;
    for (;;) {
      const a = (await rl.question(`${question}${fallback ? ` [${fallback}]` : ''}: `)).trim() || fallback;
      const bad = a ? check?.(a) : null;
      if (!bad) return a;
      o.err(`  ${JSON.stringify(a)} ${bad}; try again`);
    }
  };
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

/** The recipe's own rules, applied to each answer as it comes (messages as `validate` gives them). */
const CHECKS: Partial<Record<keyof InitOptions, (v: string) => string | null>> = {
  name: (v) => (/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(v) ? null : 'must be lowercase letters, digits and separators (. _ - /), e.g. "my-backend"'),
  imageVersion: (v) => (/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(v) ? null : 'must be a semantic version such as 1.4.0'),
  port: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? null : 'must be a port number from 1 to 65535'),
  python: (v) => (/^3\.\d{1,2}$/.test(v) ? null : 'must be a Python version such as 3.12'),
  cuda: (v) => (/^\d{1,3}\.\d{1,3}$/.test(v) ? null : 'must be MAJOR.MINOR, e.g. 12.9'),
};

type Ask = (key: keyof InitOptions, question: string, fallback?: string) => Promise<string | undefined>;

async function scaffold(opts: InitOptions, o: Output, rl: Interface | null, ask: Ask): Promise<number> {
  let kind: 'wheel' | 'binary' | null = opts.wheel ? 'wheel' : opts.binary ? 'binary' : null;
  let source = opts.wheel ?? opts.binary;
  if (!kind) {
    if (!rl) throw new UsageError('init needs --wheel PATH or --binary PATH (no terminal to ask on)', 'e.g. dynamo-image init --wheel dist/my_backend-1.0.0-py3-none-any.whl --entrypoint my-backend');
    const wheel = (await rl.question('path of the engine wheel (empty for a binary): ')).trim();
    kind = wheel ? 'wheel' : 'binary';
    source = wheel || (await rl.question('path of the binary: ')).trim();
  }
  if (!source) throw new UsageError(`init needs --${kind} PATH`);
  const st = await stat(source).catch(() => null);
  if (!st?.isFile()) throw new UsageError(`${source}: no such file`);
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

  const dir = path.resolve(opts.dir);
  const recipeFile = path.join(dir, 'recipe.yaml');
  if (!opts.force && (await stat(recipeFile).catch(() => null))) throw new UsageError(`${recipeFile} exists`, 'use --force to overwrite it, or --dir for another folder');
  const rel = kind === 'wheel' ? `wheels/${path.basename(source)}` : `bin/${path.basename(source)}`;
  const sha256 = await hashFile(source);
  const recipe = {
    apiVersion: API_VERSION,
    name,
    version,
    base: { ...(baseImage ? { image: baseImage } : {}), ...(cuda ? { cuda } : {}), platforms: ['linux/amd64'] },
    python,
    engine: {
      framework: 'custom',
      version: kind === 'wheel' ? (engineVersion ?? version) : version,
      ...(kind === 'wheel' ? { wheel: { path: rel, sha256 } } : { binary: { path: rel, sha256, installPath: opts.installPath ?? `/usr/local/bin/${path.basename(source)}` } }),
    },
    backend: { entrypoint, ...(command.length ? { command } : {}), ...(port ? { ports: [Number(port)] } : {}) },
    smoke: {
      tests: [
        { kind: 'metadata', name: 'runs as the non-root user', user: '1000:0' },
        // A GPU test only for a CUDA base: a CPU engine on its own image has no GPU to see.
        ...(cuda ? [{ kind: 'command', name: 'a GPU is visible', gpu: true, command: ['nvidia-smi', '-L'] }] : []),
      ],
    },
    publish: { tags: ['{version}'] },
  };
  // The schema as a path that exists, relative to the new recipe: the checkout's or the installed package's.
  const schemaRef = path.relative(path.resolve(opts.dir), path.join(PACKAGE_ROOT, 'schema', 'recipe.schema.json')).split(path.sep).join('/');
  const text = `# yaml-language-server: $schema=${schemaRef}\n# Scaffolded by \`dynamo-image init\`. Reference: README.md, "Recipe reference".\n${stringify(recipe)}`;
  // Validate in a scratch folder first: an invalid scaffold writes nothing.
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'dynamo-image-init-'));
  try {
    await mkdir(path.join(scratch, path.dirname(rel)), { recursive: true });
    await copyFile(source, path.join(scratch, rel));
    await writeFile(path.join(scratch, 'recipe.yaml'), text);
    const r = await tryPlanRecipe(path.join(scratch, 'recipe.yaml'));
    if (!r.ok) {
      printIssues(o, r.issues.map((i) => ({ ...i, file: recipeFile })));
      throw new UsageError('the scaffolded recipe would not validate; nothing was written', 'adjust the flags named above');
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await mkdir(path.join(dir, path.dirname(rel)), { recursive: true });
  await copyFile(source, path.join(dir, rel));
  await writeFile(recipeFile, text);
  const shown = path.relative(process.cwd(), recipeFile);
  const display = shown && !shown.startsWith('..') ? shown : recipeFile;
  o.err(`wrote ${display} (${kind} ${rel}, sha256 ${sha256.slice(0, 12)}...)`);
  o.err(`next: dynamo-image build ${display}`);
  return ExitCode.ok;
}
