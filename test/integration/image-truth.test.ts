import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { removeImages } from '../support/docker.js';

// Issue 24, point 1: CUDA-variant consistency, checked inside a built image without a GPU. Images
// made to fail it: a CUDA-13-labelled image with CUDA 12 wheels (cupy-cuda12x, nvidia-cublas-cu12),
// a CUDA 12 Debian package, and a shared object whose SONAME (not its file name) says
// libcudart.so.12 (test/fixtures/elf, built by its build.sh).

const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-truth-'));
const IMG = `it-cuda-variant-${process.pid}`;
const images: string[] = [];
afterAll(() => {
  removeImages(...images);
  rmSync(dir, { recursive: true, force: true });
});

function build(tag: string, cuda: string, extra: string[]): string {
  const ref = `${IMG}:${tag}`;
  images.push(ref);
  copyFileSync(path.join(ROOT, 'test/fixtures/elf/libstub-cudart12.so'), path.join(dir, 'libstub.so'));
  writeFileSync(
    path.join(dir, `Dockerfile.${tag}`),
    ['FROM dynamo-image-base/debian-python:bookworm', `LABEL dev.dynamo-image.cuda-version=${cuda}`, ...extra].join('\n') + '\n',
  );
  execFileSync('docker', ['build', '-q', '--network', 'none', '-t', ref, '-f', path.join(dir, `Dockerfile.${tag}`), dir], { stdio: 'pipe' });
  return ref;
}

const CU12_BITS = [
  'RUN mkdir -p /usr/lib/python3/dist-packages/cupy_cuda12x-13.6.0.dist-info /usr/lib/python3/dist-packages/nvidia_cublas_cu12-12.9.1.4.dist-info /usr/lib/python3/dist-packages/numpy-1.24.2.dist-info',
  'COPY libstub.so /opt/vendor/lib/libvendor-runtime.so',
  // A dpkg entry of CUDA 12's runtime package, as NVIDIA's apt repository names it.
  "RUN printf '\\nPackage: cuda-cudart-12-9\\nStatus: install ok installed\\nVersion: 12.9.79-1\\nArchitecture: amd64\\n' >> /var/lib/dpkg/status",
];

let bad: string;
let ok12: string;
beforeAll(() => {
  bad = build('cuda13-with-cu12', '13.0', CU12_BITS);
  ok12 = build('cuda12', '12.9', CU12_BITS);
}, 300_000);

function testsFile(name: string, body: string, kind = 'cuda-variant'): string {
  const f = path.join(dir, name);
  writeFileSync(f, `tests:\n  - kind: ${kind}\n    name: the check\n${body}`);
  return f;
}

