import { variantOption } from '../variant-option.js';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode } from '../../errors.js';
import { planRecipe } from '../../plan/make-plan.js';
import { findCredentials } from '../../publish/credentials.js';
import { applyPublish, planPublish, PublishFailure, publishImage, publishTarget, refusal, type PublishStep } from '../../publish/publish.js';
import { RegistryClient, retryPolicy } from '../../publish/registry-client.js';
import { buildKeyOf } from '../../build/run-build.js';
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
}

function gitSha(dir: string): string | null {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim() || null;
  } catch {
    return null;
  }
}

export async function runPublish(file: string, opts: PublishCliOptions, o: Output): Promise<number> {
  checkOutputPath(opts.junit, '--junit');
  const variant = variantOption(opts.variant);
  const planned = await planRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false, locked: opts.locked ?? false, ...(variant ? { variant } : {}), ...(opts.baseImage ? { baseImage: opts.baseImage } : {}) });
  printIssues(o, planned.warnings);
  const target = publishTarget(planned.plan, { registry: opts.registry, gitSha: gitSha(path.dirname(path.resolve(file))) });
  const skipTests = opts.skipTests === true || opts.test === false;

  const creds = await findCredentials(target.registry);
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
    ];
    if (opts.json) o.out(JSON.stringify({ dryRun: true, registry: target.registry, repository: target.repository, buildKey, plan: before.steps, steps, pushed: [] }));
    else for (const st of steps) o.out(st);
    return refusal(before) ? ExitCode.failed : ExitCode.ok;
  }
  const refused = refusal(before);
  if (refused) throw refused;
  if (!before.steps.some((st) => st.action === 'push')) {
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
    const pushed = await publishImage({ engine, imageId: result.image, target, creds, buildKey, force: opts.forceTags ?? false, policy: retryPolicy(), signal, note }).catch((e: unknown) => {
      // --json promises one result object, failures included: what was pushed before it stopped.
      if (opts.json && e instanceof PublishFailure)
        o.out(JSON.stringify({ image: result.image, ok: false, error: { code: e.code, message: e.message }, pushed: e.pushed.filter((p) => p.action === 'pushed').map(({ reference, digest }) => ({ reference, digest })), unchanged: e.pushed.filter((p) => p.action === 'unchanged').map(({ reference, digest }) => ({ reference, digest })) }));
      throw e;
    });
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
