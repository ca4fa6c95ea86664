import path from 'node:path';
import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode, ReportedFailure } from '../../errors.js';
import { gitSha } from '../../pipeline/git.js';
import { applyRelease, planRelease, releaseRefusal } from '../../pipeline/publish.js';
import { PublishFailure } from '../../publish/publish.js';
import { signerFrom } from '../key-files.js';
import { cliBuildSession, parseBuildArgs, type PublishCliOptions } from '../build-options.js';
import { checkOutputPath, printIssues, type Output } from '../output.js';
import { printPublishFailure, printReleasePlan, printReleaseResult } from '../release-output.js';
import { interruptSignal } from '../signals.js';
import { planFromFlags } from '../plan-flags.js';

// `publish` (and `build --push`): flags -> planRelease (the registry, read-only) -> the dry run's
// lines, or applyRelease -> the result.

export async function runPublish(file: string, opts: PublishCliOptions, o: Output): Promise<number> {
  checkOutputPath(opts.junit, '--junit');
  const planned = await planFromFlags(file, opts);
  printIssues(o, planned.warnings);
  const note = (t: string) => (opts.quiet ? undefined : o.err(t));
  const skipTests = opts.skipTests === true || opts.test === false;
  // The key is opened before anything is built: a wrong password fails now, not after the push.
  const signer = opts.signKey ? signerFrom(opts.signKey) : undefined;
  const release = await planRelease(planned, {
    registry: opts.registry,
    gitSha: gitSha(path.dirname(path.resolve(file))),
    platform: opts.platform,
    merge: opts.merge ?? false,
    extraTags: opts.tag,
    buildArgs: parseBuildArgs(opts.buildArg),
    force: opts.forceTags ?? false,
    skipTests,
    note,
  });
  const refused = releaseRefusal(release.plan);
  if (opts.dryRun) {
    // The plan, as the real run would apply it; nothing is built or pushed.
    printReleasePlan(release.plan, planned.plan, o, opts.json ?? false);
    if (refused) throw new ReportedFailure(refused.code, `dry run: ${refused.message}`, ExitCode.failed);
    return ExitCode.ok;
  }
  if (refused) throw refused;
  const { signal, dispose } = interruptSignal();
  const session = cliBuildSession(o, signal);
  try {
    const result = await applyRelease(release, {
      planned,
      connect: connectDocker,
      buildOptions: (b) =>
        session.optionsFor({
          ...opts,
          ...(b.platform ? { platform: b.platform } : {}),
          ...(b.tags ? { tags: b.tags } : {}),
          test: !skipTests,
          ...(skipTests ? { skipTestsReason: '--skip-tests' } : {}),
        }),
      signal,
      note,
      ...(signer ? { signer } : {}),
    }).catch((e: unknown) => {
      if (opts.json && e instanceof PublishFailure) printPublishFailure(e, o);
      throw e;
    });
    if (skipTests && result.kind === 'single' && result.build && !opts.quiet)
      o.err("warning: publishing without smoke tests (--skip-tests); the result and the image's test record say so");
    printReleaseResult(result, o, opts);
    return ExitCode.ok;
  } finally {
    await session.settle();
    dispose();
  }
}
