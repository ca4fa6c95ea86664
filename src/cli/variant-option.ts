import { UsageError } from '../errors.js';
import { parseVariant, type VariantAxes } from '../matrix/expand.js';

/** `--variant cuda=12.9,platform=linux/arm64` -> axes. */
export function variantOption(v: string | undefined): VariantAxes | undefined {
  if (!v) return undefined;
  const r = parseVariant(v);
  if (!r.ok) throw new UsageError(`--variant ${v}: ${r.reason}`, 'e.g. --variant cuda=12.9,platform=linux/arm64');
  return r.axes;
}
