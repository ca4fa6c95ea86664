import { UsageError } from '../errors.js';
import { parseVariant, type VariantAxes } from '../matrix/expand.js';
import { planRecipe, type PlannedRecipe } from '../plan/make-plan.js';

// The flags every command that plans a recipe shares, turned into one planRecipe call: one option
// type at this boundary, so a command cannot forget one (or spell a default its own way).

/** What a command's flags say about the plan (each flag where the command has it). */
export interface PlanFlags {
  allowUnsupported?: boolean | undefined;
  locked?: boolean | undefined;
  variant?: string | undefined;
  baseImage?: string | undefined;
}

/** `--variant cuda=12.9,platform=linux/arm64` -> axes. */
function variantOption(v: string | undefined): VariantAxes | undefined {
  if (!v) return undefined;
  const r = parseVariant(v);
  if (!r.ok) throw new UsageError(`--variant ${v}: ${r.reason}`, 'e.g. --variant cuda=12.9,platform=linux/arm64');
  return r.axes;
}

/** The recipe's plan as the flags ask for it (the variant checked before the recipe is read). */
export function planFromFlags(file: string, flags: PlanFlags): Promise<PlannedRecipe> {
  const variant = variantOption(flags.variant);
  return planRecipe(file, {
    allowUnsupported: flags.allowUnsupported ?? false,
    locked: flags.locked ?? false,
    ...(variant ? { variant } : {}),
    ...(flags.baseImage ? { baseImage: flags.baseImage } : {}),
  });
}
