import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { docker } from './docker.js';

// Local stand-ins for the images a built-in recipe names (nothing can be pulled here), tagged with
// the exact references the recipe's plan uses, so the recipe's own steps run unchanged against
// them. Each holds only what the recipe relies on: the engine image an engine Python package of
// the pinned version, Dynamo's entrypoint script, an upstream user with UID 1000 and the engine's
// folders; each imported image the paths the recipe copies (programs are shell scripts that print
// what they stand in for). Every stand-in is labelled, and removed by the caller.

export const STANDIN_OS = 'dynamo-image-standin/os:bookworm';
export const STANDIN_LABEL = 'dev.dynamo-image.standin';

const ENGINES: Record<string, { module: string; dist: string; distInfo: string; extra: string[] }> = {
  vllm: { module: 'vllm', dist: 'vllm', distInfo: 'vllm', extra: [] },
  sglang: { module: 'sglang', dist: 'sglang', distInfo: 'sglang', extra: ['/sgl-workspace/README'] },
  trtllm: { module: 'tensorrt_llm', dist: 'tensorrt-llm', distInfo: 'tensorrt_llm', extra: ['/opt/hpcx/ompi/bin/mpirun'] },
};

/** Folders the recipes import, and a file each holds in the stand-in. */
const FOLDERS: Record<string, string[]> = {
  '/usr/local/cuda/include/': ['cuda.h'],
  '/usr/local/cuda/nvvm': ['bin/cicc', 'libdevice/libdevice.10.bc'],
  '/usr/local/cuda/lib64/stubs/': ['libcuda.so'],
  '/opt/nvidia/nvda_nixl': ['lib64/libnixl.so', 'lib64/plugins/libplugin_UCX.so'],
  '/usr/local/ucx': ['bin/ucx_info', 'lib/libucp.so.0', 'lib/ucx/libuct_ib.so.0'],
};

function script(what: string): string {
  return `#!/bin/sh\necho "${what} (dynamo-image stand-in)"\n`;
}

const ELF_STANDIN = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'elf', 'libnixl_capi.so'));

function put(root: string, file: string, content: string | Buffer, mode = 0o755): void {
  const p = path.join(root, file);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
}

function build(ref: string, dockerfile: string, files: (root: string) => void): void {
  // Never retag a real image a developer pulled: only a stand-in of ours may be replaced.
  const existing = docker(['image', 'inspect', '-f', `{{index .Config.Labels "${STANDIN_LABEL}"}}`, ref], { allowFail: true });
  if (existing.code === 0 && existing.stdout.trim() === '')
    throw new Error(`${ref} is a real image on this engine; the stand-in would take its tag (remove it or use another engine)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-standin-'));
  try {
    mkdirSync(path.join(dir, 'files'));
    files(path.join(dir, 'files'));
    writeFileSync(path.join(dir, 'Dockerfile'), `${dockerfile}\nLABEL ${STANDIN_LABEL}=${JSON.stringify(ref)}\n`);
    const r = docker(['build', '-q', '--network', 'none', '-t', ref, dir], { allowFail: true });
    if (r.code !== 0) throw new Error(`stand-in ${ref}: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface StandinPlan {
  engine: { framework: string; version: string };
  base: { runtime: string };
  imports: { image: string; paths: { source: string; destination: string }[] }[];
  dynamo?: { ucx: string | null } | null;
  cuda?: { version: string } | null;
}

/** Makes the stand-ins a plan needs; returns their references (to remove afterwards). */
export function makeStandins(plan: StandinPlan): string[] {
  const made: string[] = [];
  const eng = ENGINES[plan.engine.framework];
  if (!eng) throw new Error(`no stand-in for framework ${plan.engine.framework}`);
  // CUDA_VERSION as NVIDIA's CUDA images set it; the upstream engine images are built on them.
  const cuda = /cu(\d+)(\d)(?:-|$)/.exec(plan.base.runtime);
  const cudaVersion = cuda ? `${cuda[1]}.${cuda[2]}.0` : '13.1.0';
  build(
    plan.base.runtime,
    [`FROM ${STANDIN_OS}`, 'COPY files/ /', 'RUN useradd --uid 1000 --create-home --shell /bin/bash ubuntu', `ENV CUDA_VERSION=${cudaVersion}`].join('\n'),
    (root) => {
      const site = '/usr/local/lib/python3.11/dist-packages';
      put(root, `${site}/${eng.module}/__init__.py`, `__version__ = '${plan.engine.version}'\nSTANDIN = True\n`, 0o644);
      put(
        root,
        `${site}/${eng.distInfo}-${plan.engine.version}.dist-info/METADATA`,
        `Metadata-Version: 2.1\nName: ${eng.dist}\nVersion: ${plan.engine.version}\n`,
        0o644,
      );
      put(root, `${site}/${eng.distInfo}-${plan.engine.version}.dist-info/INSTALLER`, 'dynamo-image-standin\n', 0o644);
      // Dynamo's entrypoint in NVIDIA's images: runs the command it is given.
      put(root, '/opt/nvidia/nvidia_entrypoint.sh', '#!/bin/sh\nexec "$@"\n');
      for (const f of eng.extra) put(root, f, script(f));
    },
  );
  made.push(plan.base.runtime);
  for (const im of plan.imports) {
    if (made.includes(im.image)) continue;
    build(im.image, ['FROM scratch', 'COPY files/ /'].join('\n'), (root) => {
      for (const { source } of im.paths) {
        const folder = FOLDERS[source] ?? FOLDERS[`${source}/`];
        // ucx_info -v prints the UCX version as the real one does ("# Library version: 1.22.0"):
        // the release's series from the plan, so the recipe's UCX check has something true to read.
        const ucx = plan.dynamo?.ucx?.replace(/\.x$/, '.0');
        // A shared object stands in as a real one (test/fixtures/elf: needs only libc), so the
        // recipe's libraries test resolves it through the loader as it would the real library.
        const content = (f: string) =>
          f === 'bin/ucx_info' && ucx
            ? `#!/bin/sh\necho "# Library version: ${ucx}"\necho "# (dynamo-image stand-in of ${im.image})"\n`
            : /\.so(\.\d+)*$/.test(f)
              ? ELF_STANDIN
              : script(`${im.image}:${path.posix.join(source, f)}`);
        if (folder) for (const f of folder) put(root, path.posix.join(source, f), content(f));
        // A versioned library (libcudart.so*) of the variant's own CUDA major: the image's
        // cuda-variant test would (rightly) fail on a libcudart.so.12 in a CUDA 13 image.
        else if (source.endsWith('*')) put(root, `${source.slice(0, -1)}.${(plan.cuda?.version ?? '12').split('.')[0]}`, script(source));
        else put(root, source, script(`${path.posix.basename(source)} from ${im.image}`));
      }
    });
    made.push(im.image);
  }
  return made;
}

export function removeStandins(refs: string[]): void {
  for (const r of refs) {
    // Only what we made: a stand-in carries our label.
    const label = docker(['image', 'inspect', '-f', `{{index .Config.Labels "${STANDIN_LABEL}"}}`, r], { allowFail: true });
    if (label.code === 0 && label.stdout.trim() !== '') docker(['rmi', '-f', r], { allowFail: true });
  }
}