describe('cuda-variant: one CUDA major in the image (issue 24, point 1)', () => {
  it('a CUDA 13 image with CUDA 12 wheels, a CUDA 12 package and a library whose SONAME is libcudart.so.12 fails, naming each', async () => {
    const r = await runCli(['test', bad, '--tests', testsFile('t1.yaml', ''), '--json']);
    expect(r.code).toBe(1);
    const res = (JSON.parse(r.stdout) as { results: { status: string; reason: string }[] }).results[0]!;
    expect(res.status).toBe('failed');
    expect(res.reason).toMatch(/^4 item\(s\) built for another CUDA than 13: /);
    expect(res.reason).toContain('python cupy-cuda12x 13.6.0 (CUDA 12) at /usr/lib/python3/dist-packages/cupy_cuda12x-13.6.0.dist-info');
    expect(res.reason).toContain('python nvidia-cublas-cu12 12.9.1.4 (CUDA 12)');
    expect(res.reason).toContain('dpkg cuda-cudart-12-9 12.9.79-1 (CUDA 12) at /var/lib/dpkg/status');
    // Found by its SONAME: the file name says nothing.
    expect(res.reason).toContain('library libcudart.so.12 (CUDA 12) at /opt/vendor/lib/libvendor-runtime.so');
    expect(res.reason).not.toContain('numpy');
  });

  it('the same contents in a CUDA 12 image pass', async () => {
    const r = await runCli(['test', ok12, '--tests', testsFile('t2.yaml', ''), '--json']);
    expect(r.code, r.stdout).toBe(0);
  });

  it('an allow-list with reasons lets deliberate exceptions through, and only those', async () => {
    const allow =
      '    allow:\n      - { name: "nvidia-*-cu12", reason: "the CUDA 12 cuBLAS for a legacy kernel" }\n      - { name: cupy-cuda12x, reason: test }\n';
    const partial = await runCli(['test', bad, '--tests', testsFile('t3.yaml', allow), '--json']);
    expect(partial.code).toBe(1);
    const reason = (JSON.parse(partial.stdout) as { results: { reason: string }[] }).results[0]!.reason;
    expect(reason).toMatch(/^2 item\(s\)/);
    expect(reason).not.toContain('cupy');
    const all = `${allow}      - { name: cuda-cudart-12-9, reason: test }\n      - { name: libcudart.so.12, reason: test }\n`;
    expect((await runCli(['test', bad, '--tests', testsFile('t4.yaml', all), '--json'])).code).toBe(0);
  });

  it('cuda on the test overrides the label; an image with neither fails in words', async () => {
    expect((await runCli(['test', bad, '--tests', testsFile('t5.yaml', '    cuda: "12.9"\n'), '--json'])).code).toBe(0);
    const r = await runCli(['test', 'dynamo-image-base/debian-python:bookworm', '--tests', testsFile('t6.yaml', ''), '--json']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { results: { reason: string }[] }).results[0]!.reason).toContain(
      'no CUDA version to check against: the image has no dev.dynamo-image.cuda-version label',
    );
  });
});

// Issue 24, point 2: every native library loads, by the image's own loader. NIXL's history: its
// native library sat outside the loader path, so the bindings ran against nothing while
// `import nixl` worked. The fixtures: _bindings.so NEEDS libnixl_capi.so, which lies in
// /opt/nvidia/nvda_nixl/lib64; libuses_cuda.so needs the driver's libcuda.so.1 (absent here).
describe('libraries: every native library loads (issue 24, point 2)', () => {
  let outside: string;
  let onPath: string;
  beforeAll(() => {
    for (const f of ['_bindings.so', 'libnixl_capi.so', 'libuses_cuda.so']) copyFileSync(path.join(ROOT, 'test/fixtures/elf', f), path.join(dir, f));
    const common = [
      'COPY _bindings.so libuses_cuda.so /usr/lib/python3/dist-packages/nixl/',
      "RUN printf 'from importlib import resources\\n' > /usr/lib/python3/dist-packages/nixl/__init__.py",
      'COPY libnixl_capi.so /opt/nvidia/nvda_nixl/lib64/',
    ];
    outside = build('nixl-outside', '13.0', common);
    onPath = build('nixl-on-path', '13.0', [...common, 'ENV LD_LIBRARY_PATH=/opt/nvidia/nvda_nixl/lib64']);
  }, 300_000);

  it("a library outside the loader path fails, although `import nixl` passes; the driver's libcuda.so.1 is expected", async () => {
    const tests = path.join(dir, 'nixl.yaml');
    writeFileSync(
      tests,
      'tests:\n  - kind: python\n    name: import nixl\n    imports: [nixl]\n  - kind: libraries\n    name: native libraries load\n    load: [libnixl_capi.so]\n',
    );
    const r = await runCli(['test', outside, '--tests', tests, '--json']);
    expect(r.code).toBe(1);
    const results = (JSON.parse(r.stdout) as { results: { name: string; status: string; reason?: string }[] }).results;
    expect(results.find((x) => x.name === 'import nixl')).toMatchObject({ status: 'passed' });
    const lib = results.find((x) => x.name === 'native libraries load')!;
    expect(lib.status).toBe('failed');
    expect(lib.reason).toContain('/usr/lib/python3/dist-packages/nixl/_bindings.so needs libnixl_capi.so: not found');
    expect(lib.reason).toContain('libnixl_capi.so is not found by the loader');
    expect(lib.reason).not.toContain('libcuda.so.1');
    expect(lib.reason).toMatch(/^2 native load problem\(s\) in 2 file\(s\) and 1 library name\(s\)/);
  });

  it('with the library on the loader path (LD_LIBRARY_PATH), it passes', async () => {
    const r = await runCli(['test', onPath, '--tests', testsFile('libs-ok.yaml', '    load: [libnixl_capi.so]\n', 'libraries'), '--json']);
    expect(r.code, r.stdout).toBe(0);
  });

  it('a library the test names that resolves to a CUDA stub fails', async () => {
    const stub = build('stub-on-path', '13.0', [
      'COPY libnixl_capi.so /usr/local/cuda/lib64/stubs/libnixl_capi.so',
      'ENV LD_LIBRARY_PATH=/usr/local/cuda/lib64/stubs',
    ]);
    const r = await runCli(['test', stub, '--tests', testsFile('libs-stub.yaml', '    load: [libnixl_capi.so]\n', 'libraries'), '--json']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { results: { reason: string }[] }).results[0]!.reason).toContain(
      'resolves to the stub /usr/local/cuda/lib64/stubs/libnixl_capi.so',
    );
  });
});

