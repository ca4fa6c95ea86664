import { normalizeDist } from '../versions/wheel-name.js';

// A pip requirements file as pip's hash-checking mode needs it: every requirement pinned with `==`
// and at least one `--hash=sha256:...`. Pure: the file's text in, the packages (recorded in the plan
// and the label) or the problems (each with its line) out.

export interface PinnedRequirement {
  /** PEP 503 normalised name, extras dropped. */
  name: string;
  version: string;
  hashes: string[];
  line: number;
}

export interface RequirementsProblem {
  line: number;
  message: string;
}

const REQ = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._ -]+\])?\s*==\s*([A-Za-z0-9.+!_-]+)\s*(;[^-]*)?$/;

export function parseRequirements(text: string): { packages: PinnedRequirement[]; problems: RequirementsProblem[] } {
  const packages: PinnedRequirement[] = [];
  const problems: RequirementsProblem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    // A logical line: continued with a trailing backslash.
    let logical = lines[i]!;
    while (logical.endsWith('\\') && i + 1 < lines.length) logical = `${logical.slice(0, -1)} ${lines[++i]!}`;
    const stmt = logical.replace(/(^|\s)#.*$/, '').trim();
    if (!stmt) continue;
    if (stmt.startsWith('-')) {
      problems.push({ line: first, message: `"${stmt.split(/\s/)[0]}": options belong in the recipe (dependencies.index), not in the requirements file` });
      continue;
    }
    const parts = stmt.split(/\s+--hash[= ]/);
    const m = REQ.exec(parts[0]!.trim());
    if (!m) {
      problems.push({ line: first, message: `"${parts[0]!.trim()}" is not pinned: write NAME==VERSION (hash-checking mode installs exact versions only)` });
      continue;
    }
    const hashes = parts.slice(1).map((h) => h.trim());
    const bad = hashes.find((h) => !/^sha256:[0-9a-f]{64}$/.test(h));
    if (bad !== undefined) {
      problems.push({ line: first, message: `--hash=${bad}: only sha256 digests (sha256:<64 hex digits>)` });
      continue;
    }
    if (!hashes.length) {
      problems.push({
        line: first,
        message: `${m[1]}==${m[3]} has no --hash=sha256:...: every requirement needs one (pip download or pip-compile --generate-hashes writes them)`,
      });
      continue;
    }
    packages.push({ name: normalizeDist(m[1]!), version: m[3]!, hashes: hashes.map((h) => h.slice('sha256:'.length)), line: first });
  }
  const seen = new Map<string, number>();
  for (const p of packages) {
    const at = seen.get(p.name);
    if (at !== undefined) problems.push({ line: p.line, message: `${p.name} is listed twice (also line ${at})` });
    else seen.set(p.name, p.line);
  }
  return { packages, problems };
}
