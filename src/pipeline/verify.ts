import type { Statement } from '../attest/dsse.js';
import type { Verifier } from '../attest/keys.js';
import { SLSA_PREDICATE, TESTS_PREDICATE } from '../attest/provenance.js';
import { SPDX_PREDICATE } from '../attest/sbom.js';
import { UsageError } from '../errors.js';
import { PLAN_DIGEST_LABEL } from '../plan/labels.js';
import type { Plan } from '../plan/types.js';
import { findCredentials } from '../publish/credentials.js';
import { RegistryClient } from '../publish/registry-client.js';
import { parseReference } from '../refs/reference.js';
import { ourStatements, SIGN_PREDICATE } from './attest.js';

// `verify IMAGE --key cosign.pub [--recipe FILE]`: what the registry says about an image, checked
// against the key and, given a recipe, against what that recipe plans now. Each check is one line
// that says what was expected and what was found; any failure makes the whole verdict fail.

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Verdict {
  reference: string;
  digest: string;
  ok: boolean;
  images: { digest: string; platform: string | null; checks: Check[] }[];
}

type Found = { manifest: string; statement: Statement }[];

const LIST_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

function newest(found: Found, type: string): Statement | null {
  const s = found.filter((f) => f.statement.predicateType === type);
  return s.at(-1)?.statement ?? null;
}

type Provenance = {
  buildDefinition?: {
    externalParameters?: { recipe?: { file?: string; sha256?: string } };
    internalParameters?: { planDigest?: string; buildKey?: string };
    resolvedDependencies?: { name?: string; uri?: string; digest?: Record<string, string> }[];
  };
  runDetails?: { byproducts?: { name?: string; digest?: Record<string, string> }[] };
};

/** The checks of one single-platform image. */
async function checkImage(client: RegistryClient, repo: string, digest: string, key: Verifier, plan: Plan | null): Promise<Check[]> {
  const found = await ourStatements(client, repo, digest, key);
  const checks: Check[] = [];
  const present = (type: string, name: string) => {
    const s = newest(found, type);
    checks.push(
      s
        ? { name, ok: true, detail: `signed by the key ${key.hint}` }
        : { name, ok: false, detail: `no ${name} signed by the key ${key.hint} is attached to ${digest}` },
    );
    return s;
  };
  present(SIGN_PREDICATE, 'signature');
  const prov = present(SLSA_PREDICATE, 'provenance');
  const sbom = present(SPDX_PREDICATE, 'sbom');
  const tests = present(TESTS_PREDICATE, 'tests');
  if (sbom) {
    const root = ((sbom.predicate as { packages?: { SPDXID?: string; versionInfo?: string }[] }).packages ?? []).find((p) => p.SPDXID === 'SPDXRef-image');
    if (root?.versionInfo !== digest)
      checks.push({ name: 'sbom subject', ok: false, detail: `the SBOM describes ${root?.versionInfo ?? 'no image'}, not ${digest}` });
  }
  if (tests) {
    const t = tests.predicate as { result?: string; reason?: string | null; tests?: { status?: string }[] };
    const count = (st: string) => (t.tests ?? []).filter((x) => x.status === st).length;
    checks.push({
      name: 'tests passed',
      ok: t.result === 'passed',
      detail:
        t.result === 'passed'
          ? `${count('passed')} smoke test(s) passed, ${count('skipped')} skipped, none failed`
          : `the smoke tests ${t.result ?? 'say nothing'}${t.reason ? ` (${t.reason})` : ''}`,
    });
  }
  const p = (prov?.predicate ?? null) as Provenance | null;
  if (p) {
    // Image truth: the labels in the image's own config say the same as its provenance.
    const labels = (await client.imageLabels(repo, digest)) ?? {};
    const cfg = await client.configDigest(repo, digest);
    const planDigest = p.buildDefinition?.internalParameters?.planDigest;
    const label = labels[PLAN_DIGEST_LABEL];
    checks.push({
      name: 'image labels',
      ok: label === planDigest,
      detail:
        label === planDigest
          ? `the image's plan-digest label is the provenance's ${planDigest}`
          : `the image's plan-digest label is ${label ?? 'absent'}, the provenance says ${planDigest}`,
    });
    const byproduct = p.runDetails?.byproducts?.find((b) => b.name === 'image-config')?.digest?.['sha256'];
    if (byproduct && cfg)
      checks.push({
        name: 'image config',
        ok: cfg === `sha256:${byproduct}`,
        detail: `config ${cfg}${cfg === `sha256:${byproduct}` ? '' : `, the provenance names sha256:${byproduct}`}`,
      });
    if (plan) checks.push(...againstPlan(p, plan));
  }
  return checks;
}

