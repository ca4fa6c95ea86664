import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { privateExample, removeImagesNamed } from '../support/docker.js';

// Issue 19, points 4-5: a build step that writes terminal control sequences, GitHub workflow
// commands and the build secret (plain, base64, URL-encoded), then fails. On the real engine, in
// every --progress mode, the output shows the sequences escaped, runs no workflow command, and
// never holds the secret.

const SECRET = 'p@ss/w0rd+Zq7!';
const URL_FORM = encodeURIComponent(SECRET);
const B64_FORM = Buffer.from(SECRET).toString('base64');
const ex = privateExample('recipes/examples/echo-python', 'guard');
const secretFile = path.join(ex.dir, '..', `${path.basename(ex.dir)}-secret`);

beforeAll(() => {
  writeFileSync(secretFile, SECRET, { mode: 0o600 });
  const run = [
    `printf '\\033]52;c;cHduZWQ=\\007\\033]0;pwned-title\\007\\033[2J\\033[H\\302\\233 C1 CSI\\n'`,
    `printf '::add-mask::hello\\n  ::warning::indented\\n::error::forged\\n##[error]legacy\\n'`,
    'cat /run/secrets/tok; echo',
    `echo ${URL_FORM}`,
    'base64 /run/secrets/tok',
    'exit 3',
  ].join('; ');
  ex.edit((t) => `${t}\nsteps:\n  - name: hostile output\n    secrets: [tok]\n    run: ${JSON.stringify(run)}\n`);
});
afterAll(() => {
  removeImagesNamed(ex.name);
  ex.cleanup();
  // The secret lives next to the recipe's private folder, not in it: removed here.
  rmSync(secretFile, { force: true });
});

const build = (progress: string, env: NodeJS.ProcessEnv = {}) =>
  runCli(['build', ex.recipe, '--builder', 'buildkit', '--no-test', '--progress', progress, '--secret', `id=tok,src=${secretFile}`], { env });

/** No secret anywhere but in the ::add-mask:: lines that tell GitHub to mask it. */
function expectNoSecret(r: CliResult) {
  for (const s of [
    r.stdout,
    r.stderr
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n'),
  ]) {
    expect(s).not.toContain(SECRET);
    expect(s).not.toContain(URL_FORM);
    expect(s).not.toContain(B64_FORM);
  }
}

describe('output is data, never control (points 4-5)', () => {
  it('plain: ESC, BEL and C1 shown escaped; the secret masked in every form', async () => {
    const r = await build('plain');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(r.stderr).toContain('\\u001b]52;c;cHduZWQ=\\u0007');
    expect(r.stderr).toContain('\\u009b C1 CSI');
    expectNoSecret(r);
    expect(r.stderr).toContain('***');
  });

  it("GitHub: foreign text inside stop-commands with a random token; the tool's own commands outside; ::add-mask:: first", async () => {
    const r = await build('plain', { GITHUB_ACTIONS: 'true' });
    expect(r.code, r.stderr).toBe(1);
    expectNoSecret(r);
    const lines = r.stderr.split('\n');
    // The runner's view: inside a block, no line is a command; outside, only ours.
    let token: string | null = null;
    const commands: string[] = [];
    const tokens = new Set<string>();
    for (const l of lines) {
      if (token && l === `::${token}::`) {
        token = null;
        continue;
      }
      if (token) continue;
      const m = /^::stop-commands::(.+)$/.exec(l);
      if (m) {
        token = m[1]!;
        tokens.add(token);
        continue;
      }
      const c = /^(::[\w-]+|##\[\w+)/.exec(l.trim());
      if (c) commands.push(c[1]!);
    }
    expect(token, 'every block is closed').toBeNull();
    expect(tokens.size).toBeGreaterThan(0);
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(commands)).toEqual(new Set(['::add-mask', '::group', '::endgroup', '::error']));
    // ::add-mask:: for every form of the secret, before the build's first line.
    const firstGroup = lines.findIndex((l) => l.startsWith('::group::'));
    const masks = lines.slice(0, firstGroup).filter((l) => l.startsWith('::add-mask::'));
    expect(masks.length).toBeGreaterThanOrEqual(3);
    // The forged ones are there, as text inside a block.
    expect(r.stderr).toContain('::error::forged');
    expect(r.stderr).toContain('  ::warning::indented');
  });

  it('json: only JSON lines, and the secret masked inside them', async () => {
    const r = await build('json');
    expect(r.code, r.stderr).toBe(1);
    expectNoSecret(r);
    const lines = r.stderr.split('\n').filter(Boolean);
    const events = lines.filter((l) => l.startsWith('{'));
    expect(events.length).toBeGreaterThan(3);
    for (const l of events) expect(() => JSON.parse(l)).not.toThrow();
    expect(r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });

  it('tty: the live view escapes what the step printed', async () => {
    const r = await build('tty');
    expect(r.code, r.stderr).toBe(1);
    expectNoSecret(r);
    // The view's own cursor moves are ESC [ n F / ESC [ 0 J; nothing else may carry ESC.
    const foreign = r.stderr.replace(/\x1b\[\d+F\x1b\[0J/g, '');
    expect(foreign).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });
});
