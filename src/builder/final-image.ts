import type { ImageSummary } from '../engine/port.js';
import { PLAN_DIGEST_LABEL } from '../plan/build-plan.js';

/**
 * Which of the images an engine lists under a build's labels are that build's result. Docker puts
 * a build's labels on its final image only; buildah (Podman) puts them on every stage's image and
 * every step's commit, so the framework stage (root, no entrypoint, the wheelhouse inside) carries
 * the build key too. The result is what only the target stage's last commit has: the plan digest
 * label (set in the runtime stage, inherited by dev), and no other listed image built on it.
 */
export function finalImages<T extends Pick<ImageSummary, 'id' | 'parentId' | 'labels'>>(candidates: readonly T[], planDigest: string): T[] {
  const parents = new Set(candidates.map((c) => c.parentId).filter((p) => p !== ''));
  return candidates.filter((c) => c.labels[PLAN_DIGEST_LABEL] === planDigest && !parents.has(c.id));
}
