import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobOf, bundleManifest, referrersTag, withReferrer } from '../../src/attest/artifacts.js';
import { findCredentials } from '../../src/publish/credentials.js';
import { getBlob, listReferrers, putBlob } from '../../src/publish/referrers.js';
import { RegistryClient } from '../../src/publish/registry-client.js';
import { COSIGN_OFFLINE, tool } from '../support/audit-tools.js';
import { ROOT, runCli } from '../support/cli.js';
import { privateExample, removeImagesNamed } from '../support/docker.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

// Issue 25: `publish --sign-key` on the echo-python example pushes the image, its signature, its
// SBOM and its provenance (and its test outcome) to a registry on 127.0.0.1 (Debian's
// docker-registry: no referrers API, the sha256-<hex> fallback index); Debian sid's cosign 3.1
// verifies all of them with the public key, oras 1.3 lists them, pyspdxtools validates the SBOM.
// A wrong key, a forged attestation and a re-tagged foreign image fail, in cosign and in `verify`.

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const PASSWORD = 'correct horse battery';
let reg: TestRegistry;
let keys: string;
let ex: ReturnType<typeof privateExample>;
let ref: string;
let digest: string;

beforeAll(async () => {
  reg = await startRegistry();
  cleanups.push(() => reg.dispose());
  keys = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-keys-'));
  cleanups.push(() => rmSync(keys, { recursive: true, force: true }));
  // A key pair as users make it: by cosign itself, with a password.
  const made = await tool('cosign', ['generate-key-pair', '--output-key-prefix', path.join(keys, 'release')], { COSIGN_PASSWORD: PASSWORD });
  expect(made.code, made.stderr).toBe(0);
  ex = privateExample('recipes/examples/echo-python', 'sig');
  ex.edit((t) => `${t}\npublish:\n  registry: "${reg.host}"\n  tags: ["{version}"]\n`);
  cleanups.push(ex.cleanup);
  cleanups.push(() => removeImagesNamed(ex.name));
  ref = `${reg.host}/${ex.name}:0.1.0`;
});

const key = () => path.join(keys, 'release.key');
const pub = () => path.join(keys, 'release.pub');
const cosign = (args: string[]) => tool('cosign', [...args, ...COSIGN_OFFLINE]);
const tags = async () => ((await (await fetch(`http://${reg.host}/v2/${ex.name}/tags/list`)).json()) as { tags?: string[] | null }).tags ?? [];

function statementOf(cosignOut: string): { predicateType: string; predicate: Record<string, unknown>; subject: { digest: { sha256: string } }[] } {
  // verify-attestation prints each verified DSSE envelope as one JSON line.
  const env = JSON.parse(cosignOut.trim().split('\n')[0]!) as { payload: string };
  return JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
}

