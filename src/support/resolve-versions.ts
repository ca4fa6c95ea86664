import { comparePep440, parsePep440, pickHighest, satisfies } from '../versions/pep440.js';
import type { MatrixFramework } from '../domain/frameworks.js';
import { type MatrixRow } from './schema.js';
import { exactOf, spec, type Resolving } from './resolve-state.js';

// The resolution's central rule: the recipe's engine, Dynamo, CUDA, Python and platforms against
// the support matrix's rows; the row, the pins and the status, or the reason none fits.

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
function newestFitting(
  rows: MatrixRow[],
  m: { matchEng: RowTest; matchCuda: RowTest; matchPy: RowTest; matchArch: RowTest },
  wanted: string,
  cuda: string,
): string {
  const newest = (rs: MatrixRow[]) =>
    [...rs].sort((a, b) => comparePep440(parsePep440(b.dynamo)!, parsePep440(a.dynamo)!) || comparePep440(parsePep440(b.engine)!, parsePep440(a.engine)!))[0];
  const fit = newest(rows.filter((r) => m.matchEng(r) && m.matchCuda(r) && m.matchPy(r) && m.matchArch(r)));
  if (fit) return `the newest release that fits ${wanted} on CUDA ${cuda}: dynamo: "${fit.dynamo}" (${fit.framework} ${fit.engine})`;
  const onCuda = newest(rows.filter((r) => m.matchCuda(r) && m.matchPy(r) && m.matchArch(r)));
  if (onCuda)
    return `no release fits ${wanted} on CUDA ${cuda}; the newest on CUDA ${cuda}: dynamo: "${onCuda.dynamo}" with ${onCuda.framework} ${onCuda.engine}`;
  return `no release ships ${rows[0]?.framework ?? 'this framework'} on CUDA ${cuda} for this Python and these platforms`;
}

/** Versions against the support matrix: the row, the pins, the status. */
export function versions(s: Resolving): void {
  const { recipe, data, opts, err, issues, warnings, archs, fw, cuda } = s;
  const { engine } = s.recipe;
  const engineSpec = spec(engine.version);
  s.dynamoVersion = recipe.dynamo ? exactOf(spec(recipe.dynamo)) : null;

  if (fw === 'custom') {
    s.engineVersion = exactOf(engineSpec);
    if (!s.engineVersion)
      err(['engine', 'version'], 'recipe.version-not-exact', `"${engine.version}" is a range; a custom engine needs its exact version`, 'e.g. "0.1.0"');
    if (recipe.dynamo && !s.dynamoVersion) {
      const known = data.matrix.releases.map((r) => r.dynamo);
      s.dynamoVersion = pickHighest(known, spec(recipe.dynamo));
      if (!s.dynamoVersion) err(['dynamo'], 'matrix.dynamo-unknown', `no Dynamo release matches "${recipe.dynamo}"`, `known: ${known.join(', ')}`);
    }
  } else {
    const mfw = fw as MatrixFramework;
    const fwRows = data.rows.filter((r) => r.framework === mfw);
    if (!recipe.dynamo)
      err(
        ['engine', 'framework'],
        'recipe.dynamo-missing',
        `framework "${fw}" needs the Dynamo runtime version (top-level "dynamo")`,
        `e.g. dynamo: "${data.matrix.releases[0]?.dynamo}"`,
      );
    if (!cuda)
      err(
        ['base'],
        'recipe.cuda-missing',
        `framework "${fw}" needs base.cuda to check the support matrix`,
        `${fw} images exist for CUDA ${[...new Set(fwRows.map((r) => r.cuda))].sort().join(', ')}`,
      );
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
        warnings.push({
          code: 'matrix.unsupported',
          severity: 'warning',
          file: opts.file,
          ...opts.locate(path),
          path,
          message: `${message} (allowed by --allow-unsupported)`,
          hint,
        });
        s.status = 'unsupported';
        // The engine of the Dynamo release asked for first (a newer release's engine would not
        // match that release's wheels), then any release's.
        const ofRelease = recipe.dynamo ? fwRows.filter((r) => satisfies(r.dynamo, spec(recipe.dynamo!))) : [];
        s.engineVersion =
          exactOf(engineSpec) ??
          pickHighest(
            ofRelease.map((r) => r.engine),
            engineSpec,
          ) ??
          pickHighest(
            fwRows.map((r) => r.engine),
            engineSpec,
          );
        s.dynamoVersion =
          exactOf(spec(recipe.dynamo)) ??
          pickHighest(
            fwRows.map((r) => r.dynamo),
            spec(recipe.dynamo),
          );
        if (!s.engineVersion)
          err(
            ['engine', 'version'],
            'matrix.unpinnable',
            `"${engine.version}" matches no known ${fw} version, so it cannot be pinned`,
            'give an exact version',
          );
        if (!s.dynamoVersion)
          err(['dynamo'], 'matrix.unpinnable', `"${recipe.dynamo}" matches no known Dynamo release, so it cannot be pinned`, 'give an exact version');
      } else {
        issues.push({
          code: 'matrix.unsupported',
          severity: 'error',
          file: opts.file,
          ...opts.locate(path),
          path,
          message,
          hint: `${hint}; --allow-unsupported builds it anyway`,
        });
      }
    }
  }
}
