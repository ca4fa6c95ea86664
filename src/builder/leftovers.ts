import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ContainerSummary, Engine } from '../engine/port.js';
import { BUILDER_LABEL } from '../plan/build-plan.js';
import { trustedFolder, writeExclusive } from '../plan/cache-trust.js';
import { cacheDir } from '../plan/digest-cache.js';

// The classic builder runs each RUN in a container it removes afterwards; when the engine dies
// mid-RUN the container survives the restart (exited, with whatever code the restore gives it:
// 0, 137 and 255 were all seen). Classic builds label every stage (from-plan.ts), so those
// containers carry BUILDER_LABEL=classic, and the next build removes the ones no live build owns.
//
// Which build owns a container cannot be read from it (a per-build label would defeat the layer
// cache), so each classic build in flight is registered in the cache folder, per engine: when no
// other registered build is alive, every labelled container that does not run is a leftover; when
// one is, only those that cannot be a step in progress (see staleStepContainers).

/** A live build's step container may sit exited (0) while it is committed, or created before it starts. */
export const LIVE_GRACE_MS = 60 * 60 * 1000;

/**
 * Which labelled containers are leftovers. Never one that runs. `othersBuilding`: another classic
 * build may be in flight on this engine (or that cannot be known): then only a container that
 * failed (non-zero exit), is dead, or has sat for an hour. Pure.
 */
export function staleStepContainers(list: ContainerSummary[], nowMs: number, othersBuilding: boolean): ContainerSummary[] {
  return list.filter((c) => {
    if (c.state !== 'exited' && c.state !== 'dead' && c.state !== 'created') return false;
    if (!othersBuilding || c.state === 'dead') return true;
    if (c.state === 'exited') return c.exitCode !== 0 || nowMs - (c.finishedMs ?? c.createdMs) > LIVE_GRACE_MS;
    return nowMs - c.createdMs > LIVE_GRACE_MS;
  });
}

function registryDir(endpoint: string): string {
  return path.join(cacheDir(), 'classic-builds', createHash('sha256').update(endpoint).digest('hex').slice(0, 16));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether another classic build is registered as in flight on this engine: true when one is (or
 * the folder cannot be trusted, so nothing in it proves the contrary). A registration of this
 * machine whose process is gone is deleted.
 */
async function othersBuilding(endpoint: string): Promise<boolean> {
  const dir = registryDir(endpoint);
  if (await trustedFolder(dir, cacheDir())) return true;
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  } catch {
    return true;
  }
  let live = false;
  for (const n of names) {
    let entry: { pid?: unknown; host?: unknown };
    try {
      entry = JSON.parse(await readFile(path.join(dir, n), 'utf8')) as { pid?: unknown; host?: unknown };
    } catch {
      live = true; // being written, or not ours to judge
      continue;
    }
    if (entry.host === os.hostname() && typeof entry.pid === 'number' && !alive(entry.pid)) await unlink(path.join(dir, n)).catch(() => undefined);
    else live = true;
  }
  return live;
}

/** Registers this process's classic build on the engine; returns the function that ends it. */
export async function registerClassicBuild(endpoint: string): Promise<() => Promise<void>> {
  const dir = registryDir(endpoint);
  // An untrusted folder: others cannot rely on what is in it anyway (othersBuilding says true).
  if (await trustedFolder(dir, cacheDir())) return async () => undefined;
  const file = path.join(dir, `${process.pid}-${randomBytes(6).toString('hex')}.json`);
  await writeExclusive(file, JSON.stringify({ pid: process.pid, host: os.hostname(), startedMs: Date.now() }));
  return () => unlink(file).catch(() => undefined);
}

/** Removes leftover step containers; returns their ids. Failures to remove are reported, not thrown. */
export async function removeLeftovers(engine: Engine, endpoint: string, note: (text: string) => void, nowMs = Date.now()): Promise<string[]> {
  const labelled = await engine.listContainers({ [BUILDER_LABEL]: 'classic' });
  if (!labelled.length) return [];
  const stale = staleStepContainers(labelled, nowMs, await othersBuilding(endpoint));
  const removed: string[] = [];
  for (const c of stale) {
    try {
      await engine.removeContainer(c.id);
      removed.push(c.id);
    } catch (e) {
      note(`could not remove container ${c.id.slice(0, 12)} left by an interrupted classic build: ${(e as Error).message}`);
    }
  }
  if (removed.length)
    note(
      `removed ${removed.length} container${removed.length > 1 ? 's' : ''} left by an interrupted classic build (${removed.map((id) => id.slice(0, 12)).join(', ')})`,
    );
  return removed;
}
