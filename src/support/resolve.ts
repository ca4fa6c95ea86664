import type { Issue, IssueCode } from '../errors.js';
import { comparePep440, normalizePep440, parsePep440, parseSpecifier, pickHighest, satisfies, type Pep440Version, type Specifier } from '../versions/pep440.js';
import type { Recipe } from '../recipe/schema.js';
import { installsPython } from '../recipe/python-needed.js';
import { normalizeDist, wheelNameVersion } from '../versions/wheel-name.js';
import type { Architecture } from '../domain/platforms.js';
import type { MatrixFramework } from '../domain/frameworks.js';
import { engineImageFor, type MatrixRow, type SupportData } from './schema.js';

// Resolves a recipe's versions against the support matrix and the base image table. Pure: the
// data comes in as an argument.

export interface Resolution {
  engineVersion: string;
  dynamoVersion: string | null;
  cuda: string | null;
  minDriver: string | null;
  /** The support-matrix row the build matches, if any. */
  row: MatrixRow | null;
  status: 'supported' | 'experimental' | 'unsupported' | 'not-applicable';
  base: {
    runtime: string;
    builder: string;
    source: 'table' | 'explicit' | 'engine-image';
    os: string;
    /** The base image already has python3 with the venv module. */
    pythonIncluded: boolean;
  };
  engineImage: string | null;
  /** The CUDA devel image of the toolkit (base-images.yaml's devel column), for `imports: [{image: devel}]`. */
  develImage: string | null;
  /** Package name and index for engines installed from an index. */
  enginePackage: string | null;
  engineIndex: string | null;
  /** The Dynamo release's NIXL (for this framework) and UCX series, where the support data says. */
  nixl: string | null;
  ucx: string | null;
  warnings: Issue[];
}

export interface ResolveOptions {
  allowUnsupported?: boolean;
  file: string;
  /** Maps a field path to its position in the recipe, for issues. */
  locate: (path: (string | number)[]) => { line: number; col: number };
}

const ARCH_OF: Record<string, Architecture> = { 'linux/amd64': 'amd64', 'linux/arm64': 'arm64' };

function versionRanges(rows: MatrixRow[]): string {
  // "vllm 0.19.0 (Dynamo 1.1.0-1.1.1, CUDA 12.9/13.0)"
  const byEngine = new Map<string, { dynamo: Set<string>; cuda: Set<string> }>();
  for (const r of rows) {
    const e = byEngine.get(r.engine) ?? { dynamo: new Set(), cuda: new Set() };
    e.dynamo.add(r.dynamo);
    e.cuda.add(r.cuda);
    byEngine.set(r.engine, e);
  }
  return [...byEngine.entries()]
    .sort((a, b) => comparePep440(parsePep440(b[0])!, parsePep440(a[0])!))
    .map(([engine, e]) => {
      const d = [...e.dynamo].sort((a, b) => comparePep440(parsePep440(a)!, parsePep440(b)!));
      const dyn = d.length > 1 ? `${d[0]}-${d[d.length - 1]}` : d[0];
      return `${rows[0]!.framework} ${engine} (Dynamo ${dyn}, CUDA ${[...e.cuda].sort().join('/')})`;
    })
    .join('; ');
}

type RowTest = (r: MatrixRow) => boolean;

/**
 * What to ask for instead: the newest Dynamo release with the engine asked for on this CUDA
 * (Python and platforms too), else the newest on this CUDA with its engine.
 */
function newestFitting(rows: MatrixRow[], m: { matchEng: RowTest; matchCuda: RowTest; matchPy: RowTest; matchArch: RowTest }, wanted: string, cuda: string): string {
  const newest = (rs: MatrixRow[]) => [...rs].sort((a, b) => comparePep440(parsePep440(b.dynamo)!, parsePep440(a.dynamo)!) || comparePep440(parsePep440(b.engine)!, parsePep440(a.engine)!))[0];
  const fit = newest(rows.filter((r) => m.matchEng(r) && m.matchCuda(r) && m.matchPy(r) && m.matchArch(r)));
  if (fit) return `the newest release that fits ${wanted} on CUDA ${cuda}: dynamo: "${fit.dynamo}" (${fit.framework} ${fit.engine})`;
  const onCuda = newest(rows.filter((r) => m.matchCuda(r) && m.matchPy(r) && m.matchArch(r)));
  if (onCuda) return `no release fits ${wanted} on CUDA ${cuda}; the newest on CUDA ${cuda}: dynamo: "${onCuda.dynamo}" with ${onCuda.framework} ${onCuda.engine}`;
  return `no release ships ${rows[0]?.framework ?? 'this framework'} on CUDA ${cuda} for this Python and these platforms`;
}

