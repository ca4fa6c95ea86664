import { comparePep440, normalizePep440, parsePep440 } from '../versions/pep440.js';
import { MATRIX_FRAMEWORKS, type MatrixFramework } from '../domain/frameworks.js';

// Dynamo's machine-readable release data (its docs' `fern/assets/releases.json`: `releases[]`
// with `pins` per engine and NIXL, `ucx`, `kind`; `cudaHistory[]` with a toolkit per release and
// backend) -> the releases the support matrix holds. Pure. Read as hostile input: every field used
// is checked, and a problem names its JSON path; nothing partial comes out.

/** Larger than the real file (62 KB at 1.4.0) by far; anything bigger is refused before parsing. */
export const MAX_RELEASE_DATA_BYTES = 4 << 20;

/** Release kinds that shipped as GA artifacts; previews and model builds are not support rows. */
const GA_KINDS = new Set(['stable', 'patch']);
const SKIPPED_KINDS = new Set(['platform-preview', 'model-build', 'rc', 'preview']);

const BACKENDS: Record<string, MatrixFramework> = { vLLM: 'vllm', SGLang: 'sglang', 'TensorRT-LLM': 'trtllm' };
const PIN_KEYS: Record<MatrixFramework, { engine: string; nixl: string }> = {
  vllm: { engine: 'vllm', nixl: 'nixlVllm' },
  sglang: { engine: 'sglang', nixl: 'nixlSglang' },
  trtllm: { engine: 'trtllm', nixl: 'nixlTrtllm' },
};

export interface ImportedRelease {
  dynamo: string;
  kind: string;
  date: string | null;
  ucx: string | null;
  nixl: Record<MatrixFramework, string>;
  engines: Record<MatrixFramework, { version: string; cuda: Record<string, 'supported' | 'experimental'> | null }>;
}

export interface ReleaseData {
  /** The data's own date (`updated`). */
  updated: string | null;
  releases: ImportedRelease[];
  /** Releases of other kinds (previews, model builds): named, not imported. */
  skipped: string[];
  /** toolkit -> minimum driver major, as the data says (`580.xx+` -> 580). */
  minDrivers: Record<string, string>;
}