/** Did this image come from this recipe and these pins? */
export function againstPlan(p: Provenance, plan: Plan): Check[] {
  const out: Check[] = [];
  const bd = p.buildDefinition ?? {};
  const rec = bd.externalParameters?.recipe;
  out.push({
    name: 'recipe',
    ok: rec?.sha256 === plan.recipe.sha256,
    detail:
      rec?.sha256 === plan.recipe.sha256
        ? `built from this recipe (sha256 ${plan.recipe.sha256.slice(0, 12)})`
        : `built from a recipe with sha256 ${rec?.sha256 ?? '?'}; this one is ${plan.recipe.sha256}`,
  });
  const pd = bd.internalParameters?.planDigest;
  out.push({
    name: 'plan',
    ok: pd === plan.digest,
    detail:
      pd === plan.digest ? `the plan is the same (${plan.digest.slice(0, 19)})` : `built from the plan ${pd ?? '?'}; this recipe plans ${plan.digest} now`,
  });
  const deps = bd.resolvedDependencies ?? [];
  const byName = new Map(deps.filter((d) => d.name).map((d) => [d.name!, d.digest?.['sha256']]));
  const changed = plan.inputs
    .filter((i) => byName.get(i.source) !== i.sha256)
    .map((i) => `${i.source}: image ${byName.get(i.source)?.slice(0, 12) ?? 'none'}, recipe ${i.sha256.slice(0, 12)}`);
  const extra = [...byName.keys()].filter(
    (n) => !plan.inputs.some((i) => i.source === n) && deps.find((d) => d.name === n)?.uri === undefined && !n.includes(':'),
  );
  out.push({
    name: 'pins',
    ok: changed.length === 0 && extra.length === 0,
    detail:
      changed.length || extra.length
        ? [...changed, ...extra.map((n) => `${n}: in the image, not in the recipe`)].join('; ')
        : `all ${plan.inputs.length} input(s) have the recipe's sha256`,
  });
  return out;
}

export async function verifyImage(reference: string, key: Verifier, plan: Plan | null, env: NodeJS.ProcessEnv = process.env): Promise<Verdict> {
  const ref = parseReference(reference);
  if (!ref || ref.domain === 'docker.io')
    throw new UsageError(`"${reference}" is not an image in a registry (REGISTRY/REPOSITORY:TAG or @sha256:…)`, 'e.g. 127.0.0.1:5000/echo-python:0.1.0');
  const client = new RegistryClient(ref.domain, await findCredentials(ref.domain, env), undefined, undefined, env);
  const m = await client.manifest(ref.path, ref.digest ?? ref.tag ?? 'latest');
  if (!m)
    return {
      reference,
      digest: '',
      ok: false,
      images: [{ digest: '', platform: null, checks: [{ name: 'image', ok: false, detail: `${reference} is not in the registry` }] }],
    };
  const top = (await client.manifestDigest(ref.path, ref.digest ?? ref.tag ?? 'latest', { verify: true }))!.digest;
  const images: Verdict['images'] = [];
  if (LIST_TYPES.has(m.mediaType)) {
    const sig = newest(await ourStatements(client, ref.path, top, key), SIGN_PREDICATE);
    images.push({
      digest: top,
      platform: null,
      checks: [
        {
          name: 'signature',
          ok: !!sig,
          detail: sig ? `the manifest list is signed by the key ${key.hint}` : `the manifest list ${top} is not signed by the key ${key.hint}`,
        },
      ],
    });
    const list = ((m.body as { manifests?: { digest?: string; platform?: { os?: string; architecture?: string } }[] }).manifests ?? []).filter(
      (d) => typeof d.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(d.digest),
    );
    for (const d of list)
      images.push({
        digest: d.digest!,
        platform: `${d.platform?.os ?? '?'}/${d.platform?.architecture ?? '?'}`,
        checks: await checkImage(client, ref.path, d.digest!, key, plan),
      });
  } else images.push({ digest: top, platform: null, checks: await checkImage(client, ref.path, top, key, plan) });
  return { reference, digest: top, ok: images.every((i) => i.checks.every((c) => c.ok)), images };
}
