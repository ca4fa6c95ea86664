import { variantOption } from '../variant-option.js';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode } from '../../errors.js';
import { planRecipe } from '../../plan/make-plan.js';
import { findCredentials } from '../../publish/credentials.js';
import { applyPublish, extraTagTargets, planPublish, PublishFailure, publishImage, publishTarget, refusal, type PublishStep, type PublishTarget, type PushedTag } from '../../publish/publish.js';
import { archOf } from '../../domain/platforms.js';
import { buildIndex, checkIndexTags, platformTarget, putIndex } from '../../publish/manifest-list.js';
import type { Credentials } from '../../publish/credentials.js';
import type { Engine } from '../../engine/port.js';
import type { PlannedRecipe } from '../../plan/make-plan.js';
import type { SmokeSummary } from '../../pipeline/build-and-test.js';
import { OperationError, ReportedFailure, UsageError } from '../../errors.js';
import { RegistryClient, retryPolicy } from '../../publish/registry-client.js';
import { buildKeyOf } from '../../builder/run-build.js';
import { checkOutputPath, printIssues, type Output } from '../output.js';
import { interruptSignal } from '../signals.js';
import { buildWithTests, parseBuildArgs, type BuildCliOptions } from '../build-options.js';
import { recordSkippedTests } from '../../smoke/records.js';
import { testsDigest } from '../../pipeline/build-and-test.js';

export interface PublishCliOptions extends BuildCliOptions {
  registry?: string;
  skipTests?: boolean;
  dryRun?: boolean;
  /** publish --force: move existing immutable tags. */
  forceTags?: boolean;
  /** publish --merge: put the manifest lists together from the platforms' pushed images. */
  merge?: boolean;
}

function gitSha(dir: string): string | null {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim() || null;
  } catch {
    return null;
  }
}

