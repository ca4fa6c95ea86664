/** Every field path of a JSON Schema, e.g. `engine.wheel.sha256`, `smoke.tests[].kind`. */
export function fieldPaths(schema: unknown, prefix = ''): string[] {
  const out = new Set<string>();
  const walk = (s: unknown, p: string) => {
    if (!s || typeof s !== 'object') return;
    const o = s as Record<string, unknown>;
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) if (Array.isArray(o[key])) for (const sub of o[key] as unknown[]) walk(sub, p);
    if (o['properties'] && typeof o['properties'] === 'object') {
      for (const [k, v] of Object.entries(o['properties'] as Record<string, unknown>)) {
        const q = p ? `${p}.${k}` : k;
        out.add(q);
        walk(v, q);
      }
    }
    if (o['items']) walk(o['items'], `${p}[]`);
    if (o['additionalProperties'] && typeof o['additionalProperties'] === 'object') walk(o['additionalProperties'], `${p}.*`);
  };
  walk(schema, prefix);
  return [...out].sort();
}
