import { nativePlatform, platformTag } from '../domain/platforms.js';
import type { Engine } from '../engine/port.js';
import type { PlannedRecipe } from '../plan/make-plan.js';
import { buildAndTest, type BuildAndTestOptions, type BuildAndTestResult } from './build-and-test.js';

// Which images one build of a plan makes, and building them: the one loop over platforms that
// `build`, `publish` and the library share.

export interface PlatformBuild {
  /** The platform to build for; null: the engine's default (a plan of one platform, no --platform). */
  platform: string | null;
  /** Local tags instead of the plan's (null: the plan's NAME:VERSION and -t). */
  tags: string[] | null;
}

/**
 * A plan of one platform, or one platform picked (`--platform`): one build. A plan of several: one
 * image per platform, tagged `NAME:VERSION-ARCH`; for `build` the one of this machine's architecture
 * also gets `NAME:VERSION` (a publish tags only in the registry).
 */
export function platformBuilds(
  plan: Pick<PlannedRecipe['plan'], 'platforms' | 'image'>,
  opts: { platform?: string | undefined; for: 'build' | 'publish'; native?: string },
): PlatformBuild[] {
  const multi = plan.platforms.length > 1;
  if (opts.platform) return [{ platform: opts.platform, tags: multi && opts.for === 'publish' ? [platformTag(plan.image, opts.platform)] : null }];
  if (!multi) return [{ platform: null, tags: null }];
  const native = opts.native ?? nativePlatform();
  const base = `${plan.image.name}:${plan.image.version}`;
  return plan.platforms.map((platform) => ({
    platform,
    tags: [platformTag(plan.image, platform), ...(opts.for === 'build' && platform === native ? [base] : [])],
  }));
}

export interface PlatformResult extends BuildAndTestResult {
  platform: string | null;
}

/** Builds and tests each platform's image in turn (a failure stops the rest: no later tags). */
export async function buildPlatforms(
  engine: Engine,
  planned: Pick<PlannedRecipe, 'plan' | 'recipeDir'>,
  builds: PlatformBuild[],
  optionsFor: (b: PlatformBuild) => BuildAndTestOptions,
  onDone?: (r: PlatformResult) => void,
): Promise<PlatformResult[]> {
  const out: PlatformResult[] = [];
  for (const b of builds) {
    const r = { platform: b.platform, ...(await buildAndTest(engine, planned, optionsFor(b))) };
    out.push(r);
    onDone?.(r);
  }
  return out;
}
