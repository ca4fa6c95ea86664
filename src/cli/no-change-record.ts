import path from 'node:path';
import { BUILD_KEY_LABEL } from '../builder/run-build.js';
import { recordNoChange, stampOf } from '../fast/no-change.js';
import type { PlannedRecipe } from '../plan/make-plan.js';
import { lockPathFor } from '../plan/lock-file.js';
import type { PlatformResult } from '../pipeline/platforms.js';
import { testRecordPath } from '../smoke/records.js';
import { PACKAGE_ROOT } from '../support/load.js';
import { summarize, type BuildCliOptions } from './build-options.js';

// The record an up-to-date `build` leaves for the no-change fast path (fast/no-change.ts): what it
// read (each file's stamp) and what it printed.

const SUPPORT_FILES = ['support-matrix.yaml', 'base-images.yaml'];

export /** What this up-to-date run read and printed, for the next identical one to replay. */
async function recordReplay(file: string, planned: PlannedRecipe, opts: BuildCliOptions, r: PlatformResult, notes: string[]): Promise<void> {
  const files = [
    path.resolve(file),
    ...planned.plan.inputs.map((i) => path.join(planned.recipeDir, i.source)),
    ...SUPPORT_FILES.map((f) => path.join(PACKAGE_ROOT, 'base-images', f)),
    ...(opts.locked ? [lockPathFor(file)] : []),
    testRecordPath(r.build.image),
  ];
  await recordNoChange(opts.invocation!, {
    files: files.map(stampOf),
    image: { id: r.build.image, tags: r.build.tags, label: BUILD_KEY_LABEL, key: r.build.buildKey },
    notes,
    summary: summarize(r.build),
    json: { ...r.build, smoke: r.smoke },
  });
}
