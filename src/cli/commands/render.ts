import { planFromFlags } from '../plan-flags.js';
import { rename, writeFile } from 'node:fs/promises';
import { dockerfileFromPlan, type Target } from '../../dockerfile/from-plan.js';
import { renderDockerfile } from '../../dockerfile/render.js';
import { ExitCode } from '../../errors.js';
import { planFetches } from '../../plan/build-plan.js';
import { checkOutputPath, printIssues, type Output } from '../output.js';

export async function runRender(
  file: string,
  opts: {
    output?: string;
    target: Target;
    builder?: 'buildkit' | 'classic';
    allowUnsupported?: boolean;
    locked?: boolean;
    variant?: string;
    baseImage?: string;
  },
  o: Output,
): Promise<number> {
  checkOutputPath(opts.output, '-o');
  const planned = await planFromFlags(file, opts);
  printIssues(o, planned.warnings);
  // As `build` renders it on a BuildKit that takes RUN --network (Docker 23+), with the network the plan needs.
  const buildkit = (opts.builder ?? 'buildkit') === 'buildkit';
  const text = renderDockerfile(dockerfileFromPlan(planned.plan, opts.target, { buildkit, stepNetwork: buildkit && planFetches(planned.plan) }));
  if (opts.output) {
    // Write then rename: a failed render never leaves a half-written Dockerfile.
    const tmp = `${opts.output}.${process.pid}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, opts.output);
  } else {
    o.out(text);
  }
  return ExitCode.ok;
}