export async function runPublish(file: string, cliOpts: PublishCliOptions, o: Output): Promise<number> {
  let opts = cliOpts;
  checkOutputPath(opts.junit, '--junit');
  const variant = variantOption(opts.variant);
  const planned = await planRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false, locked: opts.locked ?? false, ...(variant ? { variant } : {}), ...(opts.baseImage ? { baseImage: opts.baseImage } : {}) });
  printIssues(o, planned.warnings);
  let target = publishTarget(planned.plan, { registry: opts.registry, gitSha: gitSha(path.dirname(path.resolve(file))) });
  const multi = planned.plan.platforms.length > 1;
  if (opts.merge && !multi) throw new UsageError('--merge assembles manifest lists of a recipe for several platforms; this one has one', 'leave --merge out');
  if (multi && opts.platform) {
    // One platform of several (its own CI runner): its image under TAG-ARCH; `publish --merge`
    // later puts the manifest lists together.
    target = platformTarget(target, opts.platform);
    opts = { ...opts, tags: [`${planned.plan.image.name}:${planned.plan.image.version}-${archOf(opts.platform)}`] };
  }
  const skipTests = opts.skipTests === true || opts.test === false;
  // -t REF: pushed too (each names its registry), after the publish tags; refused before any work.
  const extras = opts.tag.length ? extraTagTargets(opts.tag) : [];
  if (extras.length && multi) throw new UsageError('-t names one image; a recipe for several platforms publishes one per platform and a manifest list', 'leave -t out, or publish one platform with --platform');

  const creds = await findCredentials(target.registry, process.env, { publish: true });
  if (multi && opts.merge) return mergeManifestLists(planned, target, creds, opts, o);
  if (multi && !opts.platform) return publishPlatforms(planned, target, creds, opts, o);
  const buildKey = buildKeyOf(planned.plan.digest, { target: 'runtime', buildArgs: parseBuildArgs(opts.buildArg), ...(opts.platform ? { platform: opts.platform } : {}) });
  const note = (t: string) => {
    if (!opts.quiet) o.err(t);
  };
  // Ask the registry first, read-only: which tags are absent, which already hold this exact build
  // (by build key, whoever pushed it: a fresh CI runner has no local image), which are refused.
  const client = new RegistryClient(target.registry, creds, retryPolicy(), note);
  await client.ping();
  const before = await planPublish(client, target, { buildKey, force: opts.forceTags ?? false });
  const describe = (st: PublishStep) => `${st.action === 'refused' ? 'refuse' : st.action} ${st.reference}: ${st.reason}`;

  if (opts.dryRun) {
    // The plan, as the real run would apply it; nothing is built or pushed.
    const needsImage = before.steps.some((st) => st.action === 'push');
    const steps = [
      needsImage ? `build ${planned.plan.image.name}:${planned.plan.image.version} from plan ${planned.plan.digest} (up to date when an image of this plan exists)` : 'build: not needed (the registry already holds this build)',
      needsImage ? (skipTests ? 'smoke tests: skipped (--skip-tests)' : `smoke tests: ${planned.plan.smoke.tests.length} test(s), unless they passed before for this exact image`) : 'smoke tests: not needed',
      ...before.steps.map(describe),
      ...before.steps.filter((st) => st.action !== 'refused').map((st) => `verify ${st.reference} resolves to the pushed digest (HEAD /v2/${target.repository}/manifests/${st.tag})`),
      ...extras.flatMap((t) => t.tags.map((x) => `push ${x.reference}: -t (unless it holds this build)`)),
    ];
    if (opts.json) o.out(JSON.stringify({ dryRun: true, registry: target.registry, repository: target.repository, buildKey, plan: before.steps, steps, pushed: [] }));
    else for (const st of steps) o.out(st);
    const refused = refusal(before);
    if (refused) throw new ReportedFailure(refused.code, `dry run: ${refused.message}`, ExitCode.failed);
    return ExitCode.ok;
  }
  const refused = refusal(before);
  if (refused) throw refused;
  if (!before.steps.some((st) => st.action === 'push') && !extras.length) {
    // Nothing to upload: every tag holds this build already, or gets its manifest copied.
    const applied = await applyPublish(before, { engine: null as never, imageId: '', target, creds, client, policy: retryPolicy(), signal: AbortSignal.timeout(600_000), note });
    const reason = before.upToDate ? `every tag already holds this build (${buildKey.slice(0, 19)}); nothing built or pushed` : 'the registry holds this build; missing tags point to it now; nothing built or uploaded';
    if (opts.json)
      o.out(JSON.stringify({ image: null, upToDate: true, registryUpToDate: true, reason, buildKey, smoke: { ran: false, reason: 'not built: the registry holds this build' }, credentials: creds.source, pushed: applied.filter((p) => p.action === 'pushed').map(({ reference, digest }) => ({ reference, digest })), unchanged: applied.filter((p) => p.action === 'unchanged').map(({ reference, digest }) => ({ reference, digest })) }));
    else if (!opts.quiet) {
      o.err(reason);
      for (const p of applied) o.err(`${p.action === 'pushed' ? 'tagged' : 'already there'} ${p.reference}@${p.digest}`);
    }
    return ExitCode.ok;
  }

  const engine = await connectDocker();
  const { signal, dispose } = interruptSignal();
  try {
    const { result, smoke } = await buildWithTests(engine, planned, { ...opts, test: !skipTests, ...(skipTests ? { skipTestsReason: '--skip-tests' } : {}) }, o, signal);
    if (skipTests) {
      await recordSkippedTests(result.image, testsDigest(planned.plan.smoke));
      if (!opts.quiet) o.err('warning: publishing without smoke tests (--skip-tests); the result and the image\'s test record say so');
    }
    note(`publishing ${result.image.slice(0, 19)} to ${target.registry}/${target.repository} (credentials: ${creds.source})`);
    const pushed: PushedTag[] = await publishImage({ engine, imageId: result.image, target, creds, buildKey, force: opts.forceTags ?? false, policy: retryPolicy(), signal, note }).catch((e: unknown) => {
      // --json promises one result object, failures included: what was pushed before it stopped.
      if (opts.json && e instanceof PublishFailure)
        o.out(JSON.stringify({ image: result.image, ok: false, error: { code: e.code, message: e.message }, pushed: e.pushed.filter((p) => p.action === 'pushed').map(({ reference, digest }) => ({ reference, digest })), unchanged: e.pushed.filter((p) => p.action === 'unchanged').map(({ reference, digest }) => ({ reference, digest })) }));
      throw e;
    });
    for (const extra of extras) {
      const extraCreds = await findCredentials(extra.registry, process.env, { publish: true });
      pushed.push(...(await publishImage({ engine, imageId: result.image, target: extra, creds: extraCreds, buildKey, force: opts.forceTags ?? false, policy: retryPolicy(), signal, note })));
    }
    if (opts.json) {
      o.out(JSON.stringify({ image: result.image, upToDate: result.upToDate, smoke, testsSkipped: skipTests, credentials: creds.source, pushed: pushed.filter((p) => p.action === 'pushed').map(({ reference, digest }) => ({ reference, digest })), unchanged: pushed.filter((p) => p.action === 'unchanged').map(({ reference, digest }) => ({ reference, digest })) }));
    } else if (!opts.quiet) {
      for (const p of pushed) o.err(`${p.action === 'pushed' ? 'published' : 'already there'} ${p.reference}@${p.digest}`);
    }
    return ExitCode.ok;
  } finally {
    dispose();
  }
}

