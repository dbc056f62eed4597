// typescript-eslint's strictest type-checked rules over every TypeScript file; plain JavaScript
// (configs, scripts) gets the recommended rules without type information.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.strictTypeChecked, ...tseslint.configs.stylisticTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers and booleans read naturally in log lines and URLs.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `void promise` marks a deliberate fire-and-forget.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Fights optional callbacks in tests and platform shims more than it helps.
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
  {
    // A file to one job, a function to one task (CONTRIBUTING.md). A function's limit counts its
    // code: a comment that says why never pushes it over.
    files: ['src/**/*.ts', 'transports/**/*.ts', 'server/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Test bodies assert on values they just built; non-null assertions keep them readable.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        ignoreVoid: true,
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
    },
  },
  {
    files: ['**/*.{js,mjs}'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    // Pages that QtWebKit 5.212 and other engines without modules run as they are: ES5 scripts.
    files: ['demo/public/chat.js', 'demo/public/compat.js', 'demo/public/compat-legacy.js', 'scripts/qtwebkit-probe/*.js', 'test/qtwebkit/pages/*.js'],
    languageOptions: {
      ecmaVersion: 5,
      sourceType: 'script',
      // The ES2015 library objects these engines have (QtWebKit 5.212: Promise, Map, Set, typed arrays...).
      globals: { ...globals.browser, ...globals.es2015, CometKit: 'readonly', PROBE: 'readonly' },
    },
    // ES5 has no optional catch binding: a catch names what it ignores.
    rules: { 'no-unused-vars': ['error', { caughtErrors: 'none' }] },
  },
);