export class ReleaseDataError extends Error {
  constructor(readonly problems: { path: string; message: string }[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  }
}

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `v1.7.0` / `1.7.0` -> `1.7.0` (normalised PEP 440), or null. */
function releaseVersion(text: string): string | null {
  const v = parsePep440(text.replace(/^v/, ''));
  return v ? normalizePep440(v) : null;
}

/** `1.7.0.post1` -> `1.7.0`: patch trains have their base version's CUDA support (the data's cudaNotes). */
function baseOf(version: string): string {
  return version.replace(/\.post\d+$/, '');
}

export function readReleaseData(bytes: Buffer): ReleaseData {
  if (bytes.length > MAX_RELEASE_DATA_BYTES)
    throw new ReleaseDataError([{ path: '$', message: `is ${bytes.length} bytes, more than release data ever is (limit ${MAX_RELEASE_DATA_BYTES})` }]);
  let root: Json;
  try {
    root = JSON.parse(bytes.toString('utf8')) as Json;
  } catch (e) {
    throw new ReleaseDataError([{ path: '$', message: `is not JSON: ${(e as Error).message}` }]);
  }
  const problems: { path: string; message: string }[] = [];
  const bad = (path: string, message: string) => problems.push({ path, message });
  if (!isObj(root)) throw new ReleaseDataError([{ path: '$', message: 'must be an object with releases and cudaHistory' }]);
  const updated = root['updated'];
  if (updated !== undefined && (typeof updated !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(updated))) bad('$.updated', 'must be a date, YYYY-MM-DD');
  if (!Array.isArray(root['releases'])) bad('$.releases', 'must be an array');
  if (!Array.isArray(root['cudaHistory'])) bad('$.cudaHistory', 'must be an array');
  if (problems.length) throw new ReleaseDataError(problems);

  // CUDA per release and framework.
  const cuda = new Map<string, Record<MatrixFramework, Record<string, 'supported' | 'experimental'>>>();
  const minDrivers: Record<string, string> = {};
  (root['cudaHistory'] as Json[]).forEach((c, i) => {
    const p = `$.cudaHistory[${i}]`;
    if (!isObj(c)) return bad(p, 'must be an object');
    const version = typeof c['version'] === 'string' ? releaseVersion(c['version']) : null;
    if (!version) return bad(`${p}.version`, `${JSON.stringify(c['version'])} is not a PEP 440 version`);
    const fw = typeof c['backend'] === 'string' ? BACKENDS[c['backend']] : undefined;
    if (!fw) return bad(`${p}.backend`, `${JSON.stringify(c['backend'])} is not a framework this tool knows (${Object.keys(BACKENDS).join(', ')})`);
    const tk = c['toolkit'];
    if (typeof tk !== 'string' || !/^\d{1,2}\.\d{1,2}$/.test(tk))
      return bad(`${p}.toolkit`, `${JSON.stringify(tk)} is not a CUDA toolkit version (MAJOR.MINOR)`);
    const drv = c['minDriver'];
    const m = typeof drv === 'string' ? /^(\d{3})(\.xx\+?|\.\d+(\.\d+)?)?\+?$/.exec(drv) : null;
    if (!m) return bad(`${p}.minDriver`, `${JSON.stringify(drv)} is not a driver version (e.g. 580.xx+)`);
    if (minDrivers[tk] !== undefined && minDrivers[tk] !== m[1])
      return bad(`${p}.minDriver`, `CUDA ${tk} needs driver ${m[1]} here and ${minDrivers[tk]} elsewhere`);
    minDrivers[tk] = m[1]!;
    if (c['note'] !== undefined && typeof c['note'] !== 'string') return bad(`${p}.note`, 'must be a string');
    const status = typeof c['note'] === 'string' && /experimental/i.test(c['note']) ? 'experimental' : 'supported';
    const entry = cuda.get(version) ?? { vllm: {}, sglang: {}, trtllm: {} };
    if (entry[fw][tk] !== undefined) return bad(p, `CUDA ${tk} for ${c['backend'] as string} ${version} is listed twice`);
    entry[fw][tk] = status;
    cuda.set(version, entry);
  });

  const releases: ImportedRelease[] = [];
  const skipped: string[] = [];
  const seen = new Map<string, number>();
  (root['releases'] as Json[]).forEach((r, i) => {
    const p = `$.releases[${i}]`;
    if (!isObj(r)) return bad(p, 'must be an object');
    const version = typeof r['version'] === 'string' ? releaseVersion(r['version']) : null;
    const kind = r['kind'];
    if (typeof kind !== 'string') return bad(`${p}.kind`, 'must be a string (stable, patch, platform-preview, model-build)');
    if (!GA_KINDS.has(kind)) {
      if (!SKIPPED_KINDS.has(kind)) return bad(`${p}.kind`, `${JSON.stringify(kind)} is not a release kind (stable, patch, platform-preview, model-build)`);
      skipped.push(typeof r['version'] === 'string' ? r['version'] : `#${i}`);
      return;
    }
    if (!version) return bad(`${p}.version`, `${JSON.stringify(r['version'])} is not a PEP 440 version`);
    const dup = seen.get(version);
    if (dup !== undefined) return bad(`${p}.version`, `${version} is listed twice (also $.releases[${dup}])`);
    seen.set(version, i);
    const pins = r['pins'];
    if (!isObj(pins)) return bad(`${p}.pins`, 'must be an object');
    for (const k of Object.keys(pins))
      if (!Object.values(PIN_KEYS).some((x) => x.engine === k || x.nixl === k))
        bad(`${p}.pins.${k}`, `is not a framework or NIXL pin this tool knows (${MATRIX_FRAMEWORKS.join(', ')})`);
    const engines = {} as ImportedRelease['engines'];
    const nixl = {} as ImportedRelease['nixl'];
    for (const fw of MATRIX_FRAMEWORKS) {
      const keys = PIN_KEYS[fw];
      const ev = pins[keys.engine];
      const nv = pins[keys.nixl];
      const evn = typeof ev === 'string' ? parsePep440(ev) : null;
      const nvn = typeof nv === 'string' ? parsePep440(nv) : null;
      if (!evn) bad(`${p}.pins.${keys.engine}`, `${JSON.stringify(ev)} is not a PEP 440 version`);
      if (!nvn) bad(`${p}.pins.${keys.nixl}`, `${JSON.stringify(nv)} is not a PEP 440 version`);
      if (!evn || !nvn) continue;
      const ownCuda = cuda.get(version)?.[fw];
      const baseCuda = cuda.get(baseOf(version))?.[fw];
      const c = ownCuda && Object.keys(ownCuda).length ? ownCuda : baseCuda && Object.keys(baseCuda).length ? baseCuda : null;
      engines[fw] = { version: ev as string, cuda: c ? sortCuda(c) : null };
      nixl[fw] = nv as string;
    }
    const ucx = r['ucx'];
    if (ucx !== undefined && (typeof ucx !== 'string' || !/^\d+\.\d+(\.(\d+|x))?$/.test(ucx)))
      bad(`${p}.ucx`, `${JSON.stringify(ucx)} is not a UCX version (1.21.x, 1.20.0)`);
    const date = r['dateIso'];
    if (date !== undefined && (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date))) bad(`${p}.dateIso`, 'must be a date, YYYY-MM-DD');
    if (Object.keys(engines).length === MATRIX_FRAMEWORKS.length)
      releases.push({ dynamo: version, kind, date: typeof date === 'string' ? date : null, ucx: typeof ucx === 'string' ? ucx : null, nixl, engines });
  });
  if (problems.length) throw new ReleaseDataError(problems);
  releases.sort((a, b) => comparePep440(parsePep440(b.dynamo)!, parsePep440(a.dynamo)!));
  return { updated: typeof updated === 'string' ? updated : null, releases, skipped, minDrivers };
}

function sortCuda(c: Record<string, 'supported' | 'experimental'>): Record<string, 'supported' | 'experimental'> {
  return Object.fromEntries(
    Object.entries(c).sort(([a], [b]) => Number(a.split('.')[0]) - Number(b.split('.')[0]) || Number(a.split('.')[1]) - Number(b.split('.')[1])),
  );
}
