import { defineConfig } from 'vitest/config';

// SOURCE_DATE_EPOCH changes every plan (reproducible builds); the tests set it where they mean it.
delete process.env['SOURCE_DATE_EPOCH'];

export default defineConfig({
  test: {
    // In CI a JSON report too, from which .ci/run prints a plain 'N passed, N failed' line.
    reporters: process.env['CI'] ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest-results.json' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // One worker: the other runs the integration files from the start (projects run side by
          // side; with both workers the unit files went first and held the engine's tests 33 s).
          maxWorkers: 1,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One engine, two cores: files run one after another; tests inside may still be slow.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          globalSetup: ['test/integration/global-setup.ts'],
        },
      },
    ],
  },
});
