import type { FieldDocs } from './types.js';

// What the build adds: Python dependencies, recipe steps, apt packages and repositories, imports, files, build arguments, labels.

export const BUILD_FIELDS: FieldDocs = {
  dependencies: ['mapping', 'Python dependencies of the engine'],
  'dependencies.wheels': [
    'list',
    "wheels in the recipe's folder, each pinned; installed with the engine, offline, in pip's hash-checking mode (`--require-hashes`): every dependency must be listed. Recorded in the plan and the label `dev.dynamo-image.python-dependencies`",
  ],
  'dependencies.wheels[].path': ['relative path', 'a `.whl` file'],
  'dependencies.wheels[].sha256': ['64 hex digits', 'its digest (`dynamo-image pin` writes it)'],
  'dependencies.requirements': [
    'mapping',
    "a pip requirements file with hashes, `{path, sha256}`: every line `NAME==VERSION --hash=sha256:...` (what `pip-compile --generate-hashes` writes); checked at plan time, each problem named at its line in that file (`input.requirements`); installed in pip's hash-checking mode together with the wheels, from `dependencies.index`, or offline from the wheels. Its packages are recorded in the plan and the `python-dependencies` label",
  ],
  'dependencies.requirements.path': ['relative path', 'the file'],
  'dependencies.requirements.sha256': ['64 hex digits', 'its digest (`dynamo-image pin` writes it)'],
  'dependencies.index': ['mapping', 'where the requirements come from, e.g. `{ url: https://pypi.org/simple }`; without it, offline from the wheels'],
  'dependencies.index.url': ['http(s) URL', 'a PEP 503 index; never carries credentials (use `secret`)'],
  'dependencies.index.secret': ['secret id', "a build secret holding a netrc file, mounted as root's `~/.netrc` for the install step only (BuildKit)"],
  steps: ['list', 'build steps, in order, after the engine is installed and before the small files (a config edit does not re-run them)'],
  'steps[].name': ['text', 'shown in progress and errors, and as a comment in the Dockerfile'],
  'steps[].run': ['shell script', 'run as root with `sh -ec`, in exec form (the Dockerfile parser never reads it); several lines allowed'],
  'steps[].stage': [
    '`framework`',
    '`framework` (files the image should ship go under `/opt/dynamo/staging/<absolute path>`) or `runtime` (in the runtime image, before the switch to the runtime user)',
  ],
  'steps[].network': ['`false`', "the step downloads: the build then gets the engine's network (otherwise every `RUN` step has none)"],
  'steps[].secrets': [
    'ids',
    "build secrets the step reads from `/run/secrets/ID`: given as `--secret id=ID,src=FILE` or `--secret id=ID,env=VARIABLE` (build, publish), served by dynamo-image's own BuildKit session and mounted for that step only; never in a layer, the history, a label, the plan or the output (a test searches `docker save` and all of those). BuildKit only: the classic builder refuses",
  ],
  'steps[].caches': [
    'absolute paths',
    "folders kept between builds, e.g. `[/root/.cache/pip]`: BuildKit cache mounts (never in the image); with the classic builder they are plain folders of the layer. The tool's own pip and apt steps always get cache mounts under BuildKit",
  ],
  systemPackages: ['Debian package names', 'installed with apt in the runtime stage (the build then needs a network)'],
  aptOptions: [
    'list of `NAME::NAME=VALUE`',
    "apt configuration for every `apt-get` the tool renders (`apt-get -o NAME=VALUE update` and `install`): what an archive needs, e.g. `Acquire::Check-Valid-Until=false` for an archive whose Release has expired (an old snapshot, sid's index here), `Acquire::Retries=5`. Only those characters: the schema refuses anything a shell would read",
  ],
  aptRepositories: [
    'list',
    'extra apt repositories the `systemPackages` may come from, each signed by a key the recipe pins: the key is copied to `/usr/share/keyrings/dynamo-image-NAME.gpg` (or `.asc`) and a list file `deb [signed-by=...] URI SUITE COMPONENTS` is written before the apt step. E.g. NVIDIA\'s CUDA repository for cuDNN: `{ name: cuda, uri: "https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/{cuda_arch}", suite: /, key: { path: keys/cuda-archive-keyring.gpg, sha256: ... } }`',
  ],
  'aptRepositories[].name': ['short name', 'names the list file and the keyring'],
  'aptRepositories[].uri': [
    'http(s) URL',
    "`{arch}` is the image's Debian architecture (amd64, arm64), `{cuda_arch}` NVIDIA's name for it (x86_64, sbsa): resolved inside the image, per platform",
  ],
  'aptRepositories[].suite': ['suite or path', '`noble`, or `/` / `./` for a flat repository'],
  'aptRepositories[].components': ['names', 'e.g. `[main]`; none for a flat repository'],
  'aptRepositories[].key': [
    'mapping',
    "the signing key, `{path, sha256}` in the recipe's folder (`dynamo-image pin` writes the digest); apt refuses the repository if its Release is not signed by it",
  ],
  'aptRepositories[].key.path': [
    'relative path',
    "an OpenPGP public key: binary (`.gpg`, `gpg --export`) or armored (`.asc`, `gpg --armor --export`). `validate` reads it: the format must match the suffix (apt picks the format by it), every packet must parse, the first must be a public key, no secret key; a GnuPG keybox is refused. Its primary keys' fingerprints go into the plan",
  ],
  'aptRepositories[].key.sha256': ['64 hex digits', 'its digest'],
  'aptRepositories[].key.fingerprint': [
    '40 hex digits (v4 key, spaces allowed) or 64 (v6)',
    "optional: the fingerprint the repository's publisher gives; `validate` refuses a key file whose primary keys do not include it (`input.apt-key-fingerprint`). `pin` never writes it: taken from the file it would prove nothing",
  ],
  'aptRepositories[].priority': [
    '1-1000, default 100',
    "apt pin priority for every package from the repository's host (`/etc/apt/preferences.d/dynamo-image-NAME.pref`): 100 adds packages but never replaces a package the base's repositories have; 500 writes no pin (apt's default: the higher version wins); 990 prefers the repository. A host the base's own apt sources use too would be pinned with them: the build stops and says so (use 500 then)",
  ],
  imports: [
    'list',
    'files taken from other images (`COPY --from=IMAGE`) into the runtime stage, before the engine and files: the CUDA JIT tools from the devel image, `nats-server`, `etcd`, `uv`, a NIXL/UCX build. Image references are pinned by `dynamo-image lock` like the base',
  ],
  'imports[].image': [
    '`devel` or image reference',
    "`devel`: the CUDA devel image of the variant's toolkit (`base-images.yaml`'s `devel` column); a tag `{dynamo_version}` is the build's Dynamo release (NIXL/UCX from `nvcr.io/nvidia/ai-dynamo/vllm-runtime:{dynamo_version}`)",
  ],
  'imports[].paths': [
    'list',
    'absolute paths, each copied to the same path; or `{source, destination}`; `*` allowed in the last part (`/usr/local/cuda/lib64/libcudart.so*` copies into its folder); a folder copies its contents',
  ],
  'imports[].paths[].source': ['absolute path', 'the path in the image (`*` allowed in the last part)'],
  'imports[].paths[].destination': ['absolute path', 'where it lands'],
  files: ['list', 'extra files to copy'],
  'files[].source': [
    'relative path',
    "a file or a folder in the recipe's folder (a folder copies every regular file below it, in sorted order, each to the same relative path below `destination`; an empty folder is an error `input.empty-folder`); checked after normalising (`./a//b` is `a/b`); no part may start with `-`, none may be the top-level `Dockerfile`. With `{arch}` in it (`lib/{arch}/libplugin.so`), one file per platform of `base.platforms` (`amd64`, `arm64`; not a folder): each platform's image gets its own (rendered once as `lib/${TARGETARCH}/...`), an ELF file for another architecture is refused at validate (`input.platform-mismatch`)",
  ],
  'files[].destination': ['absolute path', 'where it lands in the image'],
  'files[].sha256': [
    'hex, or `{amd64, arm64}` for a source with `{arch}`',
    'optional: the file\'s digest, checked by `validate` and every build (`input.sha256-mismatch`; `pin` rewrites it). For a folder, sha256 over its listing: one `<sha256>  <path below the folder>` line per file in path order, as `find . -type f -printf "%P\\n" | LC_ALL=C sort | xargs sha256sum | sha256sum` prints it inside the folder',
  ],
  'files[].mode': ['octal, e.g. `"0644"`', 'its mode (of each file, for a folder)'],
  'files[].owner': ['`UID` or `UID:GID`, numbers', 'its owner in the image (default root), e.g. `"1000:0"` for a config the runtime user writes'],
  buildArgs: ['name -> value', '`ARG`s of the framework stage (visible to its `RUN` steps, e.g. pip settings); `--build-arg` overrides'],
  labels: ['reverse-DNS key -> value', "extra image labels; the `dev.dynamo-image.*` keys are reserved for the tool's provenance"],
};
