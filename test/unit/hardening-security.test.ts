import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerfileFromPlan } from '../../src/dockerfile/from-plan.js';
import { renderDockerfile } from '../../src/dockerfile/render.js';
import { parseVariant } from '../../src/matrix/expand.js';
import { planRecipe } from '../../src/plan/make-plan.js';
import { runMain } from '../support/capture.js';
import { ROOT } from '../support/cli.js';

// Issue 14, security classes: values that could run code, shell commands, reserved labels, paths
// that read as Dockerfile syntax. The validation side has fixtures in test/fixtures/bad/ (matrix-*,
// label-reserved, files-source-*); these tests cover what fixtures cannot.

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-hardening-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HOSTILE = ["3.11), __import__('os').system('id')#", '12.9\nRUN id', '--privileged', '12.9;id', '$(id)'];

describe('matrix values meet the rules of the field they stand for', () => {
  it.each(HOSTILE.flatMap((v) => ['cuda', 'platform', 'python'].map((axis) => [axis, v] as const)))('--variant %s=%j is refused', (axis, value) => {
    const r = parseVariant(`${axis}=${value}`);
    expect(r.ok).toBe(false);
  });

  it('a hostile --variant exits 2 before anything is planned', async () => {
    const r = await runMain(['render', 'recipes/examples/echo-matrix/recipe.yaml', '--variant', "python=3.11), __import__('os').system('id')#"]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('must include major and minor version');
  });

  it('the renderer itself refuses a python value that is not MAJOR.MINOR (defence in depth)', async () => {
    const { plan } = await planRecipe(path.join(ROOT, 'recipes/examples/echo-python/recipe.yaml'));
    expect(() => renderDockerfile(dockerfileFromPlan({ ...plan, python: "3), print('x'" }))).toThrow(/not MAJOR\.MINOR/);
  });
});

describe('matrix --format github: commands a CI shell can run safely', () => {
  // A recipe folder whose name is shell syntax. Folder names cannot hold "/" and
  // control characters are refused, so ";", "$( )", quotes and spaces are what is left to try.
  const evil = path.join(tmp, 'a;touch PWNED;$(touch PWNED2) \'q\' "d"');
  mkdirSync(evil, { recursive: true });
  cpSync(path.join(ROOT, 'recipes/examples/echo-matrix'), evil, { recursive: true });

  it('every argument is quoted: the shell receives the path as one word and runs nothing else', async () => {
    const r = await runMain(['matrix', evil, '--format', 'github', '--command', "printf '<%s>\\n'"]);
    expect(r.code, r.err).toBe(0);
    const { include } = JSON.parse(r.out) as { include: Record<string, string>[] };
    expect(include.length).toBeGreaterThan(0);
    for (const e of include) {
      const printed = execFileSync('bash', ['-c', e['command']!], { cwd: tmp, encoding: 'utf8' });
      const args = printed.trim().split('\n');
      expect(args[0]).toBe(`<${path.join(evil, 'recipe.yaml')}>`);
      expect(args.slice(1)).toEqual(['<--variant>', `<${e['variantArg']}>`]);
      expect(e['recipe']).toBe(path.join(evil, 'recipe.yaml'));
    }
    expect(existsSync(path.join(tmp, 'PWNED'))).toBe(false);
    expect(existsSync(path.join(tmp, 'PWNED2'))).toBe(false);
  });

  it('a recipe path with a line break is refused, not quoted', async () => {
    const nl = path.join(tmp, 'line\nbreak');
    mkdirSync(nl, { recursive: true });
    cpSync(path.join(ROOT, 'recipes/examples/echo-matrix'), nl, { recursive: true });
    const r = await runMain(['matrix', nl, '--format', 'github']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('cannot be passed safely to a CI shell');
  });

  it('the example workflow passes matrix values through the environment, never into the script', () => {
    const wf = readFileSync(path.join(ROOT, '.github/workflows/dynamo-images.yml'), 'utf8');
    for (const line of wf.split('\n').filter((l) => /^\s*run:/.test(l) || /^\s{10,}\S/.test(l))) {
      if (/^\s*run:/.test(line)) expect(line, line).not.toMatch(/\$\{\{\s*matrix\./);
    }
    expect(wf).toContain('RECIPE: ${{ matrix.recipe }}');
  });
});

describe('reserved labels and paths that read as syntax', () => {
  const recipeWith = (extra: string) => {
    const dir = mkdtempSync(path.join(tmp, 'r-'));
    cpSync(path.join(ROOT, 'recipes/examples/echo-python'), dir, { recursive: true });
    const text = readFileSync(path.join(dir, 'recipe.yaml'), 'utf8');
    writeFileSync(path.join(dir, 'recipe.yaml'), `${text}\n${extra}\n`);
    return path.join(dir, 'recipe.yaml');
  };

  it.each(['dev.dynamo-image.support-status', 'dev.dynamo-image.engine-version', 'dev.dynamo-image.recipe-sha256', 'dev.dynamo-image.anything-new'])(
    'label %s is refused',
    async (key) => {
      const r = await runMain(['validate', recipeWith(`labels:\n  ${key}: forged`)]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`labels.${key}`);
      expect(r.err).toContain('is reserved');
    },
  );

  it('the renderer never writes a COPY source that starts with "-"', async () => {
    const { plan } = await planRecipe(path.join(ROOT, 'recipes/examples/echo-python/recipe.yaml'));
    const forged = { ...plan, inputs: plan.inputs.map((i) => (i.role === 'file' ? { ...i, contextPath: '--from=framework' } : i)) };
    expect(() => renderDockerfile(dockerfileFromPlan(forged))).toThrow(/starts with "-"/);
  });

  it.each(['https://x/$(touch /pwned)', 'https://x/" ; touch /pwned ; "', 'https://x/`id`'])(
    'the renderer refuses an apt repository URI %j that a forged plan carries',
    async (uri) => {
      const { plan } = await planRecipe(path.join(ROOT, 'recipes/examples/echo-python/recipe.yaml'));
      const forged = { ...plan, aptRepositories: [{ name: 'x', uri, suite: './', components: [], key: 'keys/x.gpg', fingerprints: [], priority: 100 }] };
      expect(() => renderDockerfile(dockerfileFromPlan(forged))).toThrow(/cannot be written safely/);
    },
  );
});

describe('text the recipe reader must accept', () => {
  it('a literal U+FFFD (valid UTF-8) is text, not "invalid UTF-8"', async () => {
    const dir = mkdtempSync(path.join(tmp, 'fffd-'));
    cpSync(path.join(ROOT, 'recipes/examples/echo-python'), dir, { recursive: true });
    const p = path.join(dir, 'recipe.yaml');
    writeFileSync(p, readFileSync(p, 'utf8').replace(/^description: .*$/m, 'description: "replacement \uFFFD character"'));
    const r = await runMain(['validate', p]);
    expect(r.code, r.err).toBe(0);
  });
});
