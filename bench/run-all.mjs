// Runs every benchmark in turn. Usage: npm run bench
import { spawnSync } from 'node:child_process';

for (const script of ['startup.mjs', 'build-overhead.mjs', 'stream-2gb.mjs', 'smoke-output.mjs']) {
  console.log(`\n== bench/${script}`);
  const r = spawnSync(process.execPath, [new URL(script, import.meta.url).pathname], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