/**
 * A recipe for several platforms: each platform's image is built, tested and pushed under its own
 * tag (TAG-ARCH; unchanged when the registry holds that build already), then every publish tag gets
 * one manifest list naming them all.
 */
async function publishPlatforms(planned: PlannedRecipe, target: PublishTarget, creds: Credentials, opts: PublishCliOptions, o: Output): Promise<number> {
  const note = (t: string) => {
    if (!opts.quiet) o.err(t);
  };
  const skipTests = opts.skipTests === true || opts.test === false;
  const client = new RegistryClient(target.registry, creds, retryPolicy(), note);
  await client.ping();
  const buildArgs = parseBuildArgs(opts.buildArg);
  const platforms = planned.plan.platforms.map((platform) => ({ platform, target: platformTarget(target, platform), buildKey: buildKeyOf(planned.plan.digest, { target: 'runtime', buildArgs, platform }) }));
  // The registry first: platforms whose tag already holds their build need no build at all.
  const before = await Promise.all(platforms.map((p) => planPublish(client, p.target, { buildKey: p.buildKey, force: opts.forceTags ?? false })));
  for (const b of before) {
    const r = refusal(b);
    if (r) throw r;
  }
  const known = before.every((b) => b.upToDate) ? await buildIndex(client, target.repository, platforms.map((p, i) => ({ platform: p.platform, digest: before[i]!.steps[0]!.current! }))) : null;
  const early = await checkIndexTags(client, target, known?.digest ?? null, opts.forceTags ?? false);
  if (early.refused.length)
    throw new OperationError('publish.tag-exists', `refusing to move existing tags to another manifest list: ${early.refused.join('; ')}`, { hint: 'tags are immutable unless listed in publish.mutableTags; --force moves them anyway. Nothing was built or pushed.' });
  if (opts.dryRun) {
    for (const [i, p] of platforms.entries()) o.out(`${before[i]!.upToDate ? 'unchanged' : 'build, test, push'} ${p.target.tags[0]!.reference} (${p.platform})`);
    for (const t of target.tags) o.out(`manifest list ${t.reference}: ${known && early.current.get(t.tag) === known.digest ? 'unchanged' : `the ${platforms.length} platforms`}`);
    return ExitCode.ok;
  }
  const results: { platform: string; image: string | null; digest: string; action: 'pushed' | 'unchanged'; smoke: SmokeSummary | null }[] = [];
  let engine: Engine | null = null;
  const { signal, dispose } = interruptSignal();
  try {
    for (const [i, p] of platforms.entries()) {
      const b = before[i]!;
      if (b.upToDate) {
        results.push({ platform: p.platform, image: null, digest: b.steps[0]!.current!, action: 'unchanged', smoke: null });
        continue;
      }
      engine ??= await connectDocker();
      note(`building ${p.platform}`);
      const tags = [`${planned.plan.image.name}:${planned.plan.image.version}-${archOf(p.platform)}`];
      const { result, smoke } = await buildWithTests(engine, planned, { ...opts, platform: p.platform, tags, test: !skipTests, ...(skipTests ? { skipTestsReason: '--skip-tests' } : {}) }, o, signal);
      if (skipTests) await recordSkippedTests(result.image, testsDigest(planned.plan.smoke));
      const pushed = await publishImage({ engine, imageId: result.image, target: p.target, creds, buildKey: p.buildKey, force: opts.forceTags ?? false, policy: retryPolicy(), signal, note });
      results.push({ platform: p.platform, image: result.image, digest: pushed[0]!.digest, action: pushed[0]!.action, smoke });
    }
    const index = await buildIndex(client, target.repository, results.map((r) => ({ platform: r.platform, digest: r.digest })));
    const check = await checkIndexTags(client, target, index.digest, opts.forceTags ?? false);
    if (check.refused.length) throw new OperationError('publish.tag-exists', `refusing to move existing tags to another manifest list: ${check.refused.join('; ')}`, { hint: 'the platform images were pushed under their own tags; the publish tags were not moved' });
    const tagged = await putIndex(client, target, index, check.current);
    const summary = { manifestList: index.digest, platforms: results, pushed: tagged.filter((t) => t.action === 'pushed').map(({ reference, digest }) => ({ reference, digest })), unchanged: tagged.filter((t) => t.action === 'unchanged').map(({ reference, digest }) => ({ reference, digest })), testsSkipped: skipTests, credentials: creds.source, registryUpToDate: results.every((r) => r.action === 'unchanged') && tagged.every((t) => t.action === 'unchanged') };
    if (opts.json) o.out(JSON.stringify(summary));
    else if (!opts.quiet) {
      for (const r of results) o.err(`${r.action === 'pushed' ? 'published' : 'already there'} ${r.platform} ${r.digest}`);
      for (const t of tagged) o.err(`${t.action === 'pushed' ? 'published' : 'already there'} ${t.reference}@${t.digest} (manifest list of ${results.length} platforms)`);
    }
    return ExitCode.ok;
  } finally {
    dispose();
  }
}

