import tseslint from 'typescript-eslint';

// The rules that keep ARCHITECTURE.md's claims true are at the bottom: which modules may import
// the Docker client, where the process may exit, and which modules are pure.

/** Modules ARCHITECTURE.md calls pure: no I/O, no engine, no CLI. */
const PURE = [
  'src/errors.ts',
  'src/recipe/parse.ts',
  'src/recipe/schema.ts',
  'src/recipe/values.ts',
  'src/recipe/smoke-schema.ts',
  'src/recipe/scaffold.ts',
  'src/domain/**',
  'src/options/**',
  'src/refs/**',
  'src/engine/dockerode-images.ts',
  'src/engine/build-stream.ts',
  'src/recipe/positions.ts',
  'src/recipe/suggest.ts',
  'src/versions/**',
  'src/support/resolve.ts',
  'src/support/resolve-*.ts',
  'src/matrix/expand.ts',
  'src/outputs/ci-matrix.ts',
  'src/support/schema.ts',
  'src/plan/build-plan.ts',
  'src/plan/canonical.ts',
  'src/plan/types.ts',
  'src/plan/limits.ts',
  'src/plan/openpgp.ts',
  'src/plan/summary.ts',
  'src/support/compat.ts',
  'src/builder/step-network.ts',
  'src/dockerfile/**',
  'src/context/files.ts',
  'src/smoke/checks.ts',
  'src/smoke/report.ts',
  'src/smoke/driver.ts',
  'src/smoke/cuda-variant.ts',
  'src/smoke/elf.ts',
  'src/smoke/loader.ts',
  'src/smoke/overlay.ts',
  'src/recipe/python-needed.ts',
];

const IO_MODULES = [
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'child_process',
  'node:child_process',
  'net',
  'node:net',
  'http',
  'node:http',
  'https',
  'node:https',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/support/*.mjs', 'scripts/**', 'bin/**', '.api-consumer-check.ts'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // The bugs that bite stream code.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Only the engine adapter talks to dockerode; everything else goes through the Engine port.
    files: ['src/**/*.ts'],
    ignores: ['src/engine/dockerode-*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'dockerode', message: 'only the adapter, src/engine/dockerode-*.ts, imports dockerode (ARCHITECTURE.md)', allowTypeImports: false }],
        },
      ],
    },
  },
  {
    // `as never` silences every type check at once; the source says what a value is instead.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: 'TSAsExpression > TSNeverKeyword', message: 'no `as never`: name the type (ARCHITECTURE.md)' }],
    },
  },
  {
    // One place decides exit codes: src/cli/main.ts.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/main.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'only src/cli/main.ts ends the process; throw a typed error instead' },
      ],
    },
  },
  {
    files: PURE,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...IO_MODULES, 'dockerode', 'tar-stream'].map((name) => ({ name, message: 'a pure module does no I/O (ARCHITECTURE.md)' })),
          patterns: [
            {
              group: [
                '**/engine/**',
                '**/cli/**',
                '**/pipeline/**',
                '**/builder/**',
                '**/smoke/run-tests*',
                '**/smoke/kinds/**',
                '**/smoke/context*',
                '**/publish/registry-client*',
                '**/publish/credentials*',
                '**/publish/publish*',
              ],
              message: 'the pure core never imports the engine, the CLI or the I/O shells',
            },
          ],
        },
      ],
    },
  },
);
