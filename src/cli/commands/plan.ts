import { planFromFlags } from '../plan-flags.js';
import { ExitCode } from '../../errors.js';
import type { Plan } from '../../plan/types.js';
import { printIssues, type Output } from '../output.js';

export function describePlan(p: Plan): string {
  const lines = [
    `image      ${p.image.name}:${p.image.version}  (plan ${p.digest})`,
    `platforms  ${p.platforms.join(', ')}`,
    `base       ${p.base.runtime}  (${p.base.source}, os ${p.base.os}${p.base.os === 'custom' ? ': not given, and an image the tool did not choose is not guessed; set base.os' : ''})`,
    `python     ${p.python ?? '(none: the recipe installs no Python package)'}`,
    `engine     ${p.engine.framework} ${p.engine.version}${p.engine.requested !== p.engine.version ? ` (asked ${p.engine.requested})` : ''} from ${p.engine.source.kind}`,
  ];
  if (p.dynamo) lines.push(`dynamo     ${p.dynamo.version}`);
  if (p.cuda) lines.push(`cuda       ${p.cuda.version} (driver >= ${p.cuda.minDriver})`);
  lines.push(`support    ${p.support.status}${p.support.row ? ` (Dynamo ${p.support.row.dynamo} row, NIXL ${p.support.row.nixl})` : ''}`);
  for (const w of p.support.warnings) lines.push(`  warning: ${w}`);
  lines.push('inputs');
  for (const i of p.inputs) lines.push(`  ${i.contextPath}  ${i.size} bytes  sha256:${i.sha256}`);
  if (!p.inputs.length) lines.push('  (none)');
  lines.push(`stages     ${p.stages.map((s) => `${s.name} (from ${s.from})`).join(' -> ')}`);
  lines.push(`user       ${p.runtime.user.name} ${p.runtime.user.uid}:${p.runtime.user.gid}, workdir ${p.runtime.workdir ?? "(the base image's)"}`);
  lines.push(
    `entrypoint ${p.runtime.entrypoint ? JSON.stringify(p.runtime.entrypoint) : "(the base image's)"} cmd ${p.runtime.command ? JSON.stringify(p.runtime.command) : "(the base image's)"}`,
  );
  lines.push(`tags       ${p.tags.join(', ')}`);
  lines.push(`smoke      ${p.smoke.tests.length} test(s)`);
  return lines.join('\n');
}

export async function runPlan(
  file: string,
  opts: { json?: boolean; allowUnsupported?: boolean; locked?: boolean; variant?: string; baseImage?: string },
  o: Output,
): Promise<number> {
  const planned = await planFromFlags(file, opts);
  printIssues(o, planned.warnings);
  o.out(opts.json ? JSON.stringify(planned.plan, null, 2) : describePlan(planned.plan));
  return ExitCode.ok;
}
