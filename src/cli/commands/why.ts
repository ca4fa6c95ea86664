import { BUILD_KEY_LABEL, buildKeyOf, changedBases, localBaseIds } from '../../builder/run-build.js';
import { EnvironmentError, ExitCode } from '../../errors.js';
import { diffSummaries, planSummary, readSummary, SUMMARY_LABEL, type Change } from '../../plan/summary.js';
import { findCredentials } from '../../publish/credentials.js';
import { parseReference } from '../../refs/reference.js';
import { RegistryClient, retryPolicy } from '../../publish/registry-client.js';
import { parseBuildArgs } from '../build-options.js';
import type { Output } from '../output.js';
import { planFromFlags } from '../plan-flags.js';

// `dynamo-image why RECIPE [--image REF]`: why is this not up to date? Compares the plan now with
// the summary the image carries (local, or in a registry): which input, pin, flag, base or tool
// version changed the build key, one line each.

export interface WhyOptions {
  image?: string;
  target: 'runtime' | 'dev';
  buildArg: string[];
  platform?: string;
  variant?: string;
  json?: boolean;
  allowUnsupported?: boolean;
}

async function labelsOf(ref: string): Promise<{ labels: Record<string, string>; where: 'engine' | 'registry' } | null> {
  const { connectDocker } = await import('../../engine/dockerode-engine.js');
  const engine = await connectDocker().catch(() => null);
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

export async function runWhy(file: string, opts: WhyOptions, o: Output): Promise<number> {
  const { plan } = await planFromFlags(file, opts);
  const build = { target: opts.target, buildArgs: parseBuildArgs(opts.buildArg), ...(opts.platform ? { platform: opts.platform } : {}) };
  const now = planSummary(plan, build);
  const key = buildKeyOf(plan.digest, build);
  const ref = opts.image ?? plan.tags[0]!;
  const found = await labelsOf(ref);
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
        line: `${ref} carries no plan summary (built before dynamo-image recorded one, or by another builder): its plan digest ${found.labels['dev.dynamo-image.plan-digest'] ?? '(none)'}, now ${plan.digest}`,
      });
  }
  // A base rebuilt under the same tag (local images only: a registry's copy has no local base).
  if (found.where === 'engine') {
    const { connectDocker } = await import('../../engine/dockerode-engine.js');
    for (const line of changedBases(found.labels['dev.dynamo-image.base-ids'], await localBaseIds(await connectDocker(), plan)))
      changes.push({ field: 'baseIds', was: null, now: null, line: `base image ${line}` });
  }
  const upToDate = changes.length === 0;
  if (opts.json)
    o.out(JSON.stringify({ image: ref, where: found.where, upToDate, buildKey: key, imageBuildKey: found.labels[BUILD_KEY_LABEL] ?? null, changes }));
  else if (upToDate) o.out(`${ref} (${found.where}) is this build: build key ${key.slice(0, 19)}; nothing changed`);
  else {
    o.out(`${ref} (${found.where}) is not this build; what changed:`);
    for (const c of changes) o.out(`  ${c.line}`);
  }
  return upToDate ? ExitCode.ok : ExitCode.failed;
}
