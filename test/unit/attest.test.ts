import { describe, expect, it } from 'vitest';
import { referrersOf, withReferrer } from '../../src/attest/artifacts.js';
import { statement } from '../../src/attest/dsse.js';
import { SLSA_PREDICATE } from '../../src/attest/provenance.js';
import { parseDistMetadata, parseDpkgStatus } from '../../src/publish/inventory.js';
import { sameClaim } from '../../src/pipeline/attest.js';

// The pure parts of a signed release: what is read from an image (hostile: the image's files) and
// from a registry (hostile: its referrers index), and when a statement counts as already attached.

const D = `sha256:${'a'.repeat(64)}`;

describe('dpkg status', () => {
  it('keeps installed packages with their source, drops the rest and anything malformed', () => {
    const text = [
      'Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u10\nDescription: x\n multi-line',
      'Package: gone\nStatus: deinstall ok config-files\nVersion: 1',
      'Package: python3\nStatus: install ok installed\nArchitecture: amd64\nSource: python3-defaults (3.11.2-1)\nVersion: 3.11.2-1+b1',
      'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7',
      'Package: evil name\nStatus: install ok installed\nVersion: 1',
      'Package: noversion\nStatus: install ok installed',
    ].join('\n\n');
    expect(parseDpkgStatus(text)).toEqual([
      { name: 'libc6', version: '2.36-9+deb12u10', architecture: 'amd64', source: 'glibc' },
      { name: 'python3', version: '3.11.2-1+b1', architecture: 'amd64', source: 'python3-defaults' },
      { name: 'bash', version: '5.2.15-2+b7', architecture: 'amd64', source: null },
    ]);
  });
});

describe('dist-info METADATA', () => {
  it.each([
    ['Metadata-Version: 2.1\nName: echo-engine\nVersion: 0.1.0\n\nName: not-this\n', { name: 'echo-engine', version: '0.1.0' }],
    ['Metadata-Version: 2.1\r\nName: pip\r\nVersion: 23.0.1\r\n', { name: 'pip', version: '23.0.1' }],
    ['Name: x\n', null],
    ['Name: a b\nVersion: 1\n', null],
    ['Name: x\nVersion: 1; rm -rf /\n', null],
    ['', null],
  ])('%j', (text, want) => expect(parseDistMetadata(text)).toEqual(want));
});

describe('a referrers index from a registry', () => {
  it('keeps well-formed manifest descriptors only', () => {
    const good = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D, size: 10, artifactType: 't', annotations: { a: 'b', n: 1 } };
    expect(referrersOf({ manifests: [good, { digest: 'sha256:zz', mediaType: 'x', size: 1 }, null, 7, { ...good, size: '10' }] })).toEqual([
      { ...good, annotations: { a: 'b' } },
    ]);
    expect(referrersOf({ manifests: 'no' })).toEqual([]);
    expect(referrersOf(null)).toEqual([]);
  });

  it('adding a referrer twice lists it once', () => {
    const d = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D, size: 10 };
    const once = JSON.parse(withReferrer([], d).bytes.toString());
    expect(JSON.parse(withReferrer(referrersOf(once), d).bytes.toString()).manifests).toHaveLength(1);
  });
});

describe('sameClaim', () => {
  const prov = (builder: string, plan: string) =>
    statement({ name: 'r/x', digest: D }, SLSA_PREDICATE, { buildDefinition: { planDigest: plan }, runDetails: { builder: { id: builder } } });
  it.each([
    ['the same provenance from another engine', prov('a', 'p1'), prov('b', 'p1'), true],
    ['another build definition', prov('a', 'p1'), prov('a', 'p2'), false],
    ['other predicates compare whole', statement({ digest: D }, 'x', { a: 1 }), statement({ digest: D }, 'x', { a: 2 }), false],
    ['another subject', statement({ digest: D }, 'x', {}), statement({ digest: `sha256:${'b'.repeat(64)}` }, 'x', {}), false],
  ])('%s', (_, a, b, want) => expect(sameClaim(a, b)).toBe(want));
});
