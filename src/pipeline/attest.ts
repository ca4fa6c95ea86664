import { bundleManifest, blobOf, EMPTY_CONFIG, PREDICATE_ANNOTATION, CONTENT_ANNOTATION, type Descriptor } from '../attest/artifacts.js';
import { BUNDLE_MEDIA_TYPE, checkBundle, signBundle, statement, type Statement } from '../attest/dsse.js';
import type { ReleaseFacts, TestOutcome } from '../attest/facts.js';
import type { Signer } from '../attest/keys.js';
import { provenancePredicate, SLSA_PREDICATE, testsPredicate, TESTS_PREDICATE } from '../attest/provenance.js';
import { SPDX_PREDICATE, spdxDocument } from '../attest/sbom.js';
import type { Engine } from '../engine/port.js';
import { OperationError } from '../errors.js';
import { BASE_IDS_LABEL } from '../plan/labels.js';
import type { PlannedRecipe } from '../plan/make-plan.js';
import { inventoryImage } from '../publish/inventory.js';
import { attachReferrer, getBlob, listReferrers } from '../publish/referrers.js';
import type { RegistryClient } from '../publish/registry-client.js';
import { readTestRecord } from '../smoke/records.js';
import { TOOL_VERSION } from '../version.js';
import { testsDigest } from './build-and-test.js';

// A signed release: for an image the registry holds (by digest), its signature (cosign's
// https://sigstore.dev/cosign/sign/v1 statement), its SBOM (SPDX 2.3), its provenance (SLSA v1)
// and its smoke-test outcome, each a DSSE envelope in a Sigstore bundle signed with the user's
// key, attached as referrers. A statement already attached, signed by this key, with the same
// content, is not pushed again (a re-publish adds nothing).

export const SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

/** Bundles read per image: four per release, many releases and keys over, far from a flood. */
export const MAX_BUNDLES = 64;

export interface Attached {
  predicateType: string;
  manifest: string;
  action: 'pushed' | 'unchanged';
}

export interface AttestArgs {
  planned: Pick<PlannedRecipe, 'plan' | 'recipeDir'>;
  client: RegistryClient;
  /** The repository path in the registry (no host) and the image's manifest digest there. */
  repository: string;
  digest: string;
  imageId: string;
  platform: string;
  buildKey: string;
  buildArgs: Record<string, string>;
  builder: string | null;
  signer: Signer;
  signal: AbortSignal;
  note: (t: string) => void;
}

function testOutcome(rec: Awaited<ReturnType<typeof readTestRecord>>, digest: string, planHasTests: boolean): TestOutcome {
  if (!rec)
    return {
      result: 'skipped',
      reason: planHasTests ? 'no test record for this image' : 'the recipe declares no smoke tests',
      testsDigest: digest,
      gpu: null,
      ranAt: null,
      tests: [],
    };
  const tests = (rec.report?.results ?? []).map((r) => ({ name: r.name, kind: r.kind, gpu: r.gpu, status: r.status, reason: r.reason ?? null }));
  return {
    result: rec.skipped ? 'skipped' : rec.passed ? 'passed' : 'failed',
    reason: rec.skipped ? 'published with --skip-tests' : null,
    testsDigest: digest,
    gpu: rec.report ? { available: rec.report.gpu.available, detail: rec.report.gpu.detail } : null,
    ranAt: rec.skipped ? null : rec.at,
    tests,
  };
}