function spec(text: string): Specifier {
  const r = parseSpecifier(text);
  if (!r.ok) throw new Error(`bug: unvalidated specifier ${text}`);
  return r.spec;
}

function exactOf(s: Specifier): string | null {
  const only = s.clauses.length === 1 ? s.clauses[0] : undefined;
  if (only && only.op === '==' && !only.wildcard) return normalizePep440(parsePep440(only.version)!);
  return null;
}

/** What the rules read and decide, in the order of RESOLVE_RULES. */
interface Resolving {
  recipe: Recipe;
  data: SupportData;
  opts: ResolveOptions;
  fw: Recipe['engine']['framework'];
  archs: Architecture[];
  cuda: string | null;
  issues: Issue[];
  warnings: Issue[];
  err: (path: (string | number)[], code: IssueCode, message: string, hint?: string) => void;
  engineVersion: string | null;
  dynamoVersion: string | null;
  row: MatrixRow | null;
  status: Resolution['status'];
  baseOut: Resolution['base'] | null;
  engineImage: string | null;
  develImage: string | null;
}

/** Engine source: exactly one of wheel, index, binary, image. */
function engineSource(s: Resolving): void {
  const { err, fw } = s;
  const { engine } = s.recipe;
  const sources = (['wheel', 'index', 'binary', 'image'] as const).filter((k) => engine[k] !== undefined);
  if (sources.length === 0) err(['engine'], 'recipe.engine-source', 'names no engine source', 'set exactly one of engine.wheel, engine.index, engine.binary, engine.image');
  if (sources.length > 1)
    err(['engine', sources[1]!], 'recipe.engine-source', `has ${sources.length} engine sources (${sources.join(', ')}); they are mutually exclusive`, 'keep exactly one');
  if (engine.binary && fw !== 'custom') err(['engine', 'binary'], 'recipe.engine-source', `a binary engine needs framework "custom" (got "${fw}")`);
}

/** Python: the venv's, when anything Python is installed (and for the frameworks' rows). */
function pythonNeeded(s: Resolving): void {
  const { recipe, err, fw } = s;
  if (recipe.python === undefined && (installsPython(recipe) || fw !== 'custom'))
    err(['python'], 'recipe.python-missing', `is needed: ${fw !== 'custom' ? `framework "${fw}" is matched against the support matrix by Python version` : 'the recipe installs Python packages into a venv (an engine wheel or index, dependencies or Dynamo)'}`, 'e.g. python: "3.12"; an engine that is a binary or already in the base image, with nothing Python to install, needs none');
}

