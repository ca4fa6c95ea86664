#!/usr/bin/env node
// A `build` that finds nothing changed is answered from a record of the last identical run,
// without loading the CLI (src/fast/no-change.ts); everything else goes to the CLI's main. Both run
// from the bundles `npm run build` writes (scripts/bundle.mjs); only `build` can be replayed, so no
// other command loads the fast path.
import { loadBundle } from './bundle-loader.js';

const argv = process.argv.slice(2);
const write = (stream) => (t) => stream.write(t.endsWith('\n') ? t : `${t}\n`);
const fast = argv[0] === 'build' ? await loadBundle('no-change').tryNoChange(argv, { out: write(process.stdout), err: write(process.stderr) }) : null;
if (fast !== null) process.exitCode = fast;
else process.exitCode = await loadBundle('cli').main(argv);
