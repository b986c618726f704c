// Flat ESLint config: the recommended JS and TypeScript rules, with a few that catch MoE-library bugs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'results/**', 'runs/**', '.gpu/**', '.cache/**', 'notebooks/**', 'dist/**', '.jupyter/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Issue 17: the experiments' code stays readable without horizontal scrolling. Long strings are split
    // with `+`, not exempted.
    files: ['experiments/**/*.ts'],
    rules: {
      'max-len': ['error', { code: 120, ignoreUrls: true }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
