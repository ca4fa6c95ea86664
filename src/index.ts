// dynamo-image as a library: the same pipeline the CLI runs, as functions that return values and
// throw typed errors. Nothing here prints; progress arrives through the sinks you pass.
//
//   import { planRecipe, renderDockerfile, connectDocker, buildAndTest } from 'dynamo-image';
//
// Loading this module loads no Docker client: `connectDocker()` does, on first use.

// Recipes and plans
export { loadRecipe, planLoaded, planRecipe, tryPlanRecipe } from './plan/make-plan.js';
export type { LoadedRecipe, PlanOptions, PlanOutcome, PlannedRecipe } from './plan/make-plan.js';
export type { Plan, PlanInput } from './plan/types.js';
export type { Recipe, RecipeInput } from './recipe/schema.js';
export { recipeJsonSchema } from './recipe/json-schema.js';

// Dockerfiles
export { dockerfileFromPlan, TARGETS } from './dockerfile/from-plan.js';
export type { Target } from './dockerfile/from-plan.js';
export { renderDockerfile } from './dockerfile/render.js';

// Matrices
export { expandRecipes, findRecipes } from './pipeline/variants.js';
export type { Variants } from './pipeline/variants.js';
export { expandMatrix, parseVariant, shard } from './matrix/expand.js';
export { bakeFile, githubMatrix } from './outputs/ci-matrix.js';
export type { MatrixEntry } from './outputs/ci-matrix.js';

// The engine, building and testing
export { connectDocker } from './engine/dockerode-engine.js';
export type { Engine, EngineInfo, GpuRequest } from './engine/port.js';
export { buildAndTest, builtImageOf, testImage, testsDigest } from './pipeline/build-and-test.js';
export { whyRebuild } from './pipeline/why.js';
export { checkCompat, hostDriver } from './pipeline/compat.js';
export type { CompatVerdict } from './pipeline/compat.js';
export type { WhyRequest, WhyResult } from './pipeline/why.js';
export type { BuildAndTestOptions, BuildAndTestResult, SmokeRunOptions, SmokeSummary, TestEvents } from './pipeline/build-and-test.js';
export type { BuildOutcome } from './builder/run-build.js';
export { plainProgress, quietProgress } from './builder/progress.js';
export type { ProgressSink } from './builder/progress.js';
export { loadTestsFile } from './smoke/load-tests.js';
export { formatHuman, formatJunit } from './smoke/report.js';
export type { GpuStatus, SmokeReport, TestResult } from './smoke/types.js';

// Publishing
export { findCredentials } from './publish/credentials.js';
export { publishImage, publishTarget, PublishFailure } from './publish/publish.js';
export type { PublishTarget, PushedTag } from './publish/publish.js';
export { retryPolicy } from './publish/registry-client.js';
export { applyRelease, planRelease, pushBuilt, releaseRefusal, releaseTargets, RELEASE_PLAN_VERSION } from './pipeline/publish.js';
export type { ApplyReleaseOptions, PreparedRelease, ReleasePlan, ReleaseRequest, ReleaseResult } from './pipeline/publish.js';
export { buildPlatforms, platformBuilds } from './pipeline/platforms.js';
export type { PlatformBuild, PlatformResult } from './pipeline/platforms.js';

// Errors
export { DynamoImageError, EnvironmentError, ExitCode, formatIssue, InputError, InterruptedError, ISSUE_CODES, OperationError, UsageError } from './errors.js';
export type { Issue, IssueCode } from './errors.js';
export { TOOL_VERSION } from './version.js';