/** Versions against the support matrix: the row, the pins, the status. */
function versions(s: Resolving): void {
  const { recipe, data, opts, err, issues, warnings, archs, fw, cuda } = s;
  const { engine } = s.recipe;
  const engineSpec = spec(engine.version);
  s.dynamoVersion = recipe.dynamo ? exactOf(spec(recipe.dynamo)) : null;

  if (fw === 'custom') {
    s.engineVersion = exactOf(engineSpec);
    if (!s.engineVersion) err(['engine', 'version'], 'recipe.version-not-exact', `"${engine.version}" is a range; a custom engine needs its exact version`, 'e.g. "0.1.0"');
    if (recipe.dynamo && !s.dynamoVersion) {
      const known = data.matrix.releases.map((r) => r.dynamo);
      s.dynamoVersion = pickHighest(known, spec(recipe.dynamo));
      if (!s.dynamoVersion) err(['dynamo'], 'matrix.dynamo-unknown', `no Dynamo release matches "${recipe.dynamo}"`, `known: ${known.join(', ')}`);
    }
  } else {
    const mfw = fw as MatrixFramework;
    const fwRows = data.rows.filter((r) => r.framework === mfw);
    if (!recipe.dynamo) err(['engine', 'framework'], 'recipe.dynamo-missing', `framework "${fw}" needs the Dynamo runtime version (top-level "dynamo")`, `e.g. dynamo: "${data.matrix.releases[0]?.dynamo}"`);
    if (!cuda) err(['base'], 'recipe.cuda-missing', `framework "${fw}" needs base.cuda to check the support matrix`, `${fw} images exist for CUDA ${[...new Set(fwRows.map((r) => r.cuda))].sort().join(', ')}`);
    const dynSpec = recipe.dynamo ? spec(recipe.dynamo) : null;
    const matchDyn = (r: MatrixRow) => (dynSpec ? satisfies(r.dynamo, dynSpec) : true);
    const matchEng = (r: MatrixRow) => satisfies(r.engine, engineSpec);
    const matchCuda = (r: MatrixRow) => (cuda ? r.cuda === cuda : true);
    // The upstream engine images are Python 3.12 (imagePython); 3.10-3.12 is the wheels' range.
    const imagePython = data.matrix.frameworks[mfw]?.imagePython;
    const pythonsOf = (r: MatrixRow) => (engine.image && imagePython ? [imagePython] : r.python);
    // No python given (needed here, reported below): any row's Python will do for the match.
    const matchPy = (r: MatrixRow) => recipe.python === undefined || pythonsOf(r).includes(recipe.python);
    const matchArch = (r: MatrixRow) => archs.every((a) => r.architectures.includes(a));
    const all = fwRows.filter((r) => matchDyn(r) && matchEng(r) && matchCuda(r) && matchPy(r) && matchArch(r));
    if (all.length > 0 && recipe.dynamo && cuda) {
      // Highest Dynamo first, then the highest engine it was tested with.
      const dyn = pickHighest([...new Set(all.map((r) => r.dynamo))], dynSpec!)!;
      const rowsOfDyn = all.filter((r) => r.dynamo === dyn);
      const eng = pickHighest([...new Set(rowsOfDyn.map((r) => r.engine))], engineSpec) ?? rowsOfDyn[0]!.engine;
      s.row = rowsOfDyn.find((r) => r.engine === eng)!;
      s.engineVersion = s.row.engine;
      s.dynamoVersion = s.row.dynamo;
      s.status = s.row.status;
    } else if (recipe.dynamo && cuda) {
      // Explain which dimension fails, starting from the version pair the user asked for.
      const pair = fwRows.filter((r) => matchDyn(r) && matchEng(r));
      const wanted = `${fw} ${engine.version}${recipe.dynamo ? ` with Dynamo ${recipe.dynamo}` : ''}`;
      let path: (string | number)[] = ['engine', 'version'];
      let message: string;
      let hint: string;
      if (pair.length === 0) {
        const ofDyn = fwRows.filter(matchDyn);
        if (ofDyn.length === 0) {
          path = ['dynamo'];
          message = `no Dynamo release matches "${recipe.dynamo}" for ${fw}`;
          hint = `supported: ${versionRanges(fwRows)}`;
        } else {
          message = `${wanted} is not a tested combination: that Dynamo release was tested with ${fw} ${[...new Set(ofDyn.map((r) => r.engine))].join(', ')}`;
          hint = `supported: ${versionRanges(fwRows.filter((r) => matchEng(r)).length ? fwRows.filter(matchEng) : ofDyn)}`;
        }
      } else if (!pair.some(matchCuda)) {
        path = ['base', 'cuda'];
        const cudas = [...new Set(pair.map((r) => r.cuda))];
        message = `${fw} ${pair[0]!.engine} needs CUDA ${cudas.join(' or ')}, not ${cuda}`;
        hint = `supported: ${versionRanges(fwRows.filter((r) => r.cuda === cuda).length ? fwRows.filter((r) => r.cuda === cuda) : pair)}`;
      } else if (!pair.some((r) => matchCuda(r) && matchPy(r))) {
        path = ['python'];
        const pys = pythonsOf(pair.find(matchCuda)!);
        message = `${fw} ${pair[0]!.engine} does not support Python ${recipe.python}${engine.image ? ' in its upstream image' : ''}`;
        hint = `supported: Python ${pys.join(', ')}`;
      } else {
        path = ['base', 'platforms'];
        const a = pair.find(matchCuda)!.architectures;
        message = `${fw} ${pair[0]!.engine} is not built for ${archs.filter((x) => !a.includes(x)).join(', ')}`;
        hint = `supported: ${a.map((x) => `linux/${x}`).join(', ')}`;
      }
      hint = `${hint}; ${newestFitting(fwRows, { matchEng, matchCuda, matchPy, matchArch }, `${fw} ${engine.version}`, cuda)}`;
      if (opts.allowUnsupported) {
        warnings.push({ code: 'matrix.unsupported', severity: 'warning', file: opts.file, ...opts.locate(path), path, message: `${message} (allowed by --allow-unsupported)`, hint });
        s.status = 'unsupported';
        // The engine of the Dynamo release asked for first (a newer release's engine would not
        // match that release's wheels), then any release's.
        const ofRelease = recipe.dynamo ? fwRows.filter((r) => satisfies(r.dynamo, spec(recipe.dynamo!))) : [];
        s.engineVersion = exactOf(engineSpec) ?? pickHighest(ofRelease.map((r) => r.engine), engineSpec) ?? pickHighest(fwRows.map((r) => r.engine), engineSpec);
        s.dynamoVersion = exactOf(spec(recipe.dynamo)) ?? pickHighest(fwRows.map((r) => r.dynamo), spec(recipe.dynamo));
        if (!s.engineVersion) err(['engine', 'version'], 'matrix.unpinnable', `"${engine.version}" matches no known ${fw} version, so it cannot be pinned`, 'give an exact version');
        if (!s.dynamoVersion) err(['dynamo'], 'matrix.unpinnable', `"${recipe.dynamo}" matches no known Dynamo release, so it cannot be pinned`, 'give an exact version');
      } else {
        issues.push({ code: 'matrix.unsupported', severity: 'error', file: opts.file, ...opts.locate(path), path, message, hint: `${hint}; --allow-unsupported builds it anyway` });
      }
    }
  }
}

