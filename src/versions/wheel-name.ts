// Names from the Python packaging specs, shared by every place that reads a wheel's file name or a
// requirement. Pure.

/** PEP 503 normalised distribution name: `Tally_Count` and `tally.count` are `tally-count`. */
export function normalizeDist(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** Distribution (normalised) and version from a wheel's file name (`NAME-VERSION-...whl`, any folder). */
export function wheelNameVersion(file: string): { name: string; version: string } {
  const [mod, version] = file.split('/').pop()!.split('-');
  return { name: normalizeDist(mod ?? ''), version: version ?? '' };
}
