import { comparePep440, parsePep440 } from '../versions/pep440.js';
import { globMatch } from './cuda-variant.js';

// The overlay leaves the engine alone (issue 24, point 3): the Python distributions and Debian
// packages of the engine image against the image built over it. Pure.

export interface Installed {
  kind: 'python' | 'dpkg';
  name: string;
  version: string;
  /** Where: the dist-info folder's parent (site-packages), or dpkg's status. */
  where: string;
}

export interface OverlayDelta {
  added: Installed[];
  removed: Installed[];
  changed: (Installed & { from: string; direction: 'upgraded' | 'downgraded' | 'changed' })[];
  /** Engine-owned names installed again somewhere else (a second copy that shadows the engine's). */
  shadowed: (Installed & { engineVersion: string; engineWhere: string })[];
  layers: { createdBy: string; bytes: number }[];
}

const key = (i: Installed) => `${i.kind}:${i.name}:${i.where}`;

function direction(kind: Installed['kind'], from: string, to: string): 'upgraded' | 'downgraded' | 'changed' {
  if (kind !== 'python') return 'changed';
  const a = parsePep440(from);
  const b = parsePep440(to);
  if (!a || !b) return 'changed';
  const c = comparePep440(b, a);
  return c > 0 ? 'upgraded' : c < 0 ? 'downgraded' : 'changed';
}

export function overlayDelta(engine: Installed[], result: Installed[], layers: { createdBy: string; bytes: number }[]): OverlayDelta {
  const before = new Map(engine.map((i) => [key(i), i]));
  const after = new Map(result.map((i) => [key(i), i]));
  const delta: OverlayDelta = { added: [], removed: [], changed: [], shadowed: [], layers };
  for (const [k, i] of before) {
    const now = after.get(k);
    if (!now) delta.removed.push(i);
    else if (now.version !== i.version) delta.changed.push({ ...now, from: i.version, direction: direction(i.kind, i.version, now.version) });
  }
  for (const [k, i] of after) {
    if (before.has(k)) continue;
    const owned = engine.find((e) => e.kind === i.kind && e.name === i.name);
    if (owned) delta.shadowed.push({ ...i, engineVersion: owned.version, engineWhere: owned.where });
    else delta.added.push(i);
  }
  return delta;
}

/** What the overlay did to packages the engine image owns, minus what the recipe allows; one line each. */
export function overlayViolations(d: OverlayDelta, allow: { name: string; reason: string }[]): string[] {
  const ok = (name: string, kind: Installed['kind']) =>
    allow.some((a) => globMatch(kind === 'python' ? a.name.toLowerCase().replace(/[-_.]+/g, '-') : a.name, name));
  return [
    ...d.removed.filter((i) => !ok(i.name, i.kind)).map((i) => `${i.kind} ${i.name} ${i.version} removed (from ${i.where})`),
    ...d.changed.filter((i) => !ok(i.name, i.kind)).map((i) => `${i.kind} ${i.name} ${i.direction}: ${i.from} -> ${i.version} (${i.where})`),
    ...d.shadowed
      .filter((i) => !ok(i.name, i.kind))
      .map((i) => `${i.kind} ${i.name} ${i.version} installed again at ${i.where}, beside the engine's ${i.engineVersion} at ${i.engineWhere}`),
  ];
}
