import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './scripts/eslint-layers.mjs';

export default tseslint.config(
  { ignores: ['node_modules/', '.next/', '.strata/', 'drizzle/meta/', 'next-env.d.ts', 'test-results/', 'playwright-report/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // One-way layers, no folder cycles (docs/design.md §0).
  {
    files: ['**/*.{ts,tsx,mts,mjs}'],
    plugins: { strata: layers },
    rules: { 'strata/layers': 'error' },
  },
  // Only lib/env.ts reads the process environment (docs/design.md §9); dev tooling, test support
  // and Next's runtime switch in instrumentation.ts aside.
  {
    files: ['**/*.{ts,tsx,mts,mjs}'],
    ignores: ['lib/env.ts', '**/*.test.ts', '**/test-support.ts', 'scripts/**', 'bench/**', 'e2e/**', 'lib/testing/**', 'lib/reliability/**', 'instrumentation.ts', '*.config.{ts,mjs}'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'read the environment through lib/env.ts (loadConfig, processEnv, searchPath)' }],
    },
  },
);
