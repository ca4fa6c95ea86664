import { comparePep440, parsePep440, type Pep440Version } from '../versions/pep440.js';
import { installsPython } from '../recipe/python-needed.js';
import { normalizeDist, wheelNameVersion } from '../versions/wheel-name.js';
import { engineImageFor } from './schema.js';
import { type Resolving } from './resolve-state.js';
import { versions } from './resolve-versions.js';

// The resolution as named rules, in order; each reads what the ones before it decided.

/** Engine source: exactly one of wheel, index, binary, image. */
function engineSource(s: Resolving): void {
  const { err, fw } = s;
  const { engine } = s.recipe;
  const sources = (['wheel', 'index', 'binary', 'image'] as const).filter((k) => engine[k] !== undefined);
  if (sources.length === 0)
    err(['engine'], 'recipe.engine-source', 'names no engine source', 'set exactly one of engine.wheel, engine.index, engine.binary, engine.image');
  if (sources.length > 1)
    err(
      ['engine', sources[1]!],
      'recipe.engine-source',
      `has ${sources.length} engine sources (${sources.join(', ')}); they are mutually exclusive`,
      'keep exactly one',
    );
  if (engine.binary && fw !== 'custom') err(['engine', 'binary'], 'recipe.engine-source', `a binary engine needs framework "custom" (got "${fw}")`);
}

/** Python: the venv's, when anything Python is installed (and for the frameworks' rows). */
function pythonNeeded(s: Resolving): void {
  const { recipe, err, fw } = s;
  if (recipe.python === undefined && (installsPython(recipe) || fw !== 'custom'))
    err(
      ['python'],
      'recipe.python-missing',
      `is needed: ${fw !== 'custom' ? `framework "${fw}" is matched against the support matrix by Python version` : 'the recipe installs Python packages into a venv (an engine wheel or index, dependencies or Dynamo)'}`,
      'e.g. python: "3.12"; an engine that is a binary or already in the base image, with nothing Python to install, needs none',
    );
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
      if (fw === 'custom')
        issues.push({
          code: 'recipe.image-version',
          severity: 'warning',
          file: opts.file,
          ...opts.locate(['engine', 'version']),
          path: ['engine', 'version'],
          message: text,
          hint,
        });
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
        err(
          ['engine', 'version'],
          'recipe.wheel-version',
          `pins ${s.engineVersion} but the wheel ${fileName} is version ${m[2]}`,
          `set engine.version: "${m[2]}"`,
        );
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
    if (!s.engineImage && tmpl && s.engineVersion && cuda)
      s.engineImage = engineImageFor(tmpl, s.engineVersion, cuda, (v, since) => comparePep440(parsePep440(v)!, parsePep440(since)!) >= 0);
    // For vllm/sglang/trtllm the ref comes from the template once version and CUDA resolve; when
    // they do not, that error is already reported and this one would only repeat it.
    if (!s.engineImage && fw === 'custom')
      err(['engine', 'image'], 'recipe.engine-image', 'needs "ref" for a custom framework', 'e.g. image: { ref: "registry.example.com/my-engine:1.0" }');
    else if (s.engineImage) s.baseOut = { runtime: s.engineImage, builder: s.engineImage, source: 'engine-image', os, pythonIncluded: true };
  } else if (base.image) {
    s.baseOut = { runtime: base.image, builder: base.image, source: 'explicit', os, pythonIncluded: base.pythonIncluded ?? true };
  } else if (cuda) {
    const candidates = data.baseImages.images.filter((i) => i.cuda === cuda);
    const hit = candidates.find((i) => i.os === os && archs.every((a) => i.architectures.includes(a)));
    if (!hit) {
      const forOs = candidates.find((i) => i.os === os);
      if (forOs)
        err(
          ['base', 'platforms'],
          'baseimage.arch',
          `CUDA ${cuda} on ${os} has no ${archs.filter((a) => !forOs.architectures.includes(a)).join(', ')} image`,
          `${os} images: ${forOs.architectures.join(', ')}; arm64 needs ubuntu24.04`,
        );
      else if (candidates.length)
        err(['base', 'os'], 'baseimage.os', `no CUDA ${cuda} base image for ${os}`, `available: ${candidates.map((c) => c.os).join(', ')}`);
      else
        err(
          ['base', 'cuda'],
          'baseimage.cuda',
          `no base image for CUDA ${cuda}`,
          `available: ${[...new Set(data.baseImages.images.map((i) => i.cuda))].join(', ')}`,
        );
    } else {
      const ref = hit.digest ? `${hit.runtime}@${hit.digest}` : hit.runtime;
      s.baseOut = { runtime: ref, builder: ref, source: 'table', os, pythonIncluded: false };
      if (recipe.python !== undefined && hit.python !== recipe.python)
        err(
          ['python'],
          'baseimage.python',
          `${os} provides Python ${hit.python}, not ${recipe.python}`,
          `set python: "${hit.python}"${
            data.baseImages.images.some((i) => i.cuda === cuda && i.python === recipe.python)
              ? ` or choose the os with Python ${recipe.python}: ${data.baseImages.images
                  .filter((i) => i.cuda === cuda && i.python === recipe.python)
                  .map((i) => i.os)
                  .join(', ')}`
              : ''
          }`,
        );
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
  if (ds && !recipe.dynamo)
    err(
      ['dynamoSource'],
      'recipe.dynamo-wheels',
      'says where the Dynamo wheels come from, but the recipe installs no Dynamo',
      'set dynamo: "<version>", or leave dynamoSource out',
    );
  if (ds?.wheels && s.dynamoVersion) {
    const wheels = ds.wheels.map((w) => wheelNameVersion(w.path));
    wheels.forEach((w, i) => {
      const v = parsePep440(w.version);
      if (!v || comparePep440(v, parsePep440(s.dynamoVersion!)!) !== 0)
        err(
          ['dynamoSource', 'wheels', i, 'path'],
          'recipe.dynamo-wheels',
          `is version ${w.version || '(none)'}, but dynamo is ${s.dynamoVersion}`,
          'every Dynamo wheel carries the dynamo version',
        );
    });
    ds.packages.forEach((p, i) => {
      const name = normalizeDist(p.replace(/\[.*$/, ''));
      if (!wheels.some((w) => w.name === name))
        err(
          ['dynamoSource', 'packages', i],
          'recipe.dynamo-wheels',
          `"${p}" has no wheel in dynamoSource.wheels`,
          `wheels: ${wheels.map((w) => w.name).join(', ') || 'none'}`,
        );
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
    if (!cuda)
      err(
        ['imports', develAt, 'image'],
        'recipe.imports-devel',
        '"devel" is the CUDA devel image of the toolkit, but the recipe names no CUDA version',
        'set base.cuda, or name the image',
      );
    else if (!hit)
      err(
        ['imports', develAt, 'image'],
        'recipe.imports-devel',
        `base-images.yaml has no CUDA ${cuda} devel image for ${develOs} on ${archs.join(', ')}`,
        'name the image instead of "devel"',
      );
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

/** The first PEP 440 version in an image tag (`v0.21.0-cu129-ubuntu2404` -> 0.21.0), if any. */
export function versionInTag(tag: string): { text: string; version: Pep440Version } | null {
  const m = /(?:^|[^0-9A-Za-z])v?(\d+(?:\.\d+)+(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?)(?![0-9])/.exec(tag);
  if (!m) return null;
  const v = parsePep440(m[1]!);
  return v ? { text: m[1]!, version: v } : null;
}