/** Second-precision UTC, as SPDX's `created` asks. */
const isoSeconds = (t: string | number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function releaseFacts(engine: Engine, a: AttestArgs): Promise<ReleaseFacts> {
  const { plan } = a.planned;
  const [info, details] = await Promise.all([engine.info(), engine.inspectImage(a.imageId)]);
  if (!details) throw new OperationError('publish.no-image', `the image ${a.imageId.slice(0, 19)} is not on the engine: its SBOM cannot be read`);
  const inventory = await inventoryImage(engine, a.imageId, a.signal);
  const td = testsDigest(plan.smoke);
  const rec = await readTestRecord(a.imageId, td, a.note);
  let baseIds: Record<string, string> = {};
  try {
    baseIds = JSON.parse(details.labels[BASE_IDS_LABEL] ?? '{}') as Record<string, string>;
  } catch {
    baseIds = {};
  }
  const src = plan.engine.source;
  return {
    repository: `${a.client.domain}/${a.repository}`,
    digest: a.digest,
    platform: a.platform,
    tool: { name: 'dynamo-image', version: TOOL_VERSION },
    recipe: { file: plan.recipe.file, sha256: plan.recipe.sha256, apiVersion: plan.recipe.apiVersion },
    image: { name: plan.image.name, version: plan.image.version },
    plan: { digest: plan.digest, buildKey: a.buildKey, variant: plan.variant?.id ?? null, buildArgs: a.buildArgs },
    imageId: a.imageId,
    engine: { kind: info.kind, version: info.serverVersion, apiVersion: info.apiVersion },
    builder: a.builder,
    base: { runtime: plan.base.runtime, builder: plan.base.builder, ids: baseIds },
    engineSource: { framework: plan.engine.framework, version: plan.engine.version, kind: src.kind, ref: src.kind === 'image' ? src.ref : null },
    inputs: plan.inputs.map((i) => ({ role: i.role, source: i.source, sha256: i.sha256, size: i.size, destination: i.destination ?? null })),
    dependencies: plan.dependencies.map((d) => ({ name: d.name, version: d.version, sha256: d.sha256 })),
    imports: plan.imports,
    systemPackages: plan.systemPackages,
    inventory,
    tests: testOutcome(rec, td, plan.smoke.tests.length > 0),
    created: isoSeconds(details.created * 1000),
  };
}

export function releaseStatements(f: ReleaseFacts): Statement[] {
  const subject = { name: f.repository, digest: f.digest };
  return [
    statement({ digest: f.digest }, SIGN_PREDICATE, {}),
    statement(subject, SPDX_PREDICATE, spdxDocument(f)),
    statement(subject, SLSA_PREDICATE, provenancePredicate(f)),
    statement(subject, TESTS_PREDICATE, testsPredicate(f)),
  ];
}

async function subjectOf(client: RegistryClient, repository: string, digest: string): Promise<Descriptor> {
  const m = await client.manifestBytes(repository, digest);
  if (!m) throw new OperationError('sign.failed', `${client.domain}/${repository}@${digest} is not in the registry: nothing to sign`);
  return { mediaType: m.mediaType.split(';')[0]!.trim(), digest, size: m.bytes.length };
}

/** Signs and attaches the four statements; returns what is attached now. */
export async function attestRelease(engine: Engine, a: AttestArgs): Promise<Attached[]> {
  const subject = await subjectOf(a.client, a.repository, a.digest);
  const facts = await releaseFacts(engine, a);
  const out = await attachStatements(a.client, a.repository, subject, releaseStatements(facts), a.signer, facts.created);
  a.note(`signed ${a.client.domain}/${a.repository}@${a.digest.slice(0, 19)}: ${out.map((o) => `${shortType(o.predicateType)} ${o.action}`).join(', ')}`);
  return out;
}

/** The signature alone (a manifest list: each platform's image carries its own statements). */
export async function signOnly(client: RegistryClient, repository: string, digest: string, signer: Signer, note: (t: string) => void): Promise<Attached[]> {
  const subject = await subjectOf(client, repository, digest);
  const out = await attachStatements(client, repository, subject, [statement({ digest }, SIGN_PREDICATE, {})], signer, isoSeconds(Date.now()));
  note(`signed the manifest list ${client.domain}/${repository}@${digest.slice(0, 19)}: ${out[0]!.action}`);
  return out;
}

async function attachStatements(
  client: RegistryClient,
  repository: string,
  subject: Descriptor,
  statements: Statement[],
  signer: Signer,
  created: string,
): Promise<Attached[]> {
  const digest = subject.digest;
  const existing = await ourStatements(client, repository, digest, signer);
  const out: Attached[] = [];
  for (const st of statements) {
    const same = existing.find((e) => sameClaim(e.statement, st));
    if (same) {
      out.push({ predicateType: st.predicateType, manifest: same.manifest, action: 'unchanged' });
      continue;
    }
    const bundle = blobOf(Buffer.from(JSON.stringify(signBundle(st, signer))));
    const manifest = bundleManifest(subject, bundle, st.predicateType, created);
    await attachReferrer(
      client,
      repository,
      digest,
      { ...manifest, artifactType: BUNDLE_MEDIA_TYPE, annotations: { [CONTENT_ANNOTATION]: 'dsse-envelope', [PREDICATE_ANNOTATION]: st.predicateType } },
      [blobOf(EMPTY_CONFIG), bundle],
    );
    out.push({ predicateType: st.predicateType, manifest: manifest.digest, action: 'pushed' });
  }
  return out;
}

/**
 * Does an attached statement already say this? A provenance's run details (which engine, which
 * builder pushed it) may differ on a re-publish of the same build: its build definition decides.
 */
export function sameClaim(a: Statement, b: Statement): boolean {
  if (a.predicateType !== b.predicateType || JSON.stringify(a.subject) !== JSON.stringify(b.subject)) return false;
  const core = (s: Statement) => (s.predicateType === SLSA_PREDICATE ? (s.predicate as { buildDefinition?: unknown }).buildDefinition : s.predicate);
  return JSON.stringify(core(a)) === JSON.stringify(core(b));
}

export function shortType(t: string): string {
  return t === SIGN_PREDICATE ? 'signature' : t === SPDX_PREDICATE ? 'SBOM' : t === SLSA_PREDICATE ? 'provenance' : t === TESTS_PREDICATE ? 'tests' : t;
}

/** The bundles attached to `digest` that this key signed, with their statements. */
export async function ourStatements(
  client: RegistryClient,
  repository: string,
  digest: string,
  key: { hint: string; verify(d: Buffer, s: Buffer): boolean },
): Promise<{ manifest: string; statement: Statement }[]> {
  const { referrers } = await listReferrers(client, repository, digest);
  const out: { manifest: string; statement: Statement }[] = [];
  // The registry's list is untrusted: the newest MAX_BUNDLES bundles are read, not every entry of
  // an index that names thousands (each costs a manifest and a blob request).
  const bundles = referrers.filter((r) => !r.artifactType || r.artifactType === BUNDLE_MEDIA_TYPE || r.artifactType === 'application/vnd.oci.empty.v1+json');
  for (const r of bundles.slice(-MAX_BUNDLES)) {
    const m = await client.manifest(repository, r.digest);
    const layer = (m?.body as { layers?: { digest?: unknown; mediaType?: unknown }[] } | undefined)?.layers?.[0];
    if (!layer || layer.mediaType !== BUNDLE_MEDIA_TYPE || typeof layer.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) continue;
    const body = await getBlob(client, repository, layer.digest, 64 << 20);
    if (!body) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      continue;
    }
    const c = checkBundle(parsed, key, digest);
    if (c.ok) out.push({ manifest: r.digest, statement: c.statement });
  }
  return out;
}
