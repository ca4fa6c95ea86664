import path from 'node:path';
import { REQUIREMENTS_FILE, requirementsLock } from '../plan/build-plan.js';
import type { Plan } from '../plan/types.js';

// Which files go into the build context, and with which tar headers. Pure: the list is a function
// of the plan and the rendered Dockerfile. Nothing else from the recipe's folder is sent.

export type ContextEntry =
  { path: string; mode: number; content: Uint8Array } | { path: string; mode: number; file: string; size: number; sha256: string; source: string };

export function contextEntries(plan: Plan, recipeDir: string, dockerfile: string): ContextEntry[] {
  const entries: ContextEntry[] = [{ path: 'Dockerfile', mode: 0o644, content: new TextEncoder().encode(dockerfile) }];
  const lock = requirementsLock(plan);
  if (lock) entries.push({ path: REQUIREMENTS_FILE, mode: 0o644, content: new TextEncoder().encode(lock) });
  for (const i of plan.inputs) {
    entries.push({
      path: i.contextPath,
      mode: i.role === 'engine-binary' ? 0o755 : 0o644,
      file: path.join(recipeDir, i.source),
      size: i.size,
      sha256: i.sha256,
      source: i.source,
    });
  }
  // Code-unit order, the same on every machine and locale.
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Fixed mtime for every entry: SOURCE_DATE_EPOCH when set (reproducible-builds.org), else 0. */
export function contextMtime(env: NodeJS.ProcessEnv = process.env): Date {
  const s = env['SOURCE_DATE_EPOCH'];
  const n = s !== undefined && /^\d+$/.test(s) ? Number(s) : 0;
  return new Date(n * 1000);
}
