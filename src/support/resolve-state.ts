import type { Issue, IssueCode } from '../errors.js';
import { normalizePep440, parsePep440, parseSpecifier, type Specifier } from '../versions/pep440.js';
import type { Recipe } from '../recipe/schema.js';
import type { Architecture } from '../domain/platforms.js';
import { type MatrixRow, type SupportData } from './schema.js';

// What the resolution's rules share: its result's shape, its options, the state the rules read and
// decide, and the small helpers every rule uses.

export interface Resolution {
  engineVersion: string;
  dynamoVersion: string | null;
  cuda: string | null;
  minDriver: string | null;
  /** The support-matrix row the build matches, if any. */
  row: MatrixRow | null;
  status: 'supported' | 'experimental' | 'unsupported' | 'not-applicable';
  base: {
    runtime: string;
    builder: string;
    source: 'table' | 'explicit' | 'engine-image';
    os: string;
    /** The base image already has python3 with the venv module. */
    pythonIncluded: boolean;
  };
  engineImage: string | null;
  /** The CUDA devel image of the toolkit (base-images.yaml's devel column), for `imports: [{image: devel}]`. */
  develImage: string | null;
  /** Package name and index for engines installed from an index. */
  enginePackage: string | null;
  engineIndex: string | null;
  /** The Dynamo release's NIXL (for this framework) and UCX series, where the support data says. */
  nixl: string | null;
  ucx: string | null;
  warnings: Issue[];
}

export interface ResolveOptions {
  allowUnsupported?: boolean;
  file: string;
  /** Maps a field path to its position in the recipe, for issues. */
  locate: (path: (string | number)[]) => { line: number; col: number };
}

export const ARCH_OF: Record<string, Architecture> = { 'linux/amd64': 'amd64', 'linux/arm64': 'arm64' };

export function spec(text: string): Specifier {
  const r = parseSpecifier(text);
  if (!r.ok) throw new Error(`bug: unvalidated specifier ${text}`);
  return r.spec;
}

export function exactOf(s: Specifier): string | null {
  const only = s.clauses.length === 1 ? s.clauses[0] : undefined;
  if (only && only.op === '==' && !only.wildcard) return normalizePep440(parsePep440(only.version)!);
  return null;
}
/** What the rules read and decide, in the order of RESOLVE_RULES. */
export interface Resolving {
  recipe: Recipe;
  data: SupportData;
  opts: ResolveOptions;
  fw: Recipe['engine']['framework'];
  archs: Architecture[];
  cuda: string | null;
  issues: Issue[];
  warnings: Issue[];
  err: (path: (string | number)[], code: IssueCode, message: string, hint?: string) => void;
  engineVersion: string | null;
  dynamoVersion: string | null;
  row: MatrixRow | null;
  status: Resolution['status'];
  baseOut: Resolution['base'] | null;
  engineImage: string | null;
  develImage: string | null;
}
