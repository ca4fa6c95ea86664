// What a release states about one pushed image: the facts the SBOM, the provenance and the
// test statement are made of. Gathered by the pipeline (plan, engine, registry, test record);
// everything in attest/ is a pure function of them.

export interface DebPackage {
  name: string;
  version: string;
  architecture: string;
  /** The source package, where it differs from the binary's name. */
  source: string | null;
}

export interface PythonDist {
  name: string;
  version: string;
  /** Where its metadata is in the image (the .dist-info folder). */
  path: string;
}

/** What is installed in the image, read from its filesystem (dpkg's status, Python's dist-info). */
export interface ImageInventory {
  debs: DebPackage[];
  python: PythonDist[];
}

export interface TestOutcome {
  /** passed: every test ran and passed; skipped: not run (--skip-tests, none declared). */
  result: 'passed' | 'failed' | 'skipped';
  reason: string | null;
  testsDigest: string;
  gpu: { available: boolean; detail: string } | null;
  ranAt: string | null;
  tests: { name: string; kind: string; gpu: boolean; status: string; reason: string | null }[];
}

export interface ReleaseFacts {
  /** registry/repository the image was pushed to, and its manifest digest there. */
  repository: string;
  digest: string;
  platform: string;
  tool: { name: 'dynamo-image'; version: string };
  recipe: { file: string; sha256: string; apiVersion: string };
  image: { name: string; version: string };
  plan: { digest: string; buildKey: string; variant: string | null; buildArgs: Record<string, string> };
  /** The image's labelled identity as the engine built it (its config digest, the local id). */
  imageId: string;
  engine: { kind: string; version: string; apiVersion: string };
  builder: string | null;
  base: { runtime: string; builder: string; ids: Record<string, string> };
  engineSource: { framework: string; version: string; kind: string; ref: string | null };
  inputs: { role: string; source: string; sha256: string; size: number; destination: string | null }[];
  dependencies: { name: string; version: string; sha256: string }[];
  imports: { image: string; paths: { source: string; destination: string }[] }[];
  systemPackages: string[];
  inventory: ImageInventory;
  tests: TestOutcome;
  /** When the image was made (its config's `created`), for the documents' own dates. */
  created: string;
}