describe('publish --sign-key', () => {
  it('a wrong password is refused before anything is built or pushed, naming the key file; the password is never printed', async () => {
    const r = await runCli(['publish', ex.recipe, '--sign-key', key()], { env: { COSIGN_PASSWORD: 'not it' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(key());
    expect(r.stderr).toMatch(/cannot be opened with the password given \(COSIGN_PASSWORD\)/);
    expect(r.stderr).not.toContain('not it');
    expect(await tags()).toEqual([]);
  });

  it('pushes the image with its signature, SBOM, provenance and test outcome; cosign verifies each, oras lists them', async () => {
    const r = await runCli(['publish', ex.recipe, '--sign-key', key(), '--json'], { env: { COSIGN_PASSWORD: PASSWORD } });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    digest = out.pushed[0].digest;
    expect(out.attached.map((a: { predicateType: string; action: string }) => `${a.predicateType} ${a.action}`)).toEqual([
      'https://sigstore.dev/cosign/sign/v1 pushed',
      'https://spdx.dev/Document pushed',
      'https://slsa.dev/provenance/v1 pushed',
      'https://dynamo-image.dev/attestations/smoke-tests/v1 pushed',
    ]);
    expect(r.stderr).not.toContain(PASSWORD);
    const at = `${reg.host}/${ex.name}@${digest}`;
    const sig = await cosign(['verify', '--key', pub(), at]);
    expect(sig.code, sig.stderr).toBe(0);
    expect(JSON.parse(sig.stdout)[0].critical.image['docker-manifest-digest']).toBe(digest);
    // By tag too: cosign resolves it to the same digest.
    expect((await cosign(['verify', '--key', pub(), ref])).code).toBe(0);

    const prov = await cosign(['verify-attestation', '--key', pub(), '--type', 'slsaprovenance1', at]);
    expect(prov.code, prov.stderr).toBe(0);
    const p = statementOf(prov.stdout);
    expect(p.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(p.subject[0]!.digest.sha256).toBe(digest.slice(7));
    const plan = JSON.parse((await runCli(['plan', ex.recipe, '--json'])).stdout);
    const bd = p.predicate['buildDefinition'] as {
      internalParameters: { planDigest: string };
      resolvedDependencies: { name?: string; digest: { sha256?: string } }[];
    };
    expect(bd.internalParameters.planDigest).toBe(plan.digest);
    const wheel = plan.inputs.find((i: { role: string }) => i.role === 'engine-wheel');
    expect(bd.resolvedDependencies).toContainEqual(expect.objectContaining({ name: wheel.source, digest: { sha256: wheel.sha256 } }));

    const sbom = await cosign(['verify-attestation', '--key', pub(), '--type', 'spdxjson', at]);
    expect(sbom.code, sbom.stderr).toBe(0);
    const doc = statementOf(sbom.stdout).predicate as {
      packages: { name: string; versionInfo?: string; checksums?: { checksumValue: string }[]; SPDXID: string }[];
    };
    const file = path.join(keys, 'sbom.spdx.json');
    writeFileSync(file, JSON.stringify(doc));
    const valid = await tool('pyspdxtools', ['-i', file]);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stderr + valid.stdout).not.toMatch(/issues|error/i);
    // The validator can fail: the same document with a broken SPDX id and date does not pass.
    writeFileSync(file, JSON.stringify({ ...doc, creationInfo: { created: 'yesterday', creators: [] } }));
    expect((await tool('pyspdxtools', ['-i', file])).stderr).toMatch(/issues while parsing/);
    expect(doc.packages.find((x) => x.SPDXID === 'SPDXRef-image')?.versionInfo).toBe(digest);
    expect(doc.packages.find((x) => x.name === 'echo-engine')).toMatchObject({ versionInfo: '0.1.0', checksums: [{ checksumValue: wheel.sha256 }] });
    // dpkg's status of the image: Debian's python3 is in it.
    expect(doc.packages.filter((x) => x.SPDXID.startsWith('SPDXRef-deb-')).length).toBeGreaterThan(50);
    expect(doc.packages.some((x) => x.name === 'python3' && x.SPDXID.startsWith('SPDXRef-deb-'))).toBe(true);

    const tests = await cosign(['verify-attestation', '--key', pub(), '--type', 'https://dynamo-image.dev/attestations/smoke-tests/v1', at]);
    expect(tests.code, tests.stderr).toBe(0);
    expect(statementOf(tests.stdout).predicate).toMatchObject({ result: 'passed', planDigest: plan.digest });

    const listed = await tool('oras', ['discover', '--plain-http', '--format', 'json', at]);
    expect(listed.code, listed.stderr).toBe(0);
    const refs = JSON.parse(listed.stdout);
    const found = (refs.referrers ?? refs.manifests ?? []) as { artifactType: string; annotations?: Record<string, string> }[];
    expect(found.map((x) => x.annotations?.['dev.sigstore.bundle.predicateType']).sort()).toEqual([
      'https://dynamo-image.dev/attestations/smoke-tests/v1',
      'https://sigstore.dev/cosign/sign/v1',
      'https://slsa.dev/provenance/v1',
      'https://spdx.dev/Document',
    ]);
    expect(new Set(found.map((x) => x.artifactType))).toEqual(new Set(['application/vnd.dev.sigstore.bundle.v0.3+json']));
  });

  it('a re-publish attaches nothing new; `verify --recipe` passes every check', async () => {
    const again = await runCli(['publish', ex.recipe, '--sign-key', key(), '--json'], { env: { COSIGN_PASSWORD: PASSWORD } });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).attached.map((a: { action: string }) => a.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    const client = new RegistryClient(reg.host, await findCredentials(reg.host, {}));
    expect((await listReferrers(client, ex.name, digest)).referrers).toHaveLength(4);
    const v = await runCli(['verify', ref, '--key', pub(), '--recipe', ex.recipe, '--json']);
    expect(v.code, v.stderr).toBe(0);
    const verdict = JSON.parse(v.stdout);
    expect(verdict).toMatchObject({ verdictVersion: 1, ok: true, digest });
    expect(verdict.images[0].checks.map((c: { name: string }) => c.name)).toEqual([
      'signature',
      'provenance',
      'sbom',
      'tests',
      'tests passed',
      'image labels',
      'image config',
      'recipe',
      'plan',
      'pins',
    ]);
  });

  it('another key fails: cosign refuses it, verify says no statement is signed by it', async () => {
    const other = path.join(ROOT, 'test/fixtures/keys/pkcs8.pub');
    expect((await cosign(['verify', '--key', other, `${reg.host}/${ex.name}@${digest}`])).code).not.toBe(0);
    const v = await runCli(['verify', ref, '--key', other]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/FAIL signature: no signature signed by the key/);
    expect(v.stderr).toMatch(/4 check\(s\) failed \(signature, provenance, sbom, tests\)/);
  });

  it('a changed recipe fails `verify --recipe` on the recipe, the plan and the pin that changed', async () => {
    const changed = privateExample('recipes/examples/echo-python', 'sig2');
    cleanups.push(changed.cleanup);
    const cfg = path.join(changed.dir, 'config', 'engine.json');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/\}\s*$/, ', "changed": true}\n'));
    execFileSync('node', [path.join(ROOT, 'bin/dynamo-image.js'), 'pin', changed.recipe], { stdio: 'pipe' });
    const v = await runCli(['verify', ref, '--key', pub(), '--recipe', changed.recipe]);
    expect(v.code, v.stderr).toBe(1);
    expect(v.stderr).toMatch(/FAIL recipe: built from a recipe with sha256/);
    expect(v.stderr).toMatch(/FAIL plan: built from the plan sha256:/);
    expect(v.stderr).toMatch(/FAIL pins: config\/engine\.json: image [0-9a-f]{12}, recipe [0-9a-f]{12}/);
  });

  it('a forged provenance (payload changed, signature kept) replacing the real one fails in cosign and in verify', async () => {
    const client = new RegistryClient(reg.host, await findCredentials(reg.host, {}));
    const { referrers } = await listReferrers(client, ex.name, digest);
    const provenances = referrers.filter((r) => r.annotations?.['dev.sigstore.bundle.predicateType'] === 'https://slsa.dev/provenance/v1');
    expect(provenances).toHaveLength(1);
    const real = provenances[0]!;
    const m = (await client.manifest(ex.name, real.digest))!.body as { layers: { digest: string }[] };
    const bundle = JSON.parse((await getBlob(client, ex.name, m.layers[0]!.digest))!.toString()) as { dsseEnvelope: { payload: string } };
    const original = Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString();
    const payload = original.replace(/"planDigest":"sha256:[0-9a-f]{64}"/, `"planDigest":"sha256:${'0'.repeat(64)}"`);
    expect(payload).not.toBe(original);
    bundle.dsseEnvelope.payload = Buffer.from(payload).toString('base64');
    const blob = blobOf(Buffer.from(JSON.stringify(bundle)));
    await putBlob(client, ex.name, blob);
    await putBlob(client, ex.name, blobOf(Buffer.from('{}')));
    const subject = (await client.manifestBytes(ex.name, digest))!;
    const forged = bundleManifest(
      { mediaType: subject.mediaType, digest, size: subject.bytes.length },
      blob,
      'https://slsa.dev/provenance/v1',
      '2026-12-03T00:00:00Z',
    );
    await client.putManifest(ex.name, forged.digest, { mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes: forged.bytes });
    const index = withReferrer(
      referrers.filter((r) => r.digest !== real.digest),
      { ...real, digest: forged.digest, size: forged.bytes.length },
    );
    await client.putManifest(ex.name, referrersTag(digest), { mediaType: 'application/vnd.oci.image.index.v1+json', bytes: index.bytes });

    expect((await cosign(['verify-attestation', '--key', pub(), '--type', 'slsaprovenance1', `${reg.host}/${ex.name}@${digest}`])).code).not.toBe(0);
    const v = await runCli(['verify', ref, '--key', pub()]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/FAIL provenance: no provenance signed by the key/);
    // The other statements still verify.
    expect(v.stderr).toMatch(/ok {3}signature/);
  });

  it('a foreign image re-tagged as the release fails: no signature for its digest', async () => {
    // skopeo reads the engine the tests use (CI's is on its own socket, named by DOCKER_HOST).
    const daemon = process.env.DOCKER_HOST ? ['--src-daemon-host', process.env.DOCKER_HOST] : [];
    execFileSync('skopeo', ['copy', '-q', ...daemon, '--dest-tls-verify=false', 'docker-daemon:dynamo-image-base/debian:bookworm', `docker://${ref}`], {
      stdio: 'pipe',
    });
    expect((await cosign(['verify', '--key', pub(), ref])).code).not.toBe(0);
    const v = await runCli(['verify', ref, '--key', pub(), '--json']);
    expect(v.code).toBe(1);
    const verdict = JSON.parse(v.stdout);
    expect(verdict.ok).toBe(false);
    expect(verdict.digest).not.toBe(digest);
    expect(verdict.images[0].checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name)).toEqual([
      'signature',
      'provenance',
      'sbom',
      'tests',
    ]);
  });
});
