import type { FieldDocs } from './types.js';

// The recipe itself, its base, Python, Dynamo and the engine.

export const RECIPE_FIELDS: FieldDocs = {
  apiVersion: ['`dynamo-image/v1`', 'recipe format version'],
  name: ['lowercase name', "image name (the repository's last part); tags are `name:version`"],
  version: ['semver', "image version; the first tag starts with it (Dynamo's operator reads it)"],
  description: ['one line', '`org.opencontainers.image.description`'],
  base: ['mapping', 'where the image starts'],
  'base.cuda': [
    '`"MAJOR.MINOR"`',
    'CUDA toolkit, resolved through [`base-images/base-images.yaml`](base-images/base-images.yaml); checked against the support matrix',
  ],
  'base.image': ['image reference', 'explicit base image instead of the table'],
  'base.os': [
    '`ubuntu24.04` (with `cuda`), `ubuntu22.04`, `debian12`, `debian13`, `debian-sid`',
    "OS flavour, picks the table row; recorded in the plan. Left out: `ubuntu24.04` for the CUDA table and the frameworks' upstream images, `custom` for an explicit `base.image` or a custom `engine.image` (the tool does not guess an image's OS)",
  ],
  'base.platforms': ['`[linux/amd64]`', '`linux/amd64`, `linux/arm64` (arm64 needs ubuntu24.04)'],
  'base.pythonIncluded': ['`true` for explicit images', 'the base already has `python3` with `venv`; table images get it from apt'],
  python: [
    'e.g. `"3.12"` (Dynamo\'s images use 3.12); required when the recipe installs a Python package (an engine wheel or index, `dependencies`, Dynamo) and for `vllm`, `sglang`, `trtllm` (`recipe.python-missing` otherwise)',
    "Python version of the venv; the build fails early if the base's Python differs. An engine that is a binary or already in the base image (`engine.image`), with no `dependencies` and no Dynamo, installs no Python package: then no venv is made, no `python3` is installed, the base needs none (`dynamo-image-base/debian:bookworm`, made by `npm run env:up`, has none) and `python` may be left out",
  ],
  dynamo: ['version or range', 'Dynamo runtime version; required for vllm, sglang, trtllm (installed as `ai-dynamo==X`, or as `dynamoSource` says)'],
  dynamoSource: [
    'mapping',
    'where the Dynamo wheels come from; default `ai-dynamo` from PyPI. E.g. `dynamoSource: { packages: ["ai-dynamo[vllm]", ai-dynamo-runtime], index: { url: https://mirror.example/simple, secret: pip-netrc } }`',
  ],
  'dynamoSource.packages': ['`[ai-dynamo]`', 'distributions, optionally with extras, each installed at the `dynamo` version'],
  'dynamoSource.index': ['mapping', 'a PEP 503 index (PyPI, a mirror, a nightly index)'],
  'dynamoSource.index.url': ['`https://pypi.org/simple`', 'the index URL; never carries credentials (use `secret`)'],
  'dynamoSource.index.secret': [
    'secret id',
    "a build secret holding a netrc file (`--secret id=pip-netrc,src=$HOME/.netrc`), mounted as root's `~/.netrc` for that install step only (BuildKit)",
  ],
  'dynamoSource.wheels': [
    'list',
    "instead of an index (air-gapped): one wheel per package in the recipe's folder, `{path, sha256}`, installed offline with the dependencies in pip's hash-checking mode",
  ],
  'dynamoSource.wheels[].path': ['relative path', 'a `.whl` file whose version is the `dynamo` version'],
  'dynamoSource.wheels[].sha256': ['64 hex digits', 'its digest (`dynamo-image pin` writes it)'],
  engine: ['mapping', 'the engine: `framework`, `version` and exactly one source'],
  'engine.framework': ['`vllm`, `sglang`, `trtllm`, `custom`', 'custom is not checked against the support matrix'],
  'engine.version': [
    'PEP 440 version or range',
    "`0.19.0`, `~0.19`, `>=0.14,<0.20`, `1.3.0rc11`; a range resolves to one exact pin; custom engines need an exact version, and a wheel's file name must carry it",
  ],
  'engine.wheel': ['mapping', 'a local wheel'],
  'engine.wheel.path': ['relative path', 'the `.whl` file'],
  'engine.wheel.sha256': ['64 hex digits', 'checked at plan time and again while the context streams'],
  'engine.index': ['mapping', 'a wheel from a package index'],
  'engine.index.requirement': [
    'distribution name',
    "default: the framework's package (`vllm`, `sglang`, `tensorrt-llm`); the version comes from `engine.version`",
  ],
  'engine.index.url': ['http(s) URL', "default: the framework's index, or PyPI"],
  'engine.index.secret': [
    'secret id',
    "a build secret holding a netrc file for the index, mounted as root's `~/.netrc` for the install step only (BuildKit; the classic builder refuses)",
  ],
  'engine.binary': [
    'mapping',
    'a prebuilt executable: one file, or one per platform: `path: bin/{arch}/server`, `sha256: { amd64: ..., arm64: ... }` (in a flow mapping, quote the path: `{ path: "bin/{arch}/server", ... }`)',
  ],
  'engine.binary.path': [
    'relative path',
    "the file; `{arch}` in it (amd64, arm64) names one file per platform: each is checked against its own platform (ELF machine), only the platform's own file goes into its image (BuildKit's `TARGETARCH`; the classic builder gets it as a build argument)",
  ],
  'engine.binary.sha256': [
    '64 hex digits, or `{amd64, arm64}` of them',
    'its digest; for a path with `{arch}`, one per architecture in `base.platforms` (`dynamo-image pin` writes them)',
  ],
  'engine.binary.installPath': ['absolute path', 'where it lands, mode 0755'],
  'engine.image': ['mapping', 'the upstream engine image, used as the runtime base'],
  'engine.image.ref': ['image reference', "default: the framework's image for the pinned version and CUDA (e.g. `vllm/vllm-openai:v0.19.0-cu129-ubuntu2404`)"],
};
