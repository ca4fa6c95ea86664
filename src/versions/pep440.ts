// PEP 440 versions and specifiers. Engine versions (`1.3.0rc11`, `0.5.10.post1`) are PEP 440, not
// semver, so they get their own parser and ordering. Local versions (`+cu129`) are parsed and
// compared but never matched by ranges, as pip does.

export interface Pep440Version {
  readonly text: string;
  readonly epoch: number;
  readonly release: readonly number[];
  readonly pre: readonly ['a' | 'b' | 'rc', number] | null;
  readonly post: number | null;
  readonly dev: number | null;
  readonly local: string | null;
}

const VERSION_RE =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d*))?(?:[-_.]?(dev)[-_.]?(\d*))?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/i;

/**
 * Parsed versions are immutable values, and the same few strings (the support matrix's engine
 * versions) are parsed for every variant: they are kept, up to a bound.
 */
const parsed = new Map<string, Pep440Version | null>();
const MAX_KEPT = 10_000;

export function parsePep440(text: string): Pep440Version | null {
  let v = parsed.get(text);
  if (v === undefined) {
    v = parseUncached(text);
    if (parsed.size >= MAX_KEPT) parsed.clear();
    parsed.set(text, v);
  }
  return v;
}

function parseUncached(text: string): Pep440Version | null {
  const m = VERSION_RE.exec(text.trim());
  if (!m) return null;
  const preTag = m[3]?.toLowerCase();
  let pre: Pep440Version['pre'] = null;
  if (preTag !== undefined) {
    const kind = preTag === 'alpha' || preTag === 'a' ? 'a' : preTag === 'beta' || preTag === 'b' ? 'b' : 'rc';
    pre = [kind, Number(m[4] || 0)];
  }
  let post: number | null = null;
  if (m[5] !== undefined) post = Number(m[5]);
  else if (m[6] !== undefined) post = Number(m[7] || 0);
  return {
    text,
    epoch: Number(m[1] ?? 0),
    release: m[2]!.split('.').map(Number),
    pre,
    post,
    dev: m[8] !== undefined ? Number(m[9] || 0) : null,
    local: m[10]?.toLowerCase() ?? null,
  };
}

export function isPrerelease(v: Pep440Version): boolean {
  return v.pre !== null || v.dev !== null;
}

/** The canonical form of a version (`1.3.0-RC11` -> `1.3.0rc11`). */
export function normalizePep440(v: Pep440Version): string {
  let s = v.epoch ? `${v.epoch}!` : '';
  s += v.release.join('.');
  if (v.pre) s += `${v.pre[0]}${v.pre[1]}`;
  if (v.post !== null) s += `.post${v.post}`;
  if (v.dev !== null) s += `.dev${v.dev}`;
  if (v.local) s += `+${v.local.replace(/[-_]/g, '.')}`;
  return s;
}

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpRelease(a: readonly number[], b: readonly number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = cmpNum(a[i] ?? 0, b[i] ?? 0);
    if (c) return c;
  }
  return 0;
}

// Sort keys follow PEP 440: dev releases of a release sort before its pre-releases, pre-releases
// before the release, post-releases after it.
const PRE_ORDER = { a: 0, b: 1, rc: 2 } as const;

function preKey(v: Pep440Version): [number, number] {
  if (v.pre) return [PRE_ORDER[v.pre[0]], v.pre[1]];
  if (v.dev !== null && v.post === null) return [-1, 0];
  return [3, 0];
}

export function comparePep440(a: Pep440Version, b: Pep440Version): number {
  let c = cmpNum(a.epoch, b.epoch) || cmpRelease(a.release, b.release);
  if (c) return c;
  const [ap, an] = preKey(a);
  const [bp, bn] = preKey(b);
  c = cmpNum(ap, bp) || cmpNum(an, bn);
  if (c) return c;
  c = cmpNum(a.post ?? -1, b.post ?? -1);
  if (c) return c;
  c = cmpNum(a.dev ?? Infinity, b.dev ?? Infinity);
  if (c) return c;
  if (a.local === b.local) return 0;
  if (a.local === null) return -1;
  if (b.local === null) return 1;
  return a.local < b.local ? -1 : 1;
}

// ---- specifiers ------------------------------------------------------------------------------

export type Operator = '==' | '!=' | '>=' | '<=' | '>' | '<' | '~=' | '===';

export interface Clause {
  readonly op: Operator;
  readonly version: string;
  /** `==1.2.*` */
  readonly wildcard: boolean;
}

export interface Specifier {
  readonly text: string;
  readonly clauses: readonly Clause[];
  /** The specifier itself names a pre-release, so pre-releases may match (PEP 440). */
  readonly allowsPre: boolean;
}

export type SpecifierResult = { ok: true; spec: Specifier } | { ok: false; reason: string };

/**
 * Parses a version constraint. Accepts PEP 440 specifier sets (`>=0.14,<0.20`, `~=0.19.0`,
 * `==1.3.*`), a bare version (`0.19.0` means `==0.19.0`), `*` (any), and the npm-style shorthands
 * people type in recipes: `~0.19` (>=0.19,<0.20) and `^1.2` (>=1.2,<2).
 */
