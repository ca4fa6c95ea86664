import { changedBases, localBaseIds } from '../builder/run-build.js';
import type { Engine } from '../engine/port.js';
import { EnvironmentError } from '../errors.js';
import { BASE_IDS_LABEL, BUILD_KEY_LABEL, buildKeyOf, PLAN_DIGEST_LABEL } from '../plan/build-plan.js';
import type { PlannedRecipe } from '../plan/make-plan.js';
import { diffSummaries, planSummary, readSummary, SUMMARY_LABEL, type Change } from '../plan/summary.js';
import { findCredentials } from '../publish/credentials.js';
import { RegistryClient, retryPolicy } from '../publish/registry-client.js';
import { parseReference } from '../refs/reference.js';

// Why is this not up to date? The plan now, against the summary an image carries (on the engine,
// or in its registry): which input, pin, flag, base or tool version changed the build key.

export interface WhyRequest {
  /** The image to compare with; default: the plan's first tag. */
  image?: string | undefined;
  target: 'runtime' | 'dev';
  buildArgs: Record<string, string>;
  platform?: string | undefined;
  /** The engine; where none answers, only the registry is asked. */
  connect: () => Promise<Engine>;
}

export interface WhyResult {
  image: string;
  where: 'engine' | 'registry';
  upToDate: boolean;
  buildKey: string;
  imageBuildKey: string | null;
  changes: Change[];
}

async function labelsOf(ref: string, engine: Engine | null): Promise<{ labels: Record<string, string>; where: 'engine' | 'registry' } | null> {
  const local = engine ? await engine.inspectImage(ref).catch(() => null) : null;
  if (local) return { labels: local.labels, where: 'engine' };
  const p = parseReference(ref);
  if (!p || !ref.startsWith(`${p.domain}/`)) return null;
  const client = new RegistryClient(p.domain, await findCredentials(p.domain, process.env, { publish: false }), retryPolicy());
  const m = await client.manifestDigest(p.path, p.tag ?? 'latest', { verify: true });
  if (!m) return null;
  const labels = await client.imageLabels(p.path, m.digest);
  return labels ? { labels, where: 'registry' } : null;
}

export async function whyRebuild(plan: PlannedRecipe['plan'], req: WhyRequest): Promise<WhyResult> {
  const build = { target: req.target, buildArgs: req.buildArgs, ...(req.platform ? { platform: req.platform } : {}) };
  const now = planSummary(plan, build);
  const key = buildKeyOf(plan.digest, build);
  const ref = req.image ?? plan.tags[0]!;
  const engine = await req.connect().catch(() => null);
  const found = await labelsOf(ref, engine);
  if (!found) throw new EnvironmentError('why.no-image', `${ref} is neither on the engine nor in its registry`, 'build it, or name the image with --image REF');
  const was = readSummary(found.labels[SUMMARY_LABEL]);
  const changes: Change[] = [];
  if (found.labels[BUILD_KEY_LABEL] !== key) {
    if (was) changes.push(...diffSummaries(was, now));
    else
      changes.push({
        field: 'summary',
        was: null,
        now: null,
        line: `${ref} carries no plan summary (built before dynamo-image recorded one, or by another builder): its plan digest ${found.labels[PLAN_DIGEST_LABEL] ?? '(none)'}, now ${plan.digest}`,
      });
  }
  // A base rebuilt under the same tag (local images only: a registry's copy has no local base).
  if (found.where === 'engine' && engine)
    for (const line of changedBases(found.labels[BASE_IDS_LABEL], await localBaseIds(engine, plan)))
      changes.push({ field: 'baseIds', was: null, now: null, line: `base image ${line}` });
  return { image: ref, where: found.where, upToDate: changes.length === 0, buildKey: key, imageBuildKey: found.labels[BUILD_KEY_LABEL] ?? null, changes };
}
