import path from 'node:path';
import { BUILD_KEY_LABEL } from '../../builder/run-build.js';
import { recordNoChange, stampOf } from '../../fast/no-change.js';
import { PACKAGE_ROOT } from '../../support/load.js';
import { lockPathFor } from '../../plan/lock-file.js';
import { testRecordPath } from '../../smoke/records.js';
import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode, UsageError } from '../../errors.js';
import { planRecipe } from '../../plan/make-plan.js';
import { buildWithTests, checkTags, parseBuildArgs, summarize, type BuildCliOptions } from '../build-options.js';
import { checkOutputPath, printIssues, type Output } from '../output.js';
import { interruptSignal } from '../signals.js';
import { variantOption } from '../variant-option.js';

const SUPPORT_FILES = ['support-matrix.yaml', 'base-images.yaml'];

export async function runBuild(files: string[], opts: BuildCliOptions, o: Output): Promise<number> {
  if (opts.matrix) {
    const { runMatrixBuild } = await import('./build-matrix.js');
    return runMatrixBuild(files, opts, o);
  }
  checkOutputPath(opts.junit, '--junit');
  if (files.length > 1) throw new UsageError(`build takes one recipe; got ${files.length}`, 'use --matrix to build several recipes and all their variants');
  const file = files[0] ?? 'recipe.yaml';
  if (opts.push) {
    const { runPublish } = await import('./publish.js');
    return runPublish(file, opts, o);
  }
  parseBuildArgs(opts.buildArg);
  checkTags(opts.tag);
  const variant = variantOption(opts.variant);
  const planned = await planRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false, locked: opts.locked ?? false, ...(variant ? { variant } : {}), ...(opts.baseImage ? { baseImage: opts.baseImage } : {}) });
  printIssues(o, planned.warnings);
  const engine = await connectDocker();
  const { signal, dispose } = interruptSignal();
  try {
    if (planned.plan.platforms.length > 1 && !opts.platform) {
      // Every platform the recipe lists, each its own image (NAME:VERSION-ARCH); the one for this
      // machine's architecture also gets NAME:VERSION. Non-native ones run under emulation (QEMU).
      const native = `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`;
      const out = [];
      for (const platform of planned.plan.platforms) {
        const base = `${planned.plan.image.name}:${planned.plan.image.version}`;
        const tags = [`${base}-${platform.split('/')[1]}`, ...(platform === native ? [base] : [])];
        const { result, smoke } = await buildWithTests(engine, planned, { ...opts, platform, tags }, o, signal);
        out.push({ platform, ...result, smoke });
        if (!opts.json && !opts.quiet) o.err(`${platform}: ${summarize(result)}`);
      }
      if (opts.json) o.out(JSON.stringify({ platforms: out }));
      return ExitCode.ok;
    }
    const capture = { notes: [] as string[] };
    const { result, smoke } = await buildWithTests(engine, planned, opts, o, signal, capture);
    if (opts.json) o.out(JSON.stringify({ ...result, smoke }));
    else if (!opts.quiet) o.err(summarize(result));
    // Only a run that did nothing can be replayed: up to date, tests not run (passed before, or off).
    if (result.upToDate && !smoke.ran && planned.warnings.length === 0 && opts.invocation) {
      // What this up-to-date run read and printed, for the next identical one to replay.
      const files = [
        path.resolve(file),
        ...planned.plan.inputs.map((i) => path.join(planned.recipeDir, i.source)),
        ...SUPPORT_FILES.map((f) => path.join(PACKAGE_ROOT, 'base-images', f)),
        ...(opts.locked ? [lockPathFor(file)] : []),
        testRecordPath(result.image),
      ];
      await recordNoChange(opts.invocation, {
        files: files.map(stampOf),
        image: { id: result.image, tags: result.tags, label: BUILD_KEY_LABEL, key: result.buildKey },
        notes: capture.notes,
        summary: summarize(result),
        json: { ...result, smoke },
      });
    }
    return ExitCode.ok;
  } finally {
    dispose();
  }
}
