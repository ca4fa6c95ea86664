import path from 'node:path';
import { stringify } from 'yaml';
import { API_VERSION } from './schema.js';

// `init`'s recipe for a custom backend (a Python wheel or a binary), from its answers. Pure: the
// command asks, pipeline/scaffold.ts validates and writes.

export interface ScaffoldAnswers {
  kind: 'wheel' | 'binary';
  /** The wheel's or binary's file name. */
  fileName: string;
  sha256: string;
  name: string;
  version: string;
  engineVersion: string | null;
  entrypoint: string[];
  command: string[];
  port?: string | undefined;
  cuda?: string | undefined;
  baseImage?: string | undefined;
  python: string;
  installPath?: string | undefined;
}

/** The recipe's own rules, applied to each answer as it comes (messages as `validate` gives them). */
export const SCAFFOLD_CHECKS: Partial<Record<'name' | 'imageVersion' | 'port' | 'python' | 'cuda', (v: string) => string | null>> = {
  name: (v) =>
    /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(v)
      ? null
      : 'must be lowercase letters, digits and separators (. _ - /), e.g. "my-backend"',
  imageVersion: (v) => (/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(v) ? null : 'must be a semantic version such as 1.4.0'),
  port: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? null : 'must be a port number from 1 to 65535'),
  python: (v) => (/^3\.\d{1,2}$/.test(v) ? null : 'must be a Python version such as 3.12'),
  cuda: (v) => (/^\d{1,3}\.\d{1,3}$/.test(v) ? null : 'must be MAJOR.MINOR, e.g. 12.9'),
};

export function wheelVersion(file: string): string | null {
  const m = /^[A-Za-z0-9_.]+-([^-]+)-/.exec(path.basename(file));
  return m ? m[1]! : null;
}

/** Where the input goes next to the recipe. */
export function scaffoldInputPath(kind: ScaffoldAnswers['kind'], fileName: string): string {
  return kind === 'wheel' ? `wheels/${fileName}` : `bin/${fileName}`;
}

/** The recipe text, with a schema reference (`schemaRef`, relative to the recipe) for editors. */
export function scaffoldRecipe(a: ScaffoldAnswers, schemaRef: string): string {
  const rel = scaffoldInputPath(a.kind, a.fileName);
  const recipe = {
    apiVersion: API_VERSION,
    name: a.name,
    version: a.version,
    base: { ...(a.baseImage ? { image: a.baseImage } : {}), ...(a.cuda ? { cuda: a.cuda } : {}), platforms: ['linux/amd64'] },
    python: a.python,
    engine: {
      framework: 'custom',
      version: a.kind === 'wheel' ? (a.engineVersion ?? a.version) : a.version,
      ...(a.kind === 'wheel'
        ? { wheel: { path: rel, sha256: a.sha256 } }
        : { binary: { path: rel, sha256: a.sha256, installPath: a.installPath ?? `/usr/local/bin/${a.fileName}` } }),
    },
    backend: { entrypoint: a.entrypoint, ...(a.command.length ? { command: a.command } : {}), ...(a.port ? { ports: [Number(a.port)] } : {}) },
    smoke: {
      tests: [
        { kind: 'metadata', name: 'runs as the non-root user', user: '1000:0' },
        // A GPU test only for a CUDA base: a CPU engine on its own image has no GPU to see.
        ...(a.cuda ? [{ kind: 'command', name: 'a GPU is visible', gpu: true, command: ['nvidia-smi', '-L'] }] : []),
      ],
    },
    publish: { tags: ['{version}'] },
  };
  return `# yaml-language-server: $schema=${schemaRef}\n# Scaffolded by \`dynamo-image init\`. Reference: README.md, "Recipe reference".\n${stringify(recipe)}`;
}
