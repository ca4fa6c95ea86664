import path from 'node:path';
import { ROOT } from './cli.js';

// Golden files show what a change changes: the plan digest (and the build key made from it) is
// written as a placeholder, so a new Plan key or a new default changes the one digest table
// (test/golden/digests.json) instead of every rendered Dockerfile. The table still pins each
// golden's identity: a change to what shapes an image shows there, one line per recipe.

export const DIGEST_TABLE = path.join(ROOT, 'test', 'golden', 'digests.json');
const PLAN = 'sha256:<plan-digest>';
const KEY = 'sha256:<build-key>';

export function normaliseDigests(text: string, ids: { plan: string; buildKey?: string | undefined }): string {
  let t = text.replaceAll(ids.plan, PLAN);
  if (ids.buildKey) t = t.replaceAll(ids.buildKey, KEY);
  return t;
}

/** The one digest table: every golden's plan digest by name, as the file snapshot compares it. */
export function digestTable(entries: Map<string, string>): string {
  return `${JSON.stringify(Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), null, 2)}\n`;
}
