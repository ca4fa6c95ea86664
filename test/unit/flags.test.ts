import { describe, expect, it } from 'vitest';
import { makeProgram } from '../../src/cli/main.js';
import { FLAGS, replayableSpellings, type FlagSpec } from '../../src/options/flags.js';
import { replayable } from '../../src/fast/no-change.js';

// The flag table (options/flags.ts): every build option comes from it, so the no-change fast path,
// which reads its replay lists from it, knows every flag build takes.

const noop = { out: () => undefined, err: () => undefined, isTTY: false };
const program = makeProgram(noop, () => undefined);
const longOf = (flags: string) => flags.split(/[ ,]+/).find((w) => w.startsWith('--'))!;

describe('flag table', () => {
  it('every option of build (and of publish but its own few) is declared in the table', () => {
    const table = new Set((Object.values(FLAGS) as FlagSpec[]).map((s) => longOf(s.flags)));
    const build = program.commands.find((c) => c.name() === 'build')!;
    expect(build.options.map((o) => o.long).filter((l) => !table.has(l!))).toEqual([]);
    const publish = program.commands.find((c) => c.name() === 'publish')!;
    expect(publish.options.map((o) => o.long).filter((l) => !table.has(l!))).toEqual(['--skip-tests', '--sign-key', '--merge', '--dry-run']);
  });

  it('a shared option is spelled the same everywhere (one declaration)', () => {
    for (const c of program.commands)
      for (const o of c.options) {
        const spec = (Object.values(FLAGS) as FlagSpec[]).find((s) => longOf(s.flags) === o.long);
        if (spec && !(c.name() === 'render' && o.long === '--builder')) expect(o.flags, `${c.name()} ${o.long}`).toBe(spec.flags);
      }
  });

  it('the fast path replays exactly the flags marked replay', () => {
    const { bare, withValue } = replayableSpellings();
    expect([...bare].sort()).toEqual(['--allow-unsupported', '--json', '--locked', '--no-test', '--quiet', '-q']);
    expect([...withValue].sort()).toEqual([
      '--base-image',
      '--build-arg',
      '--builder',
      '--gpu',
      '--gpu-devices',
      '--gpu-request',
      '--jobs',
      '--network',
      '--platform',
      '--tag',
      '--target',
      '--variant',
      '-j',
      '-t',
    ]);
    expect(replayable(['build', 'r.yaml', '-q', '--tag', 'x:1'])).toBe(true);
    // Not replayable: flags whose result differs (or that do work), and flags it does not know.
    for (const extra of [
      ['--no-cache'],
      ['--push'],
      ['--cache-from', 'x'],
      ['--secret', 'id=a,env=B'],
      ['--junit', 'j.xml'],
      ['--progress', 'json'],
      ['--some-new-flag'],
      ['--gpu', 'require'],
    ])
      expect(replayable(['build', 'r.yaml', ...extra]), extra.join(' ')).toBe(false);
  });

  it('value checks come from the table: a bad --jobs or --base-image is refused by commander with what is valid', async () => {
    const errs: string[] = [];
    const p = makeProgram({ out: () => undefined, err: (t) => void errs.push(t), isTTY: false }, () => undefined);
    await expect(p.parseAsync(['build', 'r.yaml', '--jobs', '0'], { from: 'user' })).rejects.toThrow(/must be a positive whole number/);
    await expect(makeProgram(noop, () => undefined).parseAsync(['plan', 'r.yaml', '--base-image', 'Bad Ref'], { from: 'user' })).rejects.toThrow(
      /not a valid image reference/,
    );
  });
});
