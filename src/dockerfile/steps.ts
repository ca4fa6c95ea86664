import type { Plan } from '../plan/types.js';
import type { Instruction, Mount } from './ast.js';
import { RenderError, shellQuote } from './render.js';

/** The venv with pip that installs into the runtime venv (`pip --python`); never in the runtime stage. */
export const BUILD_TOOLS = '/opt/dynamo/build-tools';

// The RUN steps the stages are made of: apt installs (with the recipe's repositories), pip installs
// into a venv (cache mounts and index secrets with BuildKit), and the recipe's own steps.

/** How the Dockerfile is rendered for a builder: BuildKit gets cache mounts for downloads. */
export interface RenderOptions {
  /** BuildKit: pip and apt downloads go to cache mounts that outlive the build. Classic: none. */
  buildkit: boolean;
  /**
   * Each RUN says its network (BuildKit whose Dockerfile frontend knows `RUN --network`, on a build
   * that has a network): `--network=default` on the steps that download or asked for one,
   * `--network=none` on every other. Without it every RUN gets the build's network.
   */
  stepNetwork?: boolean;
}

/** pip's downloads, kept between builds (BuildKit); never part of a layer. */
export const PIP_CACHE = '/root/.cache/pip';
/** apt's archives: a folder of our own, because Debian/Ubuntu images' docker-clean empties apt's. */
export const APT_CACHE = '/var/cache/dynamo-image-apt';

export function aptInstall(packages: string[], o: RenderOptions, aptOptions: string[] = []): Instruction {
  const cacheOpt = o.buildkit ? ` -o Dir::Cache::Archives=${APT_CACHE}/archives` : '';
  // The recipe's apt options (NAME::NAME=VALUE, checked by the schema), on both apt-get calls.
  const extra = aptOptions.map((x) => ` -o ${shellQuote(x)}`).join('');
  return {
    kind: 'run',
    network: 'default',
    ...(o.buildkit ? { mounts: [{ type: 'cache' as const, id: 'dynamo-image-apt', target: APT_CACHE }] } : {}),
    shell: [
      ...(o.buildkit ? [`mkdir -p ${APT_CACHE}/archives/partial`] : []),
      `apt-get${extra} update`,
      `DEBIAN_FRONTEND=noninteractive apt-get${extra} install -y --no-install-recommends${cacheOpt} ${packages.map(shellQuote).join(' ')}`,
      'rm -rf /var/lib/apt/lists/*',
    ],
  };
}

/** Where an extra apt repository's key lands (apt reads an armored key only with the .asc suffix). */
export function keyringOf(a: Plan['aptRepositories'][number]): string {
  return `/usr/share/keyrings/dynamo-image-${a.name}${a.key.endsWith('.asc') ? '.asc' : '.gpg'}`;
}

