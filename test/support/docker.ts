import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './cli.js';

// Independent checks through the docker CLI: what the tests assert is read by another client than
// the one under test.

export function docker(args: string[], opts: { allowFail?: boolean } = {}): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync('docker', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }).toString();
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status?: number; stdout?: Buffer; stderr?: Buffer };
    if (!opts.allowFail) throw new Error(`docker ${args.join(' ')} failed: ${err.stderr?.toString() ?? ''}`);
    return { code: err.status ?? 1, stdout: err.stdout?.toString() ?? '', stderr: err.stderr?.toString() ?? '' };
  }
}

export function imageExists(ref: string): boolean {
  return docker(['image', 'inspect', ref], { allowFail: true }).code === 0;
}

export function inspectImage(ref: string): {
  Config: {
    User: string;
    WorkingDir: string;
    Env: string[];
    Entrypoint: string[];
    Cmd: string[];
    Labels: Record<string, string>;
    ExposedPorts?: Record<string, unknown>;
  };
  Id: string;
} {
  return JSON.parse(docker(['image', 'inspect', ref]).stdout)[0];
}

/** Runs a throwaway container (network none) and returns its output; --rm removes it. */
export function runIn(image: string, argv: string[], opts: { user?: string } = {}): { code: number; stdout: string; stderr: string } {
  return docker(['run', '--rm', '--network', 'none', ...(opts.user ? ['--user', opts.user] : []), '--entrypoint', argv[0]!, image, ...argv.slice(1)], {
    allowFail: true,
  });
}

/** Runs the image's own entrypoint and command. */
export function runDefault(image: string): { code: number; stdout: string; stderr: string } {
  return docker(['run', '--rm', '--network', 'none', image], { allowFail: true });
}

export function allContainers(): string[] {
  return docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
}

export function removeImages(...refs: string[]): void {
  for (const r of refs) docker(['image', 'rm', '-f', r], { allowFail: true });
}

/** A private copy of an example's folder, so tests may change files without touching the repo. */
export function copyRecipeDir(rel: string): { dir: string; recipe: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-it-'));
  cpSync(path.join(ROOT, rel), dir, { recursive: true });
  return { dir, recipe: path.join(dir, 'recipe.yaml'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A private copy of an example with a unique image name; `edit` rewrites the recipe text. */
export function privateExample(
  example: string,
  prefix = 'it',
): { dir: string; recipe: string; name: string; cleanup: () => void; edit: (fn: (text: string) => string) => void } {
  const c = copyRecipeDir(example);
  const name = `${prefix}-${path.basename(example)}-${Math.random().toString(36).slice(2, 8)}`;
  const edit = (fn: (text: string) => string) => writeFileSync(c.recipe, fn(readFileSync(c.recipe, 'utf8')));
  edit((t) => t.replace(/^name: .*$/m, `name: ${name}`));
  return { ...c, name, edit };
}

/** Removes every local image whose repository:tag contains `fragment` (a test's unique name). */
export function removeImagesNamed(fragment: string): void {
  removeImages(
    ...docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])
      .stdout.split('\n')
      .filter((r) => r.includes(fragment)),
  );
}
