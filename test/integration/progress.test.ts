import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { privateExample, removeImages } from '../support/docker.js';

// The progress view on a real pseudo-terminal (util-linux `script`), building on the real engine.

function onPty(cmd: string, env: Record<string, string>): string {
  return execFileSync('script', ['-qec', cmd, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, CI: '', GITHUB_ACTIONS: '', DYNAMO_IMAGE_NO_FAST_PATH: '1', ...env },
    timeout: 300_000,
  }).toString();
}

describe('progress on a terminal', () => {
  it('TERM=dumb gets plain lines and no escape sequence; a capable terminal gets one summary within its width', () => {
    const ex = privateExample('recipes/examples/echo-python', 'pty');
    try {
      const cli = `${process.execPath} ${path.join(ROOT, 'bin', 'dynamo-image.js')} build ${ex.recipe} --no-test --force`;
      const dumb = onPty(cli, { TERM: 'dumb', COLUMNS: '80', LINES: '24' });
      expect(dumb).not.toContain('\x1b');
      expect(dumb).toMatch(/\d\d:\d\d:\d\d DONE /);
      const xterm = onPty(`stty rows 12 cols 60; ${cli}`, { TERM: 'xterm' });
      // (A fast, cached build may finish before the first redraw: then only the summary shows.)
      // After the last redraw, the summary: each step once, no line wider than the terminal.
      const tail = xterm.includes('\x1b[0J') ? xterm.slice(xterm.lastIndexOf('\x1b[0J') + 4) : xterm;
      const lines = tail.split(/\r?\n/).filter((l) => /^[=✓✗…] /.test(l));
      expect(lines.length).toBeGreaterThan(3);
      expect(new Set(lines).size).toBe(lines.length);
      for (const l of lines) expect([...l].length).toBeLessThanOrEqual(59);
    } finally {
      removeImages(`${ex.name}:0.1.0`);
      ex.cleanup();
    }
  });
});
