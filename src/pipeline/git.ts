import { execFileSync } from 'node:child_process';

/** The commit the recipe's folder is checked out at ({git_sha} in tag templates), or null. */
export function gitSha(dir: string): string | null {
  try {
    return (
      execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
        .toString()
        .trim() || null
    );
  } catch {
    return null;
  }
}
