import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Import direction (docs/design.md, "Import direction"): the engine does not know how its
  // results are written, and the limiter does not know the client it paces.
  {
    files: ['src/job/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/report/*', '**/report'],
              message: 'job/ must not import report/: take a writer through EngineOptions (job/outputs.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/limit/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/api/client', '**/api/client.js'],
              message: 'limit/ must not import api/client.ts: what it needs is in api/headers.ts.',
            },
          ],
        },
      ],
    },
  },
  // formatting is Prettier's (npm run lint runs prettier --check): no stylistic ESLint rules
  prettier,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
