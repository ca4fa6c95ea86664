import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { COSIGN_OFFLINE, tool } from '../support/audit-tools.js';
import { ROOT, runCli } from '../support/cli.js';
import { privateExample } from '../support/docker.js';
import { startPodman, type TestPodman } from '../support/podman.js';
import { skopeoDigest, startRegistry, type TestRegistry } from '../support/registry.js';

// Issue 22, point 1: Podman as an engine. Debian's podman 4.3 (`podman system service`, its
// Docker-compatible API) on its own socket and storage (scripts/podman-up.sh), the base image
// loaded from the Docker engine. buildah builds there: it labels every stage's image (and every
// step's commit) with the build's labels, has no BuildKit, and the API drops GPU device requests.
// No GPU here: the GPU test must be skipped with Podman's reason, never passed.

const BASE = 'dynamo-image-base/debian-python:bookworm';
let pm: TestPodman;
let env: NodeJS.ProcessEnv;
const ex = privateExample('recipes/examples/echo-python', 'pm');
const cleanups: (() => unknown)[] = [ex.cleanup];

interface Inspected {
  Id: string;
  Config: { User: string; Entrypoint: string[] | null; Labels: Record<string, string> };
}
const inspect = (ref: string): Inspected => (JSON.parse(pm.podman(['image', 'inspect', ref])) as Inspected[])[0]!;
let first: { image: string; buildKey: string; planDigest: string };

beforeAll(() => {
  pm = startPodman([BASE]);
  env = { DOCKER_HOST: pm.host };
}, 320_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  try {
    pm?.podman(['rmi', '-f', `${ex.name}:0.1.0`]);
  } catch {
    /* not there */
  }
  pm?.stop();
});

