/** A node of a JSON Schema, as the walk meets it. */
export type SchemaNode = Record<string, unknown>;

/**
 * Calls `visit` for every field of a JSON Schema, in the schema's own order, with its path
 * (`engine.wheel.sha256`, `smoke.tests[].kind`, `labels.*`) and its node. A path that stands in
 * several branches of an `anyOf`/`oneOf`/`allOf` is visited once per branch.
 */
export function forEachField(schema: unknown, visit: (path: string, node: SchemaNode) => void, prefix = ''): void {
  const walk = (s: unknown, p: string) => {
    if (!s || typeof s !== 'object') return;
    const o = s as SchemaNode;
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) if (Array.isArray(o[key])) for (const sub of o[key] as unknown[]) walk(sub, p);
    if (o['properties'] && typeof o['properties'] === 'object') {
      for (const [k, v] of Object.entries(o['properties'] as SchemaNode)) {
        const q = p ? `${p}.${k}` : k;
        if (v && typeof v === 'object') visit(q, v as SchemaNode);
        walk(v, q);
      }
    }
    if (o['items']) walk(o['items'], `${p}[]`);
    if (o['additionalProperties'] && typeof o['additionalProperties'] === 'object') walk(o['additionalProperties'], `${p}.*`);
  };
  walk(schema, prefix);
}

/** Every field path of a JSON Schema, sorted. */
export function fieldPaths(schema: unknown, prefix = ''): string[] {
  const out = new Set<string>();
  forEachField(schema, (p) => out.add(p), prefix);
  return [...out].sort();
}
