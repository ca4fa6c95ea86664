import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode, UsageError } from '../../errors.js';
import { planRecipe } from '../../plan/make-plan.js';
import { buildWithTests, checkTags, parseBuildArgs, summarize, type BuildCliOptions } from '../build-options.js';
import { checkOutputPath, printIssues, type Output } from '../output.js';
import { interruptSignal } from '../signals.js';
import { variantOption } from '../variant-option.js';

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
  const planned = await planRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false, locked: opts.locked ?? false, ...(variant ? { variant } : {}) });
  printIssues(o, planned.warnings);
  const engine = await connectDocker();
  const { signal, dispose } = interruptSignal();
  try {
    const { result, smoke } = await buildWithTests(engine, planned, opts, o, signal);
    if (opts.json) o.out(JSON.stringify({ ...result, smoke }));
    else if (!opts.quiet) o.err(summarize(result));
    return ExitCode.ok;
  } finally {
    dispose();
  }
}