describe('Podman 4.3 (Docker-compatible API)', () => {
  it('auto picks the classic builder and says so; the smoke tests pass, the GPU test is skipped with the reason', async () => {
    const r = await runCli(['build', ex.recipe, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('builder: classic (auto: Podman 4.3');
    const out = JSON.parse(r.stdout);
    first = out;
    expect(out).toMatchObject({ upToDate: false, builder: 'classic', smoke: { ran: true, failed: 0, skipped: 1 } });
    // buildah's STEP lines are counted like the other builders' steps.
    expect(out.totalSteps).toBeGreaterThan(10);
    const tagged = inspect(`${ex.name}:0.1.0`);
    expect(tagged.Id.replace(/^(sha256:)?/, 'sha256:')).toBe(out.image);
    expect(tagged.Config).toMatchObject({ User: '1000:0', Entrypoint: ['echo-engine'] });
    // What made the bug possible: the framework stage's image carries the same build key.
    const keyed = pm
      .podman(['images', '--all', '--filter', `label=dev.dynamo-image.build-key=${out.buildKey}`, '--format', '{{.ID}}'])
      .trim()
      .split('\n');
    expect(keyed.length).toBeGreaterThan(1);
  });

  it('an unchanged rebuild is up to date and tags the final image, never a stage (also with --no-test)', async () => {
    pm.podman(['untag', `${ex.name}:0.1.0`]);
    const r = await runCli(['build', ex.recipe, '--no-test', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ upToDate: true, image: first.image });
    const tagged = inspect(`${ex.name}:0.1.0`);
    expect(tagged.Config).toMatchObject({ User: '1000:0', Entrypoint: ['echo-engine'] });
    expect(tagged.Config.Labels['dev.dynamo-image.plan-digest']).toBe(first.planDigest);
  });

  it('`test RECIPE` finds the final image and runs its tests there', async () => {
    const t = await runCli(['test', ex.recipe, '--json'], { env });
    expect(t.code, t.stderr).toBe(0);
    const rep = JSON.parse(t.stdout);
    expect(rep.imageId).toBe(first.image);
    expect(rep.gpu).toMatchObject({ available: false, request: null });
    expect(rep.results.find((x: { name: string }) => x.name === 'a GPU is visible')).toMatchObject({ status: 'skipped', gpu: true });
    expect(rep.gpu.detail).toMatch(/^no GPU runtime or CDI GPU device on this Podman host \(4\.3\.\d+: its Docker-compatible API gives containers no GPUs\)$/);
  });

  it('--gpu require fails in words: Podman gives containers no GPUs', async () => {
    const t = await runCli(['test', ex.recipe, '--gpu', 'require', '--json'], { env });
    expect(t.code).toBe(1);
    const rep = JSON.parse(t.stdout);
    expect(rep.gpu.tried.join('\n')).toContain("Podman's Docker-compatible API ignores DeviceRequests");
    expect(rep.results.find((x: { name: string }) => x.name === 'a GPU is visible')).toMatchObject({ status: 'failed' });
  });

  it('--builder buildkit is refused before any work, with the way out', async () => {
    const r = await runCli(['build', ex.recipe, '--builder', 'buildkit', '--force', '--no-test'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('(Podman 4.3');
    expect(r.stderr).toContain('does not offer BuildKit');
    expect(r.stderr).toContain('--builder classic');
  });

  describe('publish from Podman', () => {
    let reg: TestRegistry;
    beforeAll(async () => {
      reg = await startRegistry();
      cleanups.push(() => reg.dispose());
    });
    it('pushes the final image to a registry on 127.0.0.1; skopeo reads the same digest and its config; a re-publish pushes nothing', async () => {
      const r = await runCli(['publish', ex.recipe, '--registry', `${reg.host}/pm`, '--gpu', 'off', '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      const pushed = JSON.parse(r.stdout).pushed;
      expect(pushed).toHaveLength(1);
      expect(skopeoDigest(pushed[0].reference)).toBe(pushed[0].digest);
      const config = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${pushed[0].reference}`]).toString());
      expect(config.config).toMatchObject({ User: '1000:0', Entrypoint: ['echo-engine'] });
      expect(config.config.Labels['dev.dynamo-image.plan-digest']).toBe(first.planDigest);
      const again = await runCli(['publish', ex.recipe, '--registry', `${reg.host}/pm`, '--gpu', 'off'], { env });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr + again.stdout).toContain('nothing built or pushed');
    });

    // Issue 25 on Podman: the SBOM's package lists come from a container Podman creates and never
    // starts (its archive API); cosign verifies what was attached, and so does `verify`.
    it('publish --sign-key: cosign verifies the signature and the SBOM; verify --recipe passes', async () => {
      const keys = path.join(ROOT, 'test', 'fixtures', 'keys');
      const r = await runCli(
        ['publish', ex.recipe, '--registry', `${reg.host}/pm-signed`, '--gpu', 'off', '--sign-key', path.join(keys, 'cosign-pw.key'), '--json'],
        {
          env: { ...env, COSIGN_PASSWORD: 'correct-horse' },
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const ref = JSON.parse(r.stdout).pushed[0].reference as string;
      const pub = path.join(keys, 'cosign-pw.pub');
      const sig = await tool('cosign', ['verify', '--key', pub, ref, ...COSIGN_OFFLINE]);
      expect(sig.code, sig.stderr).toBe(0);
      const sbom = await tool('cosign', ['verify-attestation', '--key', pub, '--type', 'spdxjson', ref, ...COSIGN_OFFLINE]);
      expect(sbom.code, sbom.stderr).toBe(0);
      const doc = JSON.parse(Buffer.from(JSON.parse(sbom.stdout.trim().split('\n')[0]!).payload, 'base64').toString()).predicate;
      const names = (doc.packages as { name: string }[]).map((p) => p.name);
      expect(names.some((n) => /^echo[-_]engine$/i.test(n))).toBe(true);
      expect(names).toContain('libc6');
      const v = await runCli(['verify', ref, '--key', pub, '--recipe', ex.recipe], { env });
      expect(v.code, v.stderr).toBe(0);
    });
  });
});