/** An upstream image whose tag names a version must name the pinned one. */
function imageTag(s: Resolving): void {
  const { opts, err, issues, fw } = s;
  const { engine } = s.recipe;
  if (engine.image?.ref && s.engineVersion) {
    const tag = engine.image.ref.split('@')[0]!.match(/:([\w][\w.-]*)$/)?.[1];
    const named = tag ? versionInTag(tag) : null;
    const pv = parsePep440(s.engineVersion);
    // Custom images may carry other numbers in their tags (a CUDA version, a date): a warning there.
    if (named && pv && comparePep440(named.version, pv) !== 0) {
      const text = `pins ${s.engineVersion} but the image tag "${tag}" reads as version ${named.text}`;
      const hint = `set engine.version: "${named.text}", or use the image of ${s.engineVersion}`;
      if (fw === 'custom') issues.push({ code: 'recipe.image-version', severity: 'warning', file: opts.file, ...opts.locate(['engine', 'version']), path: ['engine', 'version'], message: text, hint });
      else err(['engine', 'version'], 'recipe.image-version', text, hint);
    }
  }
}

/** The wheel's own version must be the pinned one. */
function wheelVersion(s: Resolving): void {
  const { err } = s;
  const { engine } = s.recipe;
  if (engine.wheel && s.engineVersion) {
    const fileName = engine.wheel.path.split('/').pop()!;
    const m = /^([A-Za-z0-9_.]+)-([^-]+)(-\d[^-]*)?-([^-]+)-([^-]+)-([^-]+)\.whl$/.exec(fileName);
    if (!m) err(['engine', 'wheel', 'path'], 'recipe.wheel-name', `"${fileName}" is not a wheel file name`, 'NAME-VERSION-PYTHON-ABI-PLATFORM.whl');
    else {
      const wv = parsePep440(m[2]!);
      const pv = parsePep440(s.engineVersion)!;
      if (!wv || comparePep440(wv, pv) !== 0)
        err(['engine', 'version'], 'recipe.wheel-version', `pins ${s.engineVersion} but the wheel ${fileName} is version ${m[2]}`, `set engine.version: "${m[2]}"`);
    }
  }
}

