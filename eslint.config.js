// Lint gate (npm run lint): type-aware rules for TypeScript, import hygiene (order, type-only
// imports, no cycles) and long lines. Formatting itself is Prettier's (npm run format).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'scratch/', 'test-artifacts/', 'src/openapi/docs/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  importX.flatConfigs.recommended,
  importX.flatConfigs.typescript,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      // Folders depend one way: features on http/db/aggregates, never the reverse.
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src/http',
              from: [
                './src/auth',
                './src/metrics',
                './src/analytics',
                './src/telemetry',
                './src/mapping',
                './src/policies',
              ],
            },
            { target: './src/telemetry', from: ['./src/analytics', './src/aggregates', './src/policies'] },
            { target: './src/aggregates', from: ['./src/analytics', './src/policies', './src/http'] },
            { target: './src/policies', from: ['./src/analytics', './src/telemetry', './src/http'] },
            // The database layer holds connections and the dialect; table types are its only feature imports.
            {
              target: './src/db',
              from: [
                './src/http',
                './src/analytics',
                './src/replicas',
                './src/jobs',
                './src/health',
                './src/dashboard',
                './src/openapi',
                './src/metrics',
                './src/policies',
                './src/app.ts',
              ],
            },
            // Replica routing and the job scheduler sit on db, below the features and http.
            {
              target: './src/replicas',
              from: ['./src/analytics', './src/telemetry', './src/app.ts'],
            },
            { target: './src/jobs', from: ['./src/http', './src/analytics', './src/telemetry'] },
            // Streams feed telemetry; they never reach into analytics, the archive or the API wiring.
            {
              target: './src/streams',
              from: ['./src/analytics', './src/archive', './src/aggregates', './src/replicas', './src/app.ts'],
            },
            // The archive works below the API: database, object store, files.
            {
              target: './src/archive',
              from: ['./src/analytics', './src/http', './src/auth', './src/mapping', './src/policies'],
            },
            // src/runtime is the top layer: it brings the processes up and wires the features
            // together; nothing below imports it (tests, bench and tools may).
            { target: './src/!(runtime)/**', from: './src/runtime' },
            { target: './src/*.ts', from: './src/runtime' },
          ],
        },
      ],
      // Default exports named like a member (koa's Router, postgres) are how those packages are used.
      'import-x/no-named-as-default': 'off',
      'import-x/no-named-as-default-member': 'off',
      'import-x/no-duplicates': ['error', { 'prefer-inline': true }],
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', ['internal', 'parent', 'sibling', 'index']],
          'newlines-between': 'always',
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
      'max-len': [
        'error',
        { code: 130, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true },
      ],
    },
  },
  {
    // Tests read JSON bodies typed `any` and assert on their values.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The dashboard runs in the browser as plain ES modules, checked by // @ts-check.
    files: ['src/dashboard/public/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { ...globals.browser },
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);