/** `publish --merge`: every platform's image was pushed by its own job; put the lists together. */
async function mergeManifestLists(planned: PlannedRecipe, target: PublishTarget, creds: Credentials, opts: PublishCliOptions, o: Output): Promise<number> {
  const client = new RegistryClient(target.registry, creds, retryPolicy(), (t) => (opts.quiet ? undefined : o.err(t)));
  await client.ping();
  const found: { platform: string; digest: string }[] = [];
  const missing: string[] = [];
  for (const platform of planned.plan.platforms) {
    const pt = platformTarget(target, platform);
    const m = await client.manifestDigest(target.repository, pt.tags[0]!.tag);
    if (m) found.push({ platform, digest: m.digest });
    else missing.push(`${pt.tags[0]!.reference} (${platform})`);
  }
  if (missing.length) throw new OperationError('publish.platforms-missing', `cannot assemble the manifest lists: not pushed yet: ${missing.join(', ')}`, { hint: 'run publish --platform P for each of them first' });
  const index = await buildIndex(client, target.repository, found);
  const check = await checkIndexTags(client, target, index.digest, opts.forceTags ?? false);
  if (check.refused.length) throw new OperationError('publish.tag-exists', `refusing to move existing tags to another manifest list: ${check.refused.join('; ')}`, { hint: 'tags are immutable unless listed in publish.mutableTags; --force moves them anyway' });
  const tagged = await putIndex(client, target, index, check.current);
  if (opts.json) o.out(JSON.stringify({ manifestList: index.digest, platforms: found, pushed: tagged.filter((t) => t.action === 'pushed').map(({ reference, digest }) => ({ reference, digest })), unchanged: tagged.filter((t) => t.action === 'unchanged').map(({ reference, digest }) => ({ reference, digest })) }));
  else if (!opts.quiet) for (const t of tagged) o.err(`${t.action === 'pushed' ? 'published' : 'already there'} ${t.reference}@${t.digest} (manifest list of ${found.length} platforms)`);
  return ExitCode.ok;
}
