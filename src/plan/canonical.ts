import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level: the same data always gives the same bytes. The same
 * text as `JSON.stringify` with a replacer that sorts each object's keys (plan digests depend on
 * it; test/unit/canonical.test.ts compares the two), written out directly: a matrix of 1,000
 * variants hashes 1,000 plans, and the replacer copied every object to sort it.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? (undefined as unknown as string);
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
// An object orders keys that are array indices first, by value, whatever order they were added in.
const INDEX = /^(?:0|[1-9][0-9]{0,9})$/;
const isIndex = (k: string) => INDEX.test(k) && Number(k) < 4294967295;

function sortedKeys(o: object): string[] {
  const keys = Object.keys(o).sort(byCodeUnit);
  if (!keys.some(isIndex)) return keys;
  const index = keys.filter(isIndex).sort((a, b) => Number(a) - Number(b));
  return [...index, ...keys.filter((k) => !isIndex(k))];
}

function write(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(v); // throws, as JSON.stringify does
    case 'object': {
      if (v === null) return 'null';
      const j = (v as { toJSON?: unknown }).toJSON;
      if (typeof j === 'function') return write(j.call(v));
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += `${i ? ',' : ''}${write(v[i]) ?? 'null'}`;
        return `${out}]`;
      }
      let out = '{';
      let first = true;
      for (const k of sortedKeys(v)) {
        const s = write((v as Record<string, unknown>)[k]);
        if (s === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${s}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return undefined; // undefined, functions and symbols are left out
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
