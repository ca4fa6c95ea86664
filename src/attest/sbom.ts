import type { ReleaseFacts } from './facts.js';

// The SBOM of one pushed image: an SPDX 2.3 JSON document (checked in the tests by pyspdxtools,
// Debian sid's python3-spdx-tools). The image is the described package; it CONTAINS its Debian
// packages, its Python distributions (with the sha256 the plan pinned, where it did) and the
// recipe's inputs; it DESCENDS from its base; imported paths are GENERATED_FROM their images.

export const SPDX_PREDICATE = 'https://spdx.dev/Document';

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  downloadLocation: string;
  filesAnalyzed: false;
  primaryPackagePurpose?: 'CONTAINER' | 'LIBRARY' | 'FILE' | 'APPLICATION' | 'INSTALL' | 'ARCHIVE';
  checksums?: { algorithm: 'SHA256'; checksumValue: string }[];
  externalRefs?: { referenceCategory: 'PACKAGE-MANAGER'; referenceType: 'purl'; referenceLocator: string }[];
  comment?: string;
}

/** SPDX ids allow letters, digits, `.` and `-`. */
function spdxId(kind: string, i: number, name: string): string {
  return `SPDXRef-${kind}-${i}-${name.replace(/[^A-Za-z0-9.-]+/g, '-').slice(0, 60)}`;
}

/** A purl component, percent-encoded. */
const enc = (s: string): string => encodeURIComponent(s);

function pep503(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export function spdxDocument(f: ReleaseFacts): Record<string, unknown> {
  const hex = f.digest.replace(/^sha256:/, '');
  const packages: SpdxPackage[] = [];
  const relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[] = [];
  const root = 'SPDXRef-image';
  const [ns, ...rest] = f.repository.split('/');
  packages.push({
    SPDXID: root,
    name: f.repository,
    versionInfo: f.digest,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    primaryPackagePurpose: 'CONTAINER',
    checksums: [{ algorithm: 'SHA256', checksumValue: hex }],
    externalRefs: [
      {
        referenceCategory: 'PACKAGE-MANAGER',
        referenceType: 'purl',
        referenceLocator: `pkg:oci/${enc(rest.at(-1) ?? f.repository)}@${enc(f.digest)}?repository_url=${enc([ns, ...rest].join('/'))}&arch=${enc(f.platform.split('/')[1] ?? '')}`,
      },
    ],
    comment: `${f.image.name}:${f.image.version} (${f.platform}), built by ${f.tool.name} ${f.tool.version} from ${f.recipe.file} (plan ${f.plan.digest})`,
  });
  relationships.push({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: root });
  const bases = [...new Set([f.base.runtime, f.base.builder])];
  bases.forEach((ref, i) => {
    const id = spdxId('base', i, ref);
    const local = f.base.ids[ref];
    packages.push({
      SPDXID: id,
      name: ref,
      ...(ref.includes('@sha256:') ? { versionInfo: ref.slice(ref.indexOf('@') + 1) } : local ? { versionInfo: local } : {}),
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'CONTAINER',
      comment: ref === f.base.runtime ? 'the runtime stage is built on it' : 'the framework (builder) stage is built on it',
    });
    relationships.push(
      ref === f.base.runtime
        ? { spdxElementId: root, relationshipType: 'DESCENDANT_OF', relatedSpdxElement: id }
        : { spdxElementId: id, relationshipType: 'BUILD_TOOL_OF', relatedSpdxElement: root },
    );
  });
  const arch = f.platform.split('/')[1] ?? '';
  f.inventory.debs.forEach((d, i) => {
    const id = spdxId('deb', i, d.name);
    packages.push({
      SPDXID: id,
      name: d.name,
      versionInfo: d.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'LIBRARY',
      externalRefs: [
        {
          referenceCategory: 'PACKAGE-MANAGER',
          referenceType: 'purl',
          referenceLocator: `pkg:deb/debian/${enc(d.name)}@${enc(d.version)}?arch=${enc(d.architecture || arch)}${d.source ? `&upstream=${enc(d.source)}` : ''}`,
        },
      ],
    });
    relationships.push({ spdxElementId: root, relationshipType: 'CONTAINS', relatedSpdxElement: id });
  });
  const pinned = new Map(f.dependencies.map((d) => [`${pep503(d.name)}==${d.version}`, d.sha256]));
  for (const i of f.inputs) {
    const m = /^([^/]+?)-([^-/]+)-.*\.whl$/.exec(i.source.split('/').at(-1) ?? '');
    if (m && (i.role === 'engine-wheel' || i.role === 'dynamo-wheel' || i.role === 'dependency-wheel')) pinned.set(`${pep503(m[1]!)}==${m[2]}`, i.sha256);
  }
  f.inventory.python.forEach((p, i) => {
    const id = spdxId('pypi', i, p.name);
    const sha = pinned.get(`${pep503(p.name)}==${p.version}`);
    packages.push({
      SPDXID: id,
      name: p.name,
      versionInfo: p.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'LIBRARY',
      ...(sha ? { checksums: [{ algorithm: 'SHA256' as const, checksumValue: sha }] } : {}),
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:pypi/${enc(pep503(p.name))}@${enc(p.version)}` }],
      comment: `${sha ? 'installed from a wheel the plan pinned by sha256; ' : ''}metadata at /${p.path}`,
    });
    relationships.push({ spdxElementId: root, relationshipType: 'CONTAINS', relatedSpdxElement: id });
  });
  f.inputs.forEach((inp, i) => {
    const id = spdxId('input', i, inp.source);
    packages.push({
      SPDXID: id,
      name: inp.source,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: inp.role === 'engine-binary' ? 'APPLICATION' : inp.role.endsWith('wheel') ? 'ARCHIVE' : 'FILE',
      checksums: [{ algorithm: 'SHA256', checksumValue: inp.sha256 }],
      comment: `recipe input (${inp.role}, ${inp.size} bytes)${inp.destination ? ` at ${inp.destination}` : ''}`,
    });
    relationships.push({
      spdxElementId: id,
      relationshipType: inp.destination || inp.role === 'engine-binary' ? 'CONTAINED_BY' : 'BUILD_DEPENDENCY_OF',
      relatedSpdxElement: root,
    });
  });
  f.imports.forEach((imp, i) => {
    const id = spdxId('import', i, imp.image);
    packages.push({
      SPDXID: id,
      name: imp.image,
      ...(imp.image.includes('@sha256:') ? { versionInfo: imp.image.slice(imp.image.indexOf('@') + 1) } : {}),
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'CONTAINER',
      comment: `paths copied into the image: ${imp.paths.map((p) => `${p.source} -> ${p.destination}`).join(', ')}`,
    });
    relationships.push({ spdxElementId: root, relationshipType: 'GENERATED_FROM', relatedSpdxElement: id });
  });
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${f.repository}@${f.digest}`,
    documentNamespace: `https://dynamo-image.dev/spdx/${encodeURIComponent(f.repository)}/${hex}`,
    creationInfo: { created: f.created, creators: [`Tool: ${f.tool.name}-${f.tool.version}`] },
    packages,
    relationships,
  };
}
