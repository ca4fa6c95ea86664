import type { FsEntry } from '../../engine/port.js';
import { cudaMismatches, distInfoOf, dpkgPackages, type Found } from '../cuda-variant.js';
import { elfDynamic } from '../elf.js';
import type { SmokeTest } from '../../recipe/schema.js';
import { CUDA_LABEL } from '../../plan/build-plan.js';
import { baseSpec, Failure, withContainer, type Ctx } from '../context.js';

// The cuda-variant: which CUDA major each wheel, package and library in the image is for.

/** A file worth reading for the CUDA check: shared objects (their SONAME), dpkg's status, dist-info folders. */
function cudaWant(e: FsEntry): number | null {
  if (e.type === 'directory') return /\.dist-info\/?$/.test(e.path) ? 0 : null;
  if (e.path === 'var/lib/dpkg/status' && e.type === 'file') return 64 << 20;
  const base = e.path.slice(e.path.lastIndexOf('/') + 1);
  if (!/\.so(\.\d+)*$/.test(base)) return null;
  // The head of a shared object holds its dynamic section and strings (SONAME) on every linker we know.
  return e.type === 'file' ? 1 << 20 : e.type === 'symlink' || e.type === 'link' ? 0 : null;
}

export async function runCudaVariant(ctx: Ctx, t: Extract<SmokeTest, { kind: 'cuda-variant' }>, signal: AbortSignal): Promise<void> {
  const declared = t.cuda ?? ctx.image.labels[CUDA_LABEL];
  if (!declared)
    throw new Failure(`no CUDA version to check against: the image has no ${CUDA_LABEL} label`, {
      expected: 'a CUDA version',
      actual: 'none; set cuda on the test',
    });
  const major = Number(declared.split('.')[0]);
  // Read from a created, never-started container: no tool in the image is needed.
  await withContainer(ctx, { ...baseSpec(ctx, { ...t, gpu: false }), entrypoint: ['/nonexistent-never-started'] }, async (c) => {
    const found: Found[] = [];
    await c.walkFiles(
      cudaWant,
      (entry, head) => {
        const base = entry.path.replace(/\/$/, '').slice(entry.path.replace(/\/$/, '').lastIndexOf('/') + 1);
        if (entry.type === 'directory') {
          const d = distInfoOf(base);
          if (d) found.push({ kind: 'python', name: d.name, version: d.version, path: `/${entry.path.replace(/\/$/, '')}` });
        } else if (entry.path === 'var/lib/dpkg/status') {
          for (const p of dpkgPackages(head.toString('utf8'))) found.push({ kind: 'dpkg', name: p.name, version: p.version, path: '/var/lib/dpkg/status' });
        } else {
          found.push({ kind: 'library', name: base, path: `/${entry.path}` });
          const soname = entry.type === 'file' ? elfDynamic(head)?.soname : null;
          if (soname && soname !== base) found.push({ kind: 'library', name: soname, path: `/${entry.path}` });
        }
      },
      signal,
    );
    const { wrong } = cudaMismatches(found, major, t.allow);
    if (wrong.length) {
      const shown = wrong.slice(0, 20).map((w) => `${w.kind} ${w.name}${w.version ? ` ${w.version}` : ''} (CUDA ${w.cudaMajor}) at ${w.path}`);
      throw new Failure(
        `${wrong.length} item(s) built for another CUDA than ${major}: ${shown.join('; ')}${wrong.length > 20 ? `; and ${wrong.length - 20} more` : ''}`,
        {
          expected: `only CUDA ${major} packages and libraries (or allow-listed, with a reason)`,
          actual: shown.join('\n'),
        },
      );
    }
  });
}
