#!/usr/bin/env bash
# The quick start: installs dependencies, builds the tool, brings up the local engine and base
# images (npm run env:up), then builds the bundled example and shows the result.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run build
bash scripts/env-up.sh
npx dynamo-image validate recipes/examples/*/recipe.yaml
npx dynamo-image build recipes/examples/echo-python/recipe.yaml
docker run --rm --network none echo-python:0.1.0 --version
