import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode, UsageError } from '../../errors.js';
import { buildPlatforms, platformBuilds } from '../../pipeline/platforms.js';
import { checkTags, cliBuildSession, parseBuildArgs, summarize, type BuildCliOptions } from '../build-options.js';
import { checkOutputPath, printIssues, type Output } from '../output.js';
import { recordReplay } from '../no-change-record.js';
import { interruptSignal } from '../signals.js';
import { planFromFlags } from '../plan-flags.js';

// `build` of one recipe: flags -> buildPlatforms (one image, or one per platform) -> the summary;
// an up-to-date run leaves a record for the no-change fast path. (`--matrix` and `--push` are
// routed by cli/main.ts to build-matrix and publish.)

export async function runBuild(files: string[], opts: BuildCliOptions, o: Output): Promise<number> {
  checkOutputPath(opts.junit, '--junit');
  if (files.length > 1) throw new UsageError(`build takes one recipe; got ${files.length}`, 'use --matrix to build several recipes and all their variants');
  const file = files[0] ?? 'recipe.yaml';
  parseBuildArgs(opts.buildArg);
  checkTags(opts.tag);
  const planned = await planFromFlags(file, opts);
  printIssues(o, planned.warnings);
  const engine = await connectDocker();
  const { signal, dispose } = interruptSignal();
  const capture = { notes: [] as string[] };
  const session = cliBuildSession(o, signal, capture);
  // Every platform the recipe lists, each its own image (NAME:VERSION-ARCH, the native one also
  // NAME:VERSION; others under emulation), or the one image of a one-platform recipe.
  const builds = platformBuilds(planned.plan, { platform: opts.platform, for: 'build' });
  const multi = builds.length > 1;
  try {
    const done = await buildPlatforms(
      engine,
      planned,
      builds,
      (b) => session.optionsFor({ ...opts, ...(b.platform ? { platform: b.platform } : {}), ...(b.tags ? { tags: b.tags } : {}) }),
      (r) => {
        if (multi && !opts.json && !opts.quiet) o.err(`${r.platform}: ${summarize(r.build)}`);
      },
    );
    if (multi) {
      if (opts.json) o.out(JSON.stringify({ platforms: done.map((r) => ({ platform: r.platform, ...r.build, smoke: r.smoke })) }));
      return ExitCode.ok;
    }
    const { build: result, smoke } = done[0]!;
    if (opts.json) o.out(JSON.stringify({ ...result, smoke }));
    else if (!opts.quiet) o.err(summarize(result));
    // Only a run that did nothing can be replayed: up to date, tests not run (passed before, or off).
    if (result.upToDate && !smoke.ran && planned.warnings.length === 0 && opts.invocation) await recordReplay(file, planned, opts, done[0]!, capture.notes);
    return ExitCode.ok;
  } finally {
    await session.settle();
    dispose();
  }
}
