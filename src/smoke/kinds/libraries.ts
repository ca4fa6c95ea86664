import { globMatch } from '../cuda-variant.js';
import { isElf } from '../elf.js';
import { parseTrace, preloadFailed } from '../loader.js';
import type { SmokeTest } from '../../recipe/schema.js';
import { parseDuration } from '../checks.js';
import { baseSpec, Failure, startFailure, withContainer, type Ctx } from '../context.js';

// The libraries: what the image's own loader says, run beside sleep through exec.

const LOADERS = ['lib64/ld-linux-x86-64.so.2', 'lib/ld-linux-aarch64.so.1', 'lib/ld-linux-x86-64.so.2', 'usr/lib64/ld-linux-x86-64.so.2'];
const SLEEPS = ['bin/sleep', 'usr/bin/sleep'];
const MAX_LIBRARY_FILES = 5000;

export async function runLibraries(ctx: Ctx, t: Extract<SmokeTest, { kind: 'libraries' }>, signal: AbortSignal): Promise<void> {
  const roots = t.paths.map((p) => p.replace(/^\/+/, '').replace(/\/+$/, ''));
  const inScope = (p: string) => /(^|\/)(site|dist)-packages\//.test(p) || roots.some((r) => p === r || p.startsWith(`${r}/`));
  // sleep keeps the container up for the loader's runs (exec); the image's own, by PATH.
  await withContainer(
    ctx,
    { ...baseSpec(ctx, { ...t, gpu: false }), entrypoint: ['sleep'], cmd: [String(Math.ceil(parseDuration(t.timeout ?? '10m') / 1000))] },
    async (c) => {
      let loader: string | null = null;
      let sleep: string | null = null;
      const targets: string[] = [];
      await c.walkFiles(
        (e) => (LOADERS.includes(e.path) || SLEEPS.includes(e.path) ? 0 : e.type === 'file' && inScope(e.path) && !/\/stubs\//.test(e.path) ? 20 : null),
        (entry, head) => {
          if (LOADERS.includes(entry.path)) loader ??= `/${entry.path}`;
          else if (SLEEPS.includes(entry.path)) sleep ??= `/${entry.path}`;
          // ELF shared objects and executables (e_type 2 or 3), not scripts or data.
          else if (isElf(head) && head.length >= 18 && [2, 3].includes(head[5] === 2 ? head.readUInt16BE(16) : head.readUInt16LE(16)))
            targets.push(`/${entry.path}`);
        },
        signal,
      );
      if (!loader) throw new Failure(`no dynamic loader in the image (looked for /${LOADERS.join(', /')})`);
      if (!sleep) throw new Failure('the libraries test runs the loader beside sleep: the image has no /bin/sleep or /usr/bin/sleep');
      if (targets.length > MAX_LIBRARY_FILES)
        throw new Failure(`${targets.length} native files to check, more than ${MAX_LIBRARY_FILES}`, {
          expected: `at most ${MAX_LIBRARY_FILES}`,
          actual: 'narrow paths',
        });
      try {
        await c.start();
      } catch (e) {
        throw startFailure(e) ?? e;
      }
      const ld: string = loader;
      const problems: string[] = [];
      const allowed = (s: string) => t.allow.some((a) => globMatch(a.name, s));
      for (const file of targets) {
        if (allowed(file)) continue;
        const r = await c.exec([ld, file], signal, ['LD_TRACE_LOADED_OBJECTS=1']);
        const res = parseTrace(r.stdout);
        res.missing = res.missing.filter((m) => !allowed(m));
        if (res.missing.length) problems.push(`${file} needs ${res.missing.join(', ')}: not found`);
        for (const s of res.stubs) problems.push(`${file}: ${s.name} resolves to the stub ${s.path}`);
      }
      for (const name of t.load) {
        const r = await c.exec([ld, '--preload', name, sleep], signal, ['LD_TRACE_LOADED_OBJECTS=1']);
        if (preloadFailed(name, r.stderr)) {
          problems.push(`${name} is not found by the loader (LD_LIBRARY_PATH, ld.so.cache, the default folders), though something loads it by that name`);
          continue;
        }
        const res = parseTrace(r.stdout);
        if (res.missing.length) problems.push(`${name} (${res.resolved[name] ?? 'found'}) needs ${res.missing.join(', ')}: not found`);
        for (const s of res.stubs) problems.push(`${name}: ${s.name} resolves to the stub ${s.path}`);
      }
      if (problems.length)
        throw new Failure(
          `${problems.length} native load problem(s) in ${targets.length} file(s)${t.load.length ? ` and ${t.load.length} library name(s)` : ''}: ${problems.slice(0, 20).join('; ')}${problems.length > 20 ? `; and ${problems.length - 20} more` : ''}`,
          {
            expected:
              "every needed library found by the image's own loader (the GPU driver's libcuda.so.1 and libnvidia-* are expected to be absent without one)",
            actual: problems.join('\n'),
          },
        );
    },
  );
}
