#!/usr/bin/env node
// A `build` that finds nothing changed is answered from a record of the last identical run,
// without loading the CLI (src/fast/no-change.ts); everything else goes to the CLI's main.
import { tryNoChange } from '../dist/fast/no-change.js';

const argv = process.argv.slice(2);
const write = (stream) => (t) => stream.write(t.endsWith('\n') ? t : `${t}\n`);
const fast = await tryNoChange(argv, { out: write(process.stdout), err: write(process.stderr) });
if (fast !== null) process.exitCode = fast;
else {
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(argv);
}
