import { isMap, isScalar, isSeq, visit, type Document, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { comparePep440, parsePep440 } from '../versions/pep440.js';
import { ReleaseDataError, type ImportedRelease, type ReleaseData } from './release-data.js';
import { MATRIX_FRAMEWORKS } from '../domain/frameworks.js';

// Release data (release-data.ts) merged into base-images/support-matrix.yaml, kept as a YAML
// document so its comments, hand-written notes, variants and citations stay. Pure over the
// document: the caller reads and writes the file. Each change is returned for the diff.

export interface SourceCitation {
  repo: string;
  file: string;
  commit?: string;
  updated?: string;
}

export interface MatrixChange {
  /** `+` a new release, `~` a changed field, `=` the citation or the driver table. */
  kind: '+' | '~';
  release: string | null;
  field: string;
  before: unknown;
  after: unknown;
}

const json = (v: unknown) => JSON.stringify(v);

function flowNode(doc: Document, value: unknown): Node {
  const n = doc.createNode(value) as Node;
  if (isMap(n) || isSeq(n)) (n as YAMLMap | YAMLSeq).flow = true;
  return n;
}

function plain(node: unknown): unknown {
  return node && typeof (node as { toJSON?: unknown }).toJSON === 'function' ? (node as { toJSON: () => unknown }).toJSON() : node;
}

/** The support-matrix entry the release data gives for one release (the fields the data owns). */
function entryFields(
  r: ImportedRelease,
  key: string,
): { nixl: Record<string, string>; ucx: string | null; engines: Record<string, { version: string; cuda: Record<string, string> | null }>; source: string } {
  return {
    source: key,
    nixl: Object.fromEntries(MATRIX_FRAMEWORKS.map((fw) => [fw, r.nixl[fw]])),
    ucx: r.ucx,
    engines: Object.fromEntries(MATRIX_FRAMEWORKS.map((fw) => [fw, r.engines[fw]])),
  };
}

export function mergeReleaseData(doc: Document, data: ReleaseData, key: string, cite: SourceCitation): MatrixChange[] {
  const changes: MatrixChange[] = [];
  const change = (kind: MatrixChange['kind'], release: string | null, field: string, before: unknown, after: unknown) =>
    changes.push({ kind, release, field, before, after });

  const sources = doc.get('sources') as YAMLMap;
  const citeValue = { repo: cite.repo, file: cite.file, ...(cite.commit ? { commit: cite.commit } : {}), ...(cite.updated ? { updated: cite.updated } : {}) };
  if (json(plain(sources.get(key, true))) !== json(citeValue)) {
    change('~', null, `sources.${key}`, plain(sources.get(key, true)) ?? null, citeValue);
    sources.set(key, flowNode(doc, citeValue));
  }

  const cudaTable = doc.get('cuda') as YAMLMap;
  for (const [tk, drv] of Object.entries(data.minDrivers)) {
    const before = plain(cudaTable.get(tk, true)) as { minDriver?: string } | undefined;
    if (before?.minDriver !== drv) {
      change('~', null, `cuda.${tk}.minDriver`, before?.minDriver ?? null, drv);
      cudaTable.set(tk, flowNode(doc, { minDriver: drv }));
    }
  }

  const releases = doc.get('releases') as YAMLSeq;
  const find = (v: string) => releases.items.find((n) => isMap(n) && String(n.get('dynamo')) === v) as YAMLMap | undefined;
  for (const r of data.releases) {
    const want = entryFields(r, key);
    const existing = find(r.dynamo);
    if (!existing) {
      const missing = MATRIX_FRAMEWORKS.filter((fw) => r.engines[fw].cuda === null);
      if (missing.length)
        throw new ReleaseDataError([
          {
            path: '$.cudaHistory',
            message: `has no CUDA toolkit for ${missing.join(', ')} in ${r.dynamo} (nor in its base release), which is new to the support matrix`,
          },
        ]);
      const node = doc.createNode({
        dynamo: r.dynamo,
        source: key,
        cudaSource: key,
        nixl: want.nixl,
        ...(r.ucx ? { ucx: r.ucx } : {}),
        engines: Object.fromEntries(
          MATRIX_FRAMEWORKS.slice()
            .sort()
            .map((fw) => [fw, { version: r.engines[fw].version, cuda: r.engines[fw].cuda }]),
        ),
      }) as YAMLMap;
      (node.get('nixl', true) as unknown as YAMLMap).flow = true;
      const engines = node.get('engines', true) as unknown as YAMLMap;
      for (const item of engines.items) (item.value as YAMLMap).flow = true;
      // Newest first, as the file is kept.
      const at = releases.items.findIndex((n) => isMap(n) && comparePep440(parsePep440(String(n.get('dynamo')))!, parsePep440(r.dynamo)!) < 0);
      releases.items.splice(at < 0 ? releases.items.length : at, 0, node);
      change('+', r.dynamo, 'release', null, {
        engines: Object.fromEntries(MATRIX_FRAMEWORKS.map((fw) => [fw, `${r.engines[fw].version} ${Object.keys(r.engines[fw].cuda!).join('+')}`])),
        nixl: want.nixl,
        ucx: r.ucx,
      });
      continue;
    }
    const set = (field: string, value: unknown, flow = false) => {
      const before = plain(existing.getIn(field.split('.'), true));
      if (json(before) === json(value)) return;
      change('~', r.dynamo, field, before ?? null, value);
      existing.setIn(field.split('.'), flow ? flowNode(doc, value) : value);
    };
    set('source', key);
    set('nixl', want.nixl, true);
    if (r.ucx) set('ucx', r.ucx);
    const allCuda = MATRIX_FRAMEWORKS.every((fw) => r.engines[fw].cuda !== null);
    if (allCuda) set('cudaSource', key);
    for (const fw of MATRIX_FRAMEWORKS) {
      set(`engines.${fw}.version`, r.engines[fw].version);
      if (r.engines[fw].cuda) set(`engines.${fw}.cuda`, r.engines[fw].cuda, true);
    }
  }
  return changes;
}

/** One line per change, for --dry-run, --check and the import itself. */
export function formatChanges(changes: MatrixChange[]): string[] {
  return changes.map((c) =>
    c.kind === '+' ? `+ ${c.release}: ${json(c.after)}` : `~ ${c.release ? `${c.release} ` : ''}${c.field}: ${json(c.before)} -> ${json(c.after)}`,
  );
}

/**
 * The document as text, in the file's own style: every value that starts with a digit quoted (a
 * version: `"1.20"` must not read as a number), flow sequences unpadded (`["3.10", "3.12"]`),
 * flow maps padded (`{ a: b }`), no line folding.
 */
export function renderMatrix(doc: Document): string {
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && typeof node.value === 'string' && /^\d/.test(node.value) && (node.type === undefined || node.type === 'PLAIN'))
        node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0 }).replace(/\[ (.*?) \]/g, '[$1]');
}
