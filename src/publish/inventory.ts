import type { DebPackage, ImageInventory, PythonDist } from '../attest/facts.js';
import type { Engine } from '../engine/port.js';
import { SMOKE_LABEL } from '../smoke/gpu.js';

// What is installed in an image, read from its filesystem through the engine (a container that is
// created, never started, walked and removed): dpkg's status file and every Python .dist-info's
// METADATA. Nothing in the image runs, and what it holds is input to parse, not to trust: sizes
// are capped and fields checked.

const DPKG_STATUS = 'var/lib/dpkg/status';
const DIST_INFO = /(^|\/)([^/]+)\.dist-info\/METADATA$/;

export async function inventoryImage(engine: Engine, imageId: string, signal: AbortSignal): Promise<ImageInventory> {
  const c = await engine.createContainer({
    image: imageId,
    entrypoint: ['/dynamo-image-inventory-never-runs'],
    cmd: [],
    labels: { [SMOKE_LABEL]: 'sbom inventory' },
  });
  const debs: DebPackage[] = [];
  const python: PythonDist[] = [];
  try {
    await c.walkFiles(
      (e) => (e.type !== 'file' ? null : e.path === DPKG_STATUS ? 64 << 20 : DIST_INFO.test(e.path) ? 256 << 10 : null),
      (e, head) => {
        if (e.path === DPKG_STATUS) debs.push(...parseDpkgStatus(head.toString('utf8')));
        else {
          const d = parseDistMetadata(head.toString('utf8'));
          if (d) python.push({ ...d, path: e.path.replace(/\/METADATA$/, '') });
        }
      },
      signal,
    );
  } finally {
    await c.remove();
  }
  debs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  python.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { debs, python };
}

const FIELD = /^[A-Za-z0-9-]{1,64}$/;
const VALUE = /^[^\s]{1,256}$/;

/** Installed packages from dpkg's status file (paragraphs of `Field: value`). */
export function parseDpkgStatus(text: string): DebPackage[] {
  const out: DebPackage[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    for (const line of para.split('\n')) {
      const m = /^([^:\s]+):\s*(.*)$/.exec(line);
      if (m && FIELD.test(m[1]!)) f.set(m[1]!.toLowerCase(), m[2]!.trim());
    }
    const name = f.get('package');
    const version = f.get('version');
    if (!name || !version || !VALUE.test(name) || !VALUE.test(version)) continue;
    if (!/\binstall ok installed\b/.test(f.get('status') ?? '')) continue;
    const source = (f.get('source') ?? '').split(/\s/)[0] ?? '';
    const architecture = f.get('architecture') ?? '';
    out.push({
      name,
      version,
      architecture: VALUE.test(architecture) ? architecture : '',
      source: source && source !== name && VALUE.test(source) ? source : null,
    });
  }
  return out;
}

/** Name and Version from a distribution's METADATA headers (the lines before the first blank one). */
export function parseDistMetadata(text: string): { name: string; version: string } | null {
  const headers = text.split(/\r?\n\r?\n/)[0] ?? '';
  const get = (k: string) => new RegExp(`^${k}:[ \\t]*(\\S+)[ \\t]*$`, 'mi').exec(headers)?.[1] ?? null;
  const name = get('Name');
  const version = get('Version');
  if (!name || !version || !/^[A-Za-z0-9._-]{1,200}$/.test(name) || !/^[A-Za-z0-9.!+_-]{1,100}$/.test(version)) return null;
  return { name, version };
}
