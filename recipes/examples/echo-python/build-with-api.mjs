// Builds and smoke-tests this folder's recipe through dynamo-image's library API instead of the
// CLI: plan, render, build with the tests between build and tags, and print one JSON result.
// Run from the repository (after `npm run build`):  node recipes/examples/echo-python/build-with-api.mjs [RECIPE]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAndTest, connectDocker, DynamoImageError, planRecipe, plainProgress, renderDockerfile, dockerfileFromPlan } from 'dynamo-image';

const recipe = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'recipe.yaml');
const lines = [];
try {
  const planned = await planRecipe(recipe);
  const dockerfile = renderDockerfile(dockerfileFromPlan(planned.plan, 'runtime'));
  const engine = await connectDocker();
  const progress = plainProgress((l) => lines.push(l));
  const { build, smoke, report } = await buildAndTest(engine, planned, {
    target: 'runtime',
    builder: 'auto',
    signal: AbortSignal.timeout(600_000),
    progress,
    test: true,
    smoke: { gpu: 'auto', jobs: 2 },
    events: { onResult: (r) => lines.push(`${r.status} ${r.name}`) },
  });
  console.log(JSON.stringify({ image: build.image, tags: build.tags, upToDate: build.upToDate, planDigest: planned.plan.digest, dockerfileLines: dockerfile.split('\n').length, smoke, results: report?.results.map((r) => ({ name: r.name, status: r.status })) ?? null, progressLines: lines.length }));
} catch (e) {
  // Typed errors carry a stable code and the exit code the CLI would use.
  if (e instanceof DynamoImageError) {
    console.error(`error[${e.code}]: ${e.message}`);
    process.exitCode = e.exitCode;
  } else throw e;
}