/** Base images: the engine image, an explicit image, or the CUDA table's. */
function baseImages(s: Resolving): void {
  const { recipe, data, err, archs, fw, cuda } = s;
  const { engine, base } = s.recipe;
  // Not given: an explicit image or a custom engine image is "custom" (the tool cannot know its OS;
  // a sid base is not Ubuntu); the CUDA table's and the frameworks' upstream images are Ubuntu 24.04.
  const os = base.os ?? (base.image || (engine.image && fw === 'custom') ? 'custom' : 'ubuntu24.04');
  if (engine.image) {
    const tmpl = fw === 'custom' ? undefined : data.matrix.frameworks[fw]?.image;
    s.engineImage = engine.image.ref ?? null;
    if (!s.engineImage && tmpl && s.engineVersion && cuda) s.engineImage = engineImageFor(tmpl, s.engineVersion, cuda, (v, since) => comparePep440(parsePep440(v)!, parsePep440(since)!) >= 0);
    // For vllm/sglang/trtllm the ref comes from the template once version and CUDA resolve; when
    // they do not, that error is already reported and this one would only repeat it.
    if (!s.engineImage && fw === 'custom') err(['engine', 'image'], 'recipe.engine-image', 'needs "ref" for a custom framework', 'e.g. image: { ref: "registry.example.com/my-engine:1.0" }');
    else if (s.engineImage) s.baseOut = { runtime: s.engineImage, builder: s.engineImage, source: 'engine-image', os, pythonIncluded: true };
  } else if (base.image) {
    s.baseOut = { runtime: base.image, builder: base.image, source: 'explicit', os, pythonIncluded: base.pythonIncluded ?? true };
  } else if (cuda) {
    const candidates = data.baseImages.images.filter((i) => i.cuda === cuda);
    const hit = candidates.find((i) => i.os === os && archs.every((a) => i.architectures.includes(a)));
    if (!hit) {
      const forOs = candidates.find((i) => i.os === os);
      if (forOs) err(['base', 'platforms'], 'baseimage.arch', `CUDA ${cuda} on ${os} has no ${archs.filter((a) => !forOs.architectures.includes(a)).join(', ')} image`, `${os} images: ${forOs.architectures.join(', ')}; arm64 needs ubuntu24.04`);
      else if (candidates.length) err(['base', 'os'], 'baseimage.os', `no CUDA ${cuda} base image for ${os}`, `available: ${candidates.map((c) => c.os).join(', ')}`);
      else err(['base', 'cuda'], 'baseimage.cuda', `no base image for CUDA ${cuda}`, `available: ${[...new Set(data.baseImages.images.map((i) => i.cuda))].join(', ')}`);
    } else {
      const ref = hit.digest ? `${hit.runtime}@${hit.digest}` : hit.runtime;
      s.baseOut = { runtime: ref, builder: ref, source: 'table', os, pythonIncluded: false };
      if (recipe.python !== undefined && hit.python !== recipe.python)
        err(['python'], 'baseimage.python', `${os} provides Python ${hit.python}, not ${recipe.python}`, `set python: "${hit.python}"${data.baseImages.images.some((i) => i.cuda === cuda && i.python === recipe.python) ? ` or choose the os with Python ${recipe.python}: ${data.baseImages.images.filter((i) => i.cuda === cuda && i.python === recipe.python).map((i) => i.os).join(', ')}` : ''}`);
    }
  } else {
    err(['base'], 'recipe.base-missing', 'names no base image', 'set base.cuda (resolved through base-images/base-images.yaml) or base.image');
  }
}

