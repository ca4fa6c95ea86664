import type { SmokeTest } from '../../recipe/schema.js';
import { deepEqual } from '../checks.js';
import { Failure, type Ctx } from '../context.js';

// The metadata: the image's config against what the test expects.

export function runMetadata(ctx: Ctx, t: Extract<SmokeTest, { kind: 'metadata' }>): void {
  const img = ctx.image;
  const problems: { e: string; a: string }[] = [];
  if (t.user !== undefined && img.user !== t.user) problems.push({ e: `user ${JSON.stringify(t.user)}`, a: JSON.stringify(img.user) });
  if (t.workdir !== undefined && img.workdir !== t.workdir) problems.push({ e: `workdir ${t.workdir}`, a: img.workdir });
  for (const [k, v] of Object.entries(t.env ?? {})) {
    const got = img.env.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1);
    if (got !== v) problems.push({ e: `env ${k}=${v}`, a: got === undefined ? `${k} unset` : `${k}=${got}` });
  }
  if (t.entrypoint !== undefined && !deepEqual(img.entrypoint ?? [], t.entrypoint))
    problems.push({ e: `entrypoint ${JSON.stringify(t.entrypoint)}`, a: JSON.stringify(img.entrypoint) });
  if (t.cmd !== undefined && !deepEqual(img.cmd ?? [], t.cmd)) problems.push({ e: `cmd ${JSON.stringify(t.cmd)}`, a: JSON.stringify(img.cmd) });
  for (const [k, v] of Object.entries(t.labels ?? {}))
    if (img.labels[k] !== v) problems.push({ e: `label ${k}=${v}`, a: img.labels[k] === undefined ? 'unset' : img.labels[k]! });
  for (const p of t.exposedPorts ?? [])
    if (!img.exposedPorts.includes(`${p}/tcp`)) problems.push({ e: `exposed port ${p}`, a: img.exposedPorts.join(', ') || 'none' });
  if (problems.length)
    throw new Failure(problems.map((p) => `expected ${p.e}, got ${p.a}`).join('; '), {
      expected: problems.map((p) => p.e).join('; '),
      actual: problems.map((p) => p.a).join('; '),
    });
}