export function parseSpecifier(text: string): SpecifierResult {
  const raw = text.trim();
  if (raw === '') return { ok: false, reason: 'empty version constraint' };
  if (raw === '*' || raw === 'latest') return { ok: true, spec: { text: raw, clauses: [], allowsPre: false } };
  const clauses: Clause[] = [];
  for (const part of raw.split(',').map((p) => p.trim())) {
    const m = /^(===|==|!=|>=|<=|~=|>|<|~|\^)?\s*(.+)$/.exec(part);
    if (!m) return { ok: false, reason: `cannot parse "${part}"` };
    const op = m[1];
    let ver = m[2]!.trim();
    if (op === '~' || op === '^') {
      const v = parsePep440(ver);
      if (!v) return { ok: false, reason: `"${ver}" is not a PEP 440 version` };
      const r = v.release;
      let upper: number[];
      if (op === '~') upper = r.length >= 2 ? [r[0]!, r[1]! + 1] : [r[0]! + 1];
      else {
        const firstNonZero = r.findIndex((x) => x !== 0);
        const idx = firstNonZero === -1 ? r.length - 1 : firstNonZero;
        upper = r.slice(0, idx + 1).map((x, i) => (i === idx ? x + 1 : x));
      }
      // `~1.3` means "the 1.3 line", its release candidates included (TensorRT-LLM ships mostly
      // rcs), so the lower bound is 1.3.dev0; `.dev0` on the upper bound keeps 1.4's pre-releases out.
      clauses.push({ op: '>=', version: `${r.join('.')}.dev0`, wildcard: false });
      clauses.push({ op: '<', version: `${upper.join('.')}.dev0`, wildcard: false });
      continue;
    }
    let wildcard = false;
    if (ver.endsWith('.*')) {
      if (op !== '==' && op !== '!=' && op !== undefined) return { ok: false, reason: `".*" only works with == or != (got "${part}")` };
      wildcard = true;
      ver = ver.slice(0, -2);
    }
    if (op !== '===' && !parsePep440(ver)) return { ok: false, reason: `"${ver}" is not a PEP 440 version (e.g. 0.19.0, 1.3.0rc11, 0.5.10.post1)` };
    if (op === '~=' && parsePep440(ver)!.release.length < 2) return { ok: false, reason: `~= needs at least two release numbers (got "${part}")` };
    clauses.push({ op: (op ?? '==') as Operator, version: ver, wildcard });
  }
  const allowsPre = clauses.some((c) => {
    const v = parsePep440(c.version);
    return v !== null && isPrerelease(v) && !c.version.endsWith('.dev0');
  });
  // Shorthand ranges were widened with .dev0 bounds above; those alone do not opt into pre-releases.
  return { ok: true, spec: { text: raw, clauses, allowsPre } };
}

function prefixMatch(v: Pep440Version, prefix: Pep440Version): boolean {
  if (v.epoch !== prefix.epoch) return false;
  return prefix.release.every((x, i) => (v.release[i] ?? 0) === x);
}

function matchClause(v: Pep440Version, c: Clause): boolean {
  if (c.op === '===') return v.text === c.version;
  const target = parsePep440(c.version)!;
  const cmp = comparePep440({ ...v, local: target.local === null ? null : v.local }, target);
  switch (c.op) {
    case '==':
      return c.wildcard ? prefixMatch(v, target) : cmp === 0;
    case '!=':
      return c.wildcard ? !prefixMatch(v, target) : cmp !== 0;
    case '>=':
      return cmp >= 0;
    case '<=':
      return cmp <= 0;
    case '>':
      // `>1.7` excludes 1.7.post1 (PEP 440).
      return cmp > 0 && !(v.post !== null && target.post === null && cmpRelease(v.release, target.release) === 0);
    case '<':
      // `<1.7` excludes 1.7rc1 unless the bound itself is a pre-release (PEP 440).
      return cmp < 0 && (isPrerelease(target) || !(isPrerelease(v) && cmpRelease(v.release, target.release) === 0));
    case '~=': {
      const prefix = { ...target, release: target.release.slice(0, -1), pre: null, post: null, dev: null };
      return cmp >= 0 && prefixMatch(v, prefix);
    }
  }
}

export function satisfies(version: string, spec: Specifier): boolean {
  const v = parsePep440(version);
  if (!v) return false;
  return spec.clauses.every((c) => matchClause(v, c));
}

/**
 * The highest candidate that satisfies the specifier. Final releases win over pre-releases; a
 * pre-release is picked only when the specifier names one or when nothing final matches (PEP 440's
 * rule, and what pip does: TensorRT-LLM ships mostly release candidates).
 */
export function pickHighest(candidates: readonly string[], spec: Specifier): string | null {
  const matching = candidates
    .map((c) => ({ c, v: parsePep440(c) }))
    .filter((x): x is { c: string; v: Pep440Version } => x.v !== null && satisfies(x.c, spec))
    .sort((a, b) => comparePep440(b.v, a.v));
  if (matching.length === 0) return null;
  if (spec.allowsPre) return matching[0]!.c;
  const final = matching.find((x) => !isPrerelease(x.v));
  return (final ?? matching[0]!).c;
}

/** Sorts version strings newest first (both must parse). */
export function byVersionDesc(a: string, b: string): number {
  return comparePep440(parsePep440(b)!, parsePep440(a)!);
}
