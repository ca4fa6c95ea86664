// The labels dynamo-image writes on every image it builds, and reads back (up-to-date checks, the
// no-change fast path, why, compat, the GPU checks). No imports: the fast path loads this too.

export const LABEL_PREFIX = 'dev.dynamo-image';
/** Which stage an image is (`runtime`, `dev`). */
export const TARGET_LABEL = `${LABEL_PREFIX}.target`;
export const PLAN_DIGEST_LABEL = `${LABEL_PREFIX}.plan-digest`;
/** Classic builds set it (value `classic`) on every stage: the builder's step containers carry it too. */
export const BUILDER_LABEL = `${LABEL_PREFIX}.builder`;
/** Set through the build API on every image: the same value means the same build (plan, target, args, platform). */
export const BUILD_KEY_LABEL = `${LABEL_PREFIX}.build-key`;
/** What `compat` and the GPU checks read from an image: its CUDA, the driver it needs, its framework. */
export const CUDA_LABEL = `${LABEL_PREFIX}.cuda-version`;
export const MIN_DRIVER_LABEL = `${LABEL_PREFIX}.min-driver`;
export const FRAMEWORK_LABEL = `${LABEL_PREFIX}.framework`;
/** The ids of the base images a build started from (JSON, by reference): a base rebuilt under its tag is a change. */
export const BASE_IDS_LABEL = `${LABEL_PREFIX}.base-ids`;
