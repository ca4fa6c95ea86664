import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode } from '../../errors.js';
import { whyRebuild } from '../../pipeline/why.js';
import { parseBuildArgs } from '../build-options.js';
import type { Output } from '../output.js';
import { planFromFlags } from '../plan-flags.js';

// `dynamo-image why RECIPE [--image REF]`: flags -> whyRebuild (the plan now against the summary
// the image carries, on the engine or in its registry) -> one line per change, or JSON.

export interface WhyOptions {
  image?: string;
  target: 'runtime' | 'dev';
  buildArg: string[];
  platform?: string;
  variant?: string;
  json?: boolean;
  allowUnsupported?: boolean;
}

export async function runWhy(file: string, opts: WhyOptions, o: Output): Promise<number> {
  const { plan } = await planFromFlags(file, opts);
  const buildArgs = parseBuildArgs(opts.buildArg);
  const why = await whyRebuild(plan, { image: opts.image, target: opts.target, buildArgs, platform: opts.platform, connect: connectDocker });
  if (opts.json) o.out(JSON.stringify(why));
  else if (why.upToDate) o.out(`${why.image} (${why.where}) is this build: build key ${why.buildKey.slice(0, 19)}; nothing changed`);
  else {
    o.out(`${why.image} (${why.where}) is not this build; what changed:`);
    for (const c of why.changes) o.out(`  ${c.line}`);
  }
  return why.upToDate ? ExitCode.ok : ExitCode.failed;
}
