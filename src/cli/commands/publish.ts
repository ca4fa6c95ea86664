import { variantOption } from '../variant-option.js';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode } from '../../errors.js';
import { planRecipe } from '../../plan/make-plan.js';
import { findCredentials } from '../../publish/credentials.js';
import { PublishFailure, publishImage, publishTarget } from '../../publish/publish.js';
import { retryPolicy } from '../../publish/registry-client.js';
import { checkOutputPath, printIssues, type Output } from '../output.js';
import { interruptSignal } from '../signals.js';
import { buildWithTests, type BuildCliOptions } from '../build-options.js';
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
  const planned = await planRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false, locked: opts.locked ?? false, ...(variant ? { variant } : {}) });
  printIssues(o, planned.warnings);
  const target = publishTarget(planned.plan, { registry: opts.registry, gitSha: gitSha(path.dirname(path.resolve(file))) });
  const skipTests = opts.skipTests === true || opts.test === false;

  if (opts.dryRun) {
    // What would happen, in order; nothing is built, pushed or asked of the registry.
    const steps = [
      `build ${planned.plan.image.name}:${planned.plan.image.version} from plan ${planned.plan.digest} (up to date when an image of this plan exists)`,
      skipTests ? 'smoke tests: skipped (--skip-tests)' : `smoke tests: ${planned.plan.smoke.tests.length} test(s), unless they passed before for this exact image`,
      ...target.tags.map((t) => `check ${t.reference}: absent, or already this image${t.mutable ? ', or mutable (may move)' : opts.forceTags ? ', or moved by --force' : ''}`),
      ...target.tags.map((t) => `push ${t.reference}`),
      ...target.tags.map((t) => `verify ${t.reference} resolves to the pushed digest (HEAD /v2/${target.repository}/manifests/${t.tag})`),
    ];
    if (opts.json) o.out(JSON.stringify({ dryRun: true, registry: target.registry, repository: target.repository, tags: target.tags, steps, pushed: [] }));
    else for (const s of steps) o.out(s);
    return ExitCode.ok;
  }

  const creds = await findCredentials(target.registry);
  const engine = await connectDocker();
  const { signal, dispose } = interruptSignal();
  try {
    const { result, smoke } = await buildWithTests(engine, planned, { ...opts, test: !skipTests, ...(skipTests ? { skipTestsReason: '--skip-tests' } : {}) }, o, signal);
    if (skipTests) {
      await recordSkippedTests(result.image, testsDigest(planned.plan.smoke));
      if (!opts.quiet) o.err('warning: publishing without smoke tests (--skip-tests); the result and the image\'s test record say so');
    }
    const note = (t: string) => {
      if (!opts.quiet) o.err(t);
    };
    note(`publishing ${result.image.slice(0, 19)} to ${target.registry}/${target.repository} (credentials: ${creds.source})`);
    const pushed = await publishImage({ engine, imageId: result.image, target, creds, force: opts.forceTags ?? false, policy: retryPolicy(), signal, note }).catch((e: unknown) => {
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