/** Local Dynamo wheels: one per package, each at the Dynamo version. */
function dynamoWheels(s: Resolving): void {
  const { recipe, err } = s;
  // Local Dynamo wheels: one per package, each at the Dynamo version.
  const ds = recipe.dynamoSource;
  if (ds && !recipe.dynamo) err(['dynamoSource'], 'recipe.dynamo-wheels', 'says where the Dynamo wheels come from, but the recipe installs no Dynamo', 'set dynamo: "<version>", or leave dynamoSource out');
  if (ds?.wheels && s.dynamoVersion) {
    const wheels = ds.wheels.map((w) => wheelNameVersion(w.path));
    wheels.forEach((w, i) => {
      const v = parsePep440(w.version);
      if (!v || comparePep440(v, parsePep440(s.dynamoVersion!)!) !== 0) err(['dynamoSource', 'wheels', i, 'path'], 'recipe.dynamo-wheels', `is version ${w.version || '(none)'}, but dynamo is ${s.dynamoVersion}`, 'every Dynamo wheel carries the dynamo version');
    });
    ds.packages.forEach((p, i) => {
      const name = normalizeDist(p.replace(/\[.*$/, ''));
      if (!wheels.some((w) => w.name === name)) err(['dynamoSource', 'packages', i], 'recipe.dynamo-wheels', `"${p}" has no wheel in dynamoSource.wheels`, `wheels: ${wheels.map((w) => w.name).join(', ') || 'none'}`);
    });
  }
}

/** The devel image of the toolkit, when the recipe imports from it. */
function develImage(s: Resolving): void {
  const { recipe, data, err, archs, cuda } = s;
  const { base } = s.recipe;
  // The devel image of the toolkit, when the recipe imports from it: the table row for the CUDA
  // version and OS (ubuntu24.04 on an upstream engine image) that has every platform.
  const develAt = recipe.imports.findIndex((i) => i.image === 'devel');
  if (develAt >= 0) {
    const develOs = base.os ?? 'ubuntu24.04';
    const hit = cuda ? data.baseImages.images.find((i) => i.cuda === cuda && i.os === develOs && archs.every((a) => i.architectures.includes(a))) : undefined;
    if (!cuda) err(['imports', develAt, 'image'], 'recipe.imports-devel', '"devel" is the CUDA devel image of the toolkit, but the recipe names no CUDA version', 'set base.cuda, or name the image');
    else if (!hit) err(['imports', develAt, 'image'], 'recipe.imports-devel', `base-images.yaml has no CUDA ${cuda} devel image for ${develOs} on ${archs.join(', ')}`, 'name the image instead of "devel"');
    else s.develImage = hit.devel;
  }
}

/** The resolution, as named rules in order: each reads what the ones before it decided. */
export const RESOLVE_RULES: readonly { name: string; run: (s: Resolving) => void }[] = [
  { name: 'engineSource', run: engineSource },
  { name: 'pythonNeeded', run: pythonNeeded },
  { name: 'versions', run: versions },
  { name: 'imageTag', run: imageTag },
  { name: 'wheelVersion', run: wheelVersion },
  { name: 'baseImages', run: baseImages },
  { name: 'dynamoWheels', run: dynamoWheels },
  { name: 'develImage', run: develImage },
];

export function resolveRecipe(recipe: Recipe, data: SupportData, opts: ResolveOptions): { resolution: Resolution | null; issues: Issue[] } {
  const issues: Issue[] = [];
  const warnings: Issue[] = [];
  const err = (path: (string | number)[], code: IssueCode, message: string, hint?: string) =>
    void issues.push({ code, severity: 'error', file: opts.file, ...opts.locate(path), path, message, ...(hint ? { hint } : {}) });
  const s: Resolving = { recipe, data, opts, fw: recipe.engine.framework, archs: recipe.base.platforms.map((p) => ARCH_OF[p]!), cuda: recipe.base.cuda ?? null, issues, warnings, err, engineVersion: null, dynamoVersion: null, row: null, status: 'not-applicable', baseOut: null, engineImage: null, develImage: null };
  for (const rule of RESOLVE_RULES) rule.run(s);
  const { fw, cuda, engineVersion, dynamoVersion, row, status, baseOut, engineImage, develImage } = s;
  const { engine } = recipe;
  if (issues.length > 0 || !baseOut || !engineVersion) return { resolution: null, issues: [...issues, ...warnings] };
  const fwInfo = fw === 'custom' ? undefined : data.matrix.frameworks[fw];
  // The release's NIXL and UCX: the row's, or (where --allow-unsupported left no row) the release's.
  const release = dynamoVersion ? data.matrix.releases.find((x) => x.dynamo === dynamoVersion) : undefined;
  const nixl = row?.nixl ?? (release && fw !== 'custom' ? (release.nixl[fw] ?? release.nixl['default'] ?? null) : null);
  const ucx = row?.ucx ?? release?.ucx ?? null;
  return {
    resolution: {
      engineVersion,
      dynamoVersion,
      cuda,
      minDriver: cuda ? (data.matrix.cuda[cuda]?.minDriver ?? null) : null,
      row,
      status,
      base: baseOut,
      engineImage,
      develImage,
      enginePackage: engine.index ? (engine.index.requirement ?? fwInfo?.package ?? null) : null,
      engineIndex: engine.index ? (engine.index.url ?? fwInfo?.index ?? 'https://pypi.org/simple') : null,
      nixl,
      ucx,
      warnings,
    },
    issues: warnings,
  };
}

/** The first PEP 440 version in an image tag (`v0.21.0-cu129-ubuntu2404` -> 0.21.0), if any. */
export function versionInTag(tag: string): { text: string; version: Pep440Version } | null {
  const m = /(?:^|[^0-9A-Za-z])v?(\d+(?:\.\d+)+(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?)(?![0-9])/.exec(tag);
  if (!m) return null;
  const v = parsePep440(m[1]!);
  return v ? { text: m[1]!, version: v } : null;
}
