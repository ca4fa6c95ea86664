import { ExitCode, ReportedFailure } from '../../errors.js';
import { tryPlanRecipe } from '../../plan/make-plan.js';
import { printIssues, type Output } from '../output.js';

export async function runValidate(files: string[], opts: { allowUnsupported?: boolean; quiet?: boolean }, o: Output): Promise<number> {
  let errors = 0;
  let bad = 0;
  for (const file of files) {
    const r = await tryPlanRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false });
    if (r.ok) {
      printIssues(o, r.planned.warnings);
      if (!opts.quiet)
        o.out(
          `${file}: ok (${r.planned.plan.image.name}:${r.planned.plan.image.version}, ${r.planned.plan.engine.framework} ${r.planned.plan.engine.version}, support: ${r.planned.plan.support.status})`,
        );
    } else {
      printIssues(o, r.issues);
      const n = r.issues.filter((i) => i.severity === 'error').length;
      errors += n;
      bad++;
    }
  }
  if (bad)
    throw new ReportedFailure(
      'validate.invalid',
      `${errors} error${errors === 1 ? '' : 's'} in ${bad} of ${files.length} file${files.length === 1 ? '' : 's'}`,
      ExitCode.badInput,
    );
  return ExitCode.ok;
}