/** The list files of extra apt repositories: `{arch}` and `{cuda_arch}` are resolved in the image. */
export function aptSources(repos: Plan['aptRepositories']): string[] {
  const lines = repos.map((a) => {
    const keyring = keyringOf(a);
    // The schema allows only URL characters and the two placeholders in uri, and plain words in
    // suite and components: nothing the double quotes below would treat specially but ${...}.
    if (
      !/^https?:\/\/([A-Za-z0-9._~:\/@+,=%-]|\{arch\}|\{cuda_arch\})+$/.test(a.uri) ||
      !/^[A-Za-z0-9._\/-]+$/.test(a.suite) ||
      a.components.some((c) => !/^[a-z0-9-]+$/.test(c)) ||
      !/^[a-z0-9-]+$/.test(a.name)
    )
      throw new RenderError(`apt repository ${JSON.stringify(a.name)} holds characters that cannot be written safely`);
    const uri = a.uri.replaceAll('{arch}', '${arch}').replaceAll('{cuda_arch}', '${cuda_arch}');
    const list = `echo "deb [signed-by=${keyring}] ${[uri, a.suite, ...a.components].join(' ')}" > /etc/apt/sources.list.d/dynamo-image-${a.name}.list`;
    // 500 is apt's own priority: no pin. Otherwise every package from the repository's host gets
    // the recipe's priority (default 100: it adds packages, it never replaces the base's). A host
    // the base's own lists use as well would be pinned with them: the build stops and says so.
    if (a.priority === 500) return [list];
    const host = new URL(a.uri.replaceAll('{arch}', 'x').replaceAll('{cuda_arch}', 'x')).hostname;
    if (!/^[A-Za-z0-9.:\[\]-]+$/.test(host) || a.uri.split('/')[2]!.includes('{'))
      throw new RenderError(`apt repository ${JSON.stringify(a.name)}: its host cannot hold {arch} or {cuda_arch}`);
    if (!Number.isInteger(a.priority) || a.priority < 1 || a.priority > 1000)
      throw new RenderError(`apt repository ${JSON.stringify(a.name)}: priority ${a.priority} is not 1-1000`);
    const pref = `/etc/apt/preferences.d/dynamo-image-${a.name}.pref`;
    return [
      `if grep -rqsE --exclude='dynamo-image-*' ${shellQuote(`//${host.replaceAll('.', '\\.')}[:/]`)} /etc/apt/sources.list /etc/apt/sources.list.d/; then echo ${shellQuote(`apt repository ${a.name}: the base image's apt sources use ${host} too, and a priority pin by host would apply to them: set priority: 500 for this repository`)} >&2; exit 1; fi`,
      list,
      `printf 'Package: *\\nPin: origin "%s"\\nPin-Priority: %s\\n' ${shellQuote(host)} ${a.priority} > ${pref}`,
    ];
  });
  return [
    'arch="$(dpkg --print-architecture)"',
    'case "$arch" in amd64) cuda_arch=x86_64 ;; arm64) cuda_arch=sbsa ;; *) cuda_arch="$arch" ;; esac',
    ...lines.flat(),
  ];
}

/**
 * One pip install into the runtime venv: the build-tools venv's pip installs into it (pip >= 22.3),
 * so the runtime venv carries no installer of its own. BuildKit: pip's cache is a cache mount, and
 * an index's netrc secret is mounted as root's ~/.netrc for this step only.
 */
export function pipInto(venv: string, args: string[], o: RenderOptions, secret: string | null = null): Instruction {
  // Only an index is downloaded from; `--no-index` installs read the wheelhouse.
  const fetches = args.includes('--index-url');
  const mounts: Mount[] = [];
  if (o.buildkit) mounts.push({ type: 'cache', id: 'dynamo-image-pip', target: PIP_CACHE });
  if (secret) mounts.push({ type: 'secret', id: secret, target: '/root/.netrc' });
  return {
    kind: 'run',
    ...(fetches ? { network: 'default' as const } : {}),
    ...(mounts.length ? { mounts } : {}),
    shell: [
      `${BUILD_TOOLS}/bin/pip --python ${venv}/bin/python install${o.buildkit ? '' : ' --no-cache-dir'} --disable-pip-version-check ${args.map(shellQuote).join(' ')}`,
    ],
  };
}

/**
 * An index for pip. A plain-http index (a mirror on the local network, a test index) is named a
 * trusted host: the recipe chose http already, and pip caches downloads only from https and
 * trusted hosts.
 */
export function indexArgs(url: string): string[] {
  const u = new URL(url);
  return ['--index-url', url, ...(u.protocol === 'http:' ? ['--trusted-host', u.hostname] : [])];
}

/** A recipe step: exec form, so the script reaches sh as written and the Dockerfile parser never reads it. */
export function step(st: Plan['steps'][number], o: RenderOptions): Instruction {
  const mounts: Mount[] = [
    ...(o.buildkit ? st.caches.map((target) => ({ type: 'cache' as const, id: `dynamo-image-step${target.replace(/\//g, '-')}`, target })) : []),
    ...st.secrets.map((id) => ({ type: 'secret' as const, id })),
  ];
  return {
    kind: 'run-exec',
    argv: ['/bin/sh', '-ec', st.run],
    comment: st.name,
    ...(st.network ? { network: 'default' as const } : {}),
    ...(mounts.length ? { mounts } : {}),
  };
}
