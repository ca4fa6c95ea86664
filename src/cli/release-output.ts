import type { PlannedRecipe } from '../plan/make-plan.js';
import type { ReleasePlan, ReleaseResult } from '../pipeline/publish.js';
import type { PublishStep, PushedTag } from '../publish/publish.js';
import type { Output } from './output.js';

// How `publish` shows a release plan (--dry-run) and its result, as text or one JSON object.

const refs = (list: PushedTag[], action: PushedTag['action']) =>
  list.filter((p) => p.action === action).map(({ reference, digest }) => ({ reference, digest }));
const describe = (st: PublishStep) => `${st.action === 'refused' ? 'refuse' : st.action} ${st.reference}: ${st.reason}`;

/** The dry run's lines: what the real run would do, in its order. */
export function releaseLines(p: ReleasePlan, plan: PlannedRecipe['plan']): string[] {
  if (p.kind === 'merge')
    return [
      ...p.platforms.map((x) => `platform ${x.platform}: ${x.reference}@${x.digest}`),
      ...p.lists.map((l) => `manifest list ${l.reference}: ${l.action === 'unchanged' ? 'unchanged' : `the ${p.platforms.length} platforms`}`),
    ];
  if (p.kind === 'platforms')
    return [
      ...p.platforms.map((x) => `${x.upToDate ? 'unchanged' : 'build, test, push'} ${x.reference} (${x.platform})`),
      ...p.lists.map((l) => `manifest list ${l.reference}: ${l.action === 'unchanged' ? 'unchanged' : `the ${p.platforms.length} platforms`}`),
    ];
  const needsImage = p.steps.some((st) => st.action === 'push');
  return [
    needsImage
      ? `build ${plan.image.name}:${plan.image.version} from plan ${plan.digest} (up to date when an image of this plan exists)`
      : 'build: not needed (the registry already holds this build)',
    needsImage
      ? p.tests.run
        ? `smoke tests: ${p.tests.count} test(s), unless they passed before for this exact image`
        : 'smoke tests: skipped (--skip-tests)'
      : 'smoke tests: not needed',
    ...p.steps.map(describe),
    ...p.steps
      .filter((st) => st.action !== 'refused')
      .map((st) => `verify ${st.reference} resolves to the pushed digest (HEAD /v2/${p.repository}/manifests/${st.tag})`),
    ...p.extras.flatMap((t) => t.tags.map((x) => `push ${x.reference}: -t (unless it holds this build)`)),
  ];
}

export function printReleasePlan(p: ReleasePlan, plan: PlannedRecipe['plan'], o: Output, json: boolean): void {
  const lines = releaseLines(p, plan);
  if (!json) return lines.forEach((l) => o.out(l));
  // Single: the keys it always had (plan: the tag steps; steps: the lines), then the release plan.
  const legacy =
    p.kind === 'single' ? { registry: p.registry, repository: p.repository, buildKey: p.buildKey, plan: p.steps, steps: lines, pushed: [] } : { lines };
  o.out(JSON.stringify({ dryRun: true, ...legacy, release: p }));
}

export function printReleaseResult(r: ReleaseResult, o: Output, opts: { json?: boolean | undefined; quiet?: boolean | undefined }): void {
  if (r.kind === 'merge') {
    if (opts.json)
      o.out(JSON.stringify({ manifestList: r.manifestList, platforms: r.platforms, pushed: refs(r.lists, 'pushed'), unchanged: refs(r.lists, 'unchanged') }));
    else if (!opts.quiet)
      for (const t of r.lists)
        o.err(`${t.action === 'pushed' ? 'published' : 'already there'} ${t.reference}@${t.digest} (manifest list of ${r.platforms.length} platforms)`);
    return;
  }
  if (r.kind === 'platforms') {
    const lists = r.lists;
    if (opts.json)
      o.out(
        JSON.stringify({
          manifestList: r.manifestList,
          platforms: r.platforms,
          pushed: refs(lists, 'pushed'),
          unchanged: refs(lists, 'unchanged'),
          testsSkipped: r.testsSkipped,
          credentials: r.credentials,
          registryUpToDate: r.registryUpToDate,
          ...(r.attached ? { attached: r.attached } : {}),
        }),
      );
    else if (!opts.quiet) {
      for (const p of r.platforms) o.err(`${p.action === 'pushed' ? 'published' : 'already there'} ${p.platform} ${p.digest}`);
      for (const t of lists)
        o.err(`${t.action === 'pushed' ? 'published' : 'already there'} ${t.reference}@${t.digest} (manifest list of ${r.platforms.length} platforms)`);
    }
    return;
  }
  if (!r.build) {
    const upToDate = r.pushed.every((p) => p.action === 'unchanged');
    const reason = upToDate
      ? `every tag already holds this build (${r.buildKey.slice(0, 19)}); nothing built or pushed`
      : 'the registry holds this build; missing tags point to it now; nothing built or uploaded';
    if (opts.json)
      o.out(
        JSON.stringify({
          image: null,
          upToDate: true,
          registryUpToDate: true,
          reason,
          buildKey: r.buildKey,
          smoke: r.smoke,
          credentials: r.credentials,
          pushed: refs(r.pushed, 'pushed'),
          unchanged: refs(r.pushed, 'unchanged'),
          ...(r.attached ? { attached: r.attached } : {}),
        }),
      );
    else if (!opts.quiet) {
      o.err(reason);
      for (const p of r.pushed) o.err(`${p.action === 'pushed' ? 'tagged' : 'already there'} ${p.reference}@${p.digest}`);
    }
    return;
  }
  if (opts.json)
    o.out(
      JSON.stringify({
        image: r.build.image,
        upToDate: r.build.upToDate,
        smoke: r.smoke,
        testsSkipped: r.testsSkipped,
        credentials: r.credentials,
        pushed: refs(r.pushed, 'pushed'),
        unchanged: refs(r.pushed, 'unchanged'),
        ...(r.attached ? { attached: r.attached } : {}),
      }),
    );
  else if (!opts.quiet) for (const p of r.pushed) o.err(`${p.action === 'pushed' ? 'published' : 'already there'} ${p.reference}@${p.digest}`);
}

/** A push that failed partway, as the one JSON result --json promises: what was pushed before it stopped. */
export function printPublishFailure(e: { image: string | null; code: string; message: string; pushed: PushedTag[] }, o: Output): void {
  o.out(
    JSON.stringify({
      image: e.image,
      ok: false,
      error: { code: e.code, message: e.message },
      pushed: refs(e.pushed, 'pushed'),
      unchanged: refs(e.pushed, 'unchanged'),
    }),
  );
}