// Issue 24, point 5: driver preflight in words a host admin can act on.
describe('compat IMAGE --driver (issue 24, point 5)', () => {
  let cuda13: string;
  let nvidiaStyle: string;
  beforeAll(() => {
    cuda13 = build('compat-cuda13', '13.0', ['LABEL dev.dynamo-image.min-driver=580 dev.dynamo-image.framework=vllm']);
    // No labels of ours: NVIDIA's CUDA images say CUDA_VERSION.
    const ref = `${IMG}:compat-nvidia`;
    images.push(ref);
    writeFileSync(path.join(dir, 'Dockerfile.nvidia'), 'FROM dynamo-image-base/debian-python:bookworm\nENV CUDA_VERSION=12.9.1\n');
    execFileSync('docker', ['build', '-q', '--network', 'none', '-t', ref, '-f', path.join(dir, 'Dockerfile.nvidia'), dir], { stdio: 'pipe' });
    nvidiaStyle = ref;
  }, 300_000);

  it('a CUDA 13.0 image on a 575 driver: does not run, update to 580+, or the newest vllm line for this driver (exit 1)', async () => {
    const r = await runCli(['compat', cuda13, '--driver', '575.57.08']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `${cuda13} does not run on driver 575.57.08 (--driver): its CUDA 13.0 needs 580 or newer. Update the host's driver to 580+, or use Dynamo `,
    );
    expect(r.stdout).toMatch(/'s vllm [\d.]+ image for CUDA 12\.[89] \(needs 57[05]\+\), the newest line this driver runs/);
    const j = await runCli(['compat', cuda13, '--driver', '575.57.08', '--json']);
    const out = JSON.parse(j.stdout) as { runs: boolean; minDriver: string; instead: { framework: string; cuda: string; dynamo: string } };
    expect(out).toMatchObject({ runs: false, minDriver: '580', instead: { framework: 'vllm' } });
    // The line it names is one the support data lists (support find agrees).
    const find = await runCli(['support', 'find', '--engine', 'vllm', '--cuda', out.instead.cuda, '--json']);
    expect(find.stdout).toContain(`"dynamo":"${out.instead.dynamo}"`);
  });

  it('on a 580 driver it runs (exit 0); NVIDIA-style images are read by CUDA_VERSION', async () => {
    const r = await runCli(['compat', cuda13, '--driver', '580.65.06']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('runs on driver 580.65.06 (--driver): its CUDA 13.0 needs 580 or newer');
    const n = await runCli(['compat', nvidiaStyle, '--driver', '570.1', '--json']);
    expect(n.code).toBe(1);
    expect(JSON.parse(n.stdout)).toMatchObject({ cuda: '12.9', minDriver: '575', runs: false });
  });

  it('bad input: a driver that is not a version, an image with no CUDA', async () => {
    expect((await runCli(['compat', cuda13, '--driver', 'latest'])).code).toBe(2);
    const none = await runCli(['compat', 'dynamo-image-base/debian-python:bookworm', '--driver', '580']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('names no CUDA version');
  });
});

// Issue 24, point 3: the overlay leaves the engine alone. A local stand-in "engine image" with
// torch and numpy; a recipe over it (engine.image) whose step upgrades numpy (as a careless
// `pip install` would) and adds a package of its own.
describe("overlay: the engine image's packages as they were (issue 24, point 3)", () => {
  const engineRef = `${IMG}:engine`;
  let recipeDir: string;
  beforeAll(() => {
    images.push(engineRef);
    writeFileSync(
      path.join(dir, 'Dockerfile.engine'),
      'FROM dynamo-image-base/debian-python:bookworm\nRUN mkdir -p /usr/local/lib/python3.11/dist-packages/torch-2.9.0.dist-info /usr/local/lib/python3.11/dist-packages/numpy-1.26.4.dist-info\n',
    );
    execFileSync('docker', ['build', '-q', '--network', 'none', '-t', engineRef, '-f', path.join(dir, 'Dockerfile.engine'), dir], { stdio: 'pipe' });
    recipeDir = path.join(dir, 'overlay-recipe');
    mkdirSync(recipeDir);
  }, 300_000);

  const recipe = (allow: string) =>
    [
      'apiVersion: dynamo-image/v1',
      `name: ${IMG}-overlay`,
      'version: 1.0.0',
      'engine:',
      '  framework: custom',
      '  version: 2.9.0',
      `  image: { ref: "${engineRef}" }`,
      'backend:',
      '  entrypoint: [python3]',
      'steps:',
      '  - name: the overlay upgrades numpy and adds its own package',
      '    stage: runtime',
      '    run: |',
      '      cd /usr/local/lib/python3.11/dist-packages',
      '      mv numpy-1.26.4.dist-info numpy-2.0.0.dist-info',
      '      mkdir -p /opt/overlay/site/dynamo_extra-1.0.dist-info',
      '      head -c 200000 /dev/zero > /opt/overlay/blob',
      'smoke:',
      '  tests:',
      '    - kind: overlay',
      '      name: the overlay leaves the engine alone',
      allow,
    ].join('\n') + '\n';

  it('an overlay that upgrades an engine-owned package fails, naming it; the delta (adds, changes, bytes per layer) is in the report', async () => {
    writeFileSync(path.join(recipeDir, 'recipe.yaml'), recipe(''));
    images.push(`${IMG}-overlay:1.0.0`);
    const r = await runCli(['build', path.join(recipeDir, 'recipe.yaml'), '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `the overlay changed 1 package(s) the engine image ${engineRef} owns: python numpy upgraded: 1.26.4 -> 2.0.0 (/usr/local/lib/python3.11/dist-packages)`,
    );
    // Nothing tagged.
    expect(
      execFileSync('docker', ['images', '-q', `${IMG}-overlay:1.0.0`])
        .toString()
        .trim(),
    ).toBe('');
  });

  it('with numpy allowed (a reason given) it passes; the report carries the delta', async () => {
    writeFileSync(path.join(recipeDir, 'recipe.yaml'), recipe('      allow: [{ name: numpy, reason: "the overlay needs numpy 2 on purpose" }]'));
    const r = await runCli(['build', path.join(recipeDir, 'recipe.yaml'), '--no-test', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const t = await runCli(['test', path.join(recipeDir, 'recipe.yaml'), '--json']);
    expect(t.code, t.stdout).toBe(0);
    const res = (
      JSON.parse(t.stdout) as {
        results: {
          status: string;
          data: {
            added: { name: string }[];
            changed: { name: string; direction: string }[];
            removed: unknown[];
            layers: { createdBy: string; bytes: number }[];
          };
        }[];
      }
    ).results[0]!;
    expect(res.status).toBe('passed');
    expect(res.data.changed).toMatchObject([{ name: 'numpy', from: '1.26.4', version: '2.0.0', direction: 'upgraded' }]);
    expect(res.data.added.map((a) => a.name)).toEqual(['dynamo-extra']);
    expect(res.data.removed).toEqual([]);
    // The overlay's own layers with their bytes: the step wrote 200,000 bytes.
    expect(res.data.layers.some((l) => l.bytes >= 200_000)).toBe(true);
  });
});
