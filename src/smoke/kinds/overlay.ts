import type { FsEntry } from '../../engine/port.js';
import { distInfoOf, dpkgPackages } from '../cuda-variant.js';
import { overlayDelta, overlayViolations, type Installed, type OverlayDelta } from '../overlay.js';
import type { SmokeTest } from '../../recipe/schema.js';
import { baseSpec, Failure, withContainer, type Ctx } from '../context.js';

// The overlay: the engine image's packages against the result's.

/** Python distributions and Debian packages in an image, read through its export. */
async function installedIn(ctx: Ctx, image: string, t: SmokeTest, signal: AbortSignal): Promise<Installed[]> {
  return withContainer(ctx, { ...baseSpec(ctx, { ...t, gpu: false }), image, entrypoint: ['/nonexistent-never-started'] }, async (c) => {
    const want = (e: FsEntry) =>
      e.type === 'directory' && /\.dist-info\/?$/.test(e.path) ? 0 : e.path === 'var/lib/dpkg/status' && e.type === 'file' ? 64 << 20 : null;
    const out: Installed[] = [];
    await c.walkFiles(
      want,
      (entry, head) => {
        if (entry.type === 'directory') {
          const p = entry.path.replace(/\/$/, '');
          const d = distInfoOf(p.slice(p.lastIndexOf('/') + 1));
          if (d) out.push({ kind: 'python', name: d.name, version: d.version, where: `/${p.slice(0, p.lastIndexOf('/'))}` });
        } else for (const p of dpkgPackages(head.toString('utf8'))) out.push({ kind: 'dpkg', name: p.name, version: p.version, where: '/var/lib/dpkg/status' });
      },
      signal,
    );
    return out;
  });
}

export async function runOverlay(ctx: Ctx, t: Extract<SmokeTest, { kind: 'overlay' }>, signal: AbortSignal): Promise<OverlayDelta> {
  const against = t.against ?? ctx.image.labels['org.opencontainers.image.base.name'];
  if (!against)
    throw new Failure('no engine image to compare with: the image has no org.opencontainers.image.base.name label', {
      expected: 'an engine image',
      actual: 'none; set against on the test',
    });
  const upstream = await ctx.engine.inspectImage(against);
  if (!upstream) throw new Failure(`the engine image ${against} is not on this engine`, { expected: `${against} present`, actual: 'absent (pull it first)' });
  const [engine, result] = [await installedIn(ctx, upstream.id, t, signal), await installedIn(ctx, ctx.image.id, t, signal)];
  // The overlay's own layers: the result's history above the engine image's.
  const [hu, hr] = [await ctx.engine.imageHistory(upstream.id), await ctx.engine.imageHistory(ctx.image.id)];
  const layers = hr
    .slice(0, Math.max(0, hr.length - hu.length))
    .map((h) => ({ createdBy: h.createdBy.slice(0, 200), bytes: h.size }))
    .filter((l) => l.bytes > 0);
  const delta = overlayDelta(engine, result, layers);
  const wrong = overlayViolations(delta, t.allow);
  if (wrong.length)
    throw new Failure(
      `the overlay changed ${wrong.length} package(s) the engine image ${against} owns: ${wrong.slice(0, 20).join('; ')}${wrong.length > 20 ? `; and ${wrong.length - 20} more` : ''}`,
      {
        expected: `the engine image's packages as they are (or allow-listed, with a reason)`,
        actual: wrong.join('\n'),
        data: delta,
      },
    );
  return delta;
}
