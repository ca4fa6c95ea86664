import { ExitCode, ReportedFailure, UsageError } from '../../errors.js';
import { verifyImage } from '../../pipeline/verify.js';
import { verifierFrom } from '../key-files.js';
import type { Output } from '../output.js';
import { planFromFlags } from '../plan-flags.js';

// `dynamo-image verify IMAGE --key cosign.pub [--recipe FILE]`: flags -> verifyImage -> one line
// per check (or the verdict as JSON); exit 1 when any check fails.

export interface VerifyOptions {
  key: string;
  recipe?: string;
  variant?: string;
  json?: boolean;
  allowUnsupported?: boolean;
}

export async function runVerify(image: string, opts: VerifyOptions, o: Output): Promise<number> {
  if (opts.variant && !opts.recipe) throw new UsageError('--variant chooses a variant of --recipe', 'give --recipe FILE too, or leave out --variant');
  const key = verifierFrom(opts.key);
  const plan = opts.recipe ? (await planFromFlags(opts.recipe, opts)).plan : null;
  const v = await verifyImage(image, key, plan);
  if (opts.json) o.out(JSON.stringify({ verdictVersion: 1, ...v }));
  else
    for (const img of v.images) {
      o.err(`${img.digest || image}${img.platform ? ` (${img.platform})` : ''}`);
      for (const c of img.checks) o.err(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    }
  const failed = v.images.flatMap((i) => i.checks.filter((c) => !c.ok));
  if (failed.length)
    throw new ReportedFailure('verify.mismatch', `${image}: ${failed.length} check(s) failed (${failed.map((c) => c.name).join(', ')})`, ExitCode.failed);
  if (!opts.json) o.err(`verified ${image}@${v.digest}${plan ? ` against ${opts.recipe}` : ''}`);
  return ExitCode.ok;
}
