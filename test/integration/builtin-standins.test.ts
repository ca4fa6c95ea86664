import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { imageExists, inspectImage, privateExample, removeImagesNamed, runIn } from '../support/docker.js';
import { makeStandins, removeStandins, type StandinPlan } from '../support/standins.js';

// Issue 12: the built-in recipes reproduce Dynamo's runtime images, but nothing they name can be
// pulled here. So each is built against local stand-ins of every image it names (engine image,
// CUDA devel image, nats, etcd, uv, the NIXL/UCX image), tagged with the exact references its plan
// uses, and the recipe's own steps run: apt, the user, the venv, every COPY --from, the env, the
// runtime step, then its smoke tests (the GPU one is reported skipped: no GPU here). The build runs
// with --network none: the stand-ins hold everything, apt finds its packages installed.
//
// Two lines of each recipe are changed in the copy that is built, and only these:
//   python "3.12" -> "3.11"   Debian (bookworm, trixie) has no Python 3.12, and the framework
//                             stage checks the base's Python against the recipe's (so plan and
//                             build run with --allow-unsupported: the support matrix knows only
//                             3.12 for these images; the image is labelled support-status
//                             unsupported);
//   dynamoSource.index -> wheels   stand-in ai-dynamo and ai-dynamo-runtime wheels
//                             (test/fixtures/standins/build_dynamo_wheels.py), pinned by
//                             `dynamo-image pin`, instead of PyPI.

const BUILTINS = ['vllm-runtime', 'sglang-runtime', 'tensorrtllm-runtime'];
const made: string[] = [];
const copies: { name: string; cleanup: () => void }[] = [];

afterAll(() => {
  removeStandins(made);
  for (const c of copies) {
    removeImagesNamed(c.name);
    c.cleanup();
  }
});

describe('built-in recipes, built against local stand-ins', () => {
  it('the recipes folder holds exactly these built-ins (a new one needs a stand-in build here)', () => {
    const dirs = readdirSync(path.join(__dirname, '..', '..', 'recipes'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'examples')
      .map((d) => d.name)
      .sort();
    expect(dirs).toEqual([...BUILTINS].sort());
  });

  it.each(BUILTINS)('%s: builds (linux/amd64, the recipe as written) and passes its smoke tests', async (builtin) => {
    const ex = privateExample(`recipes/${builtin}`, 'standin');
    copies.push(ex);
    execFileSync('python3', [path.join(__dirname, '..', 'fixtures', 'standins', 'build_dynamo_wheels.py'), path.join(ex.dir, 'wheels')], { stdio: 'ignore' });
    const zeros = 'f'.repeat(64); // any well-formed digest: pin replaces it
    ex.edit((t) => {
      const edited = t
        .replace(/^python: "3\.12"$/m, 'python: "3.11"')
        .replace(
          /^  index: \{ url: "https:\/\/pypi\.org\/simple" \}$/m,
          `  wheels:\n    - { path: wheels/ai_dynamo-1.7.0-py3-none-any.whl, sha256: ${zeros} }\n    - { path: wheels/ai_dynamo_runtime-1.7.0-py3-none-any.whl, sha256: ${zeros} }`,
        );
      // Both edits must have happened: a recipe that moved on would otherwise build something else.
      expect(edited.match(/python: "3\.11"/g)).toHaveLength(1);
      expect(edited).toContain('wheels/ai_dynamo_runtime-1.7.0-py3-none-any.whl');
      return edited;
    });
    const pin = await runCli(['pin', ex.recipe]);
    expect(pin.code, pin.stderr).toBe(0);

    const planned = await runCli(['plan', ex.recipe, '--json', '--allow-unsupported']);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as StandinPlan & { tags: string[]; dynamo: { indexUrl: string | null; requirements: string[] } };
    expect(plan.dynamo.indexUrl).toBeNull();
    made.push(...makeStandins(plan));

    const junit = path.join(ex.dir, '..', `${path.basename(ex.dir)}-junit.xml`);
    const r = await runCli(
      ['build', ex.recipe, '--platform', 'linux/amd64', '--allow-unsupported', '--network', 'none', '--json', '--progress', 'plain', '--junit', junit],
      { timeoutMs: 280_000 },
    );
    expect(r.code, `${r.stderr.slice(-3000)}`).toBe(0);
    const out = JSON.parse(r.stdout) as { smoke: { ran: boolean; passed: number; failed: number; skipped: number } };
    // Every test ran and passed but the GPU one, which is reported skipped with the reason.
    const declared = (readFileSync(ex.recipe, 'utf8').match(/^ {4}- kind: /gm) ?? []).length;
    expect(out.smoke).toEqual({ ran: true, passed: declared - 1, failed: 0, skipped: 1 });
    const xml = readFileSync(junit, 'utf8');
    rmSync(junit, { force: true });
    expect(xml).toMatch(/<testcase [^>]*name="GPUs are visible"[^>]*>\s*<skipped message="[^"]*GPU/);

    // The image: Dynamo's user, entrypoint and environment; the stand-ins' files where the recipe put them.
    const tag = plan.tags[0]!;
    expect(imageExists(tag)).toBe(true);
    const cfg = inspectImage(tag).Config;
    expect(cfg.User).toBe('1000:0');
    expect(cfg.Entrypoint).toEqual(['/opt/nvidia/nvidia_entrypoint.sh']);
    expect(cfg.Cmd ?? []).toEqual([]);
    // The stand-in engine image's UID-1000 user (ubuntu, as upstream) was replaced by dynamo.
    expect(runIn(tag, ['sh', '-c', 'getent passwd 1000 | cut -d: -f1,4,6; test -e /home/ubuntu || echo "no /home/ubuntu"']).stdout.trim().split('\n')).toEqual([
      'dynamo:0:/home/dynamo',
      'no /home/ubuntu',
    ]);
    const which = runIn(tag, ['sh', '-c', 'command -v nats-server; command -v etcd']);
    expect(which.stdout.trim().split('\n')).toEqual(['/usr/bin/nats-server', '/usr/local/bin/etcd/etcd']);
    expect(
      runIn(tag, [
        'python3',
        '-c',
        'import dynamo.runtime, importlib.metadata as m; print(m.version("ai-dynamo"), m.version("ai-dynamo-runtime"))',
      ]).stdout.trim(),
    ).toBe('1.7.0 1.7.0');
    if (builtin === 'vllm-runtime') expect(runIn(tag, ['readlink', '/usr/local/cuda/lib64/libcublas.so']).stdout.trim()).toBe('libcublas.so.13');
    if (builtin !== 'sglang-runtime') {
      // NIXL and UCX first; the stand-in engine image sets no LD_LIBRARY_PATH, so no trailing ":".
      const ld = runIn(tag, ['sh', '-c', 'echo "$LD_LIBRARY_PATH"']).stdout.trim();
      expect(ld).toMatch(/^\/opt\/nvidia\/nvda_nixl\/lib64:.*:\/usr\/local\/ucx\/lib\/ucx(:|$)/);
      expect(ld.endsWith(':')).toBe(false);
      expect(runIn(tag, ['sh', '-c', 'ls /opt/nvidia/nvda_nixl/lib64/libnixl.so /usr/local/cuda/bin/nvcc /usr/local/cuda/bin/ptxas']).code).toBe(0);
    }
  });
});
