import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/support/*.mjs', 'scripts/**', 'bin/**'] },
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
      // The pure core must not reach the engine or the CLI.
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['src/recipe/**', 'src/versions/**', 'src/matrix/**', 'src/plan/**', 'src/dockerfile/**', 'src/context/files.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/engine/**', '**/cli/**', 'dockerode', 'tar-stream'], message: 'the pure core never imports the engine or the CLI' }] }],
    },
  },
);
