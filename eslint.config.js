import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * The folders of src/, bottom to top. A module imports from its own folder and the folders
 * listed before it, never from one after it (docs/decisions/0012-layout.md).
 */
export const LAYERS = [
  'errors',
  'core',
  'tokens',
  'send-log',
  'delivery',
  'routes',
  'budget',
  'strategies',
  'config',
  'transport',
  'doctor',
  'consent',
  'bridge',
  'cli',
];

/**
 * Matches a relative import path that enters one of `folders` (`../routes/x.js`,
 * `../../cli/io.js`). `/` is written `\u002F` so the pattern also fits an esquery selector.
 */
function entering(folders) {
  return `(^|\\u002F)\\.\\.\\u002F(${folders.join('|')})\\u002F`;
}

/** One config object per layer: its files may not import from the layers above it. */
const layerRules = LAYERS.slice(0, -1).map((layer, index) => {
  const above = LAYERS.slice(index + 1);
  const message = `src/${layer}/ may import only from ${['its own folder', ...LAYERS.slice(0, index)].join(', ')} (docs/decisions/0012-layout.md).`;
  const pattern = entering(above);
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: pattern, message }] }],
      'no-restricted-syntax': [
        'error',
        { selector: `ImportExpression[source.value=/${pattern}/]`, message },
        { selector: `TSImportType[source.value=/${pattern}/]`, message },
      ],
    },
  };
});

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a binding kept on purpose (a destructured field left out, a
      // callback parameter a signature requires).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Control characters in patterns are deliberate here: the code strips them from text a
      // server or a device sent before it reaches a terminal, a log or a reply.
      'no-control-regex': 'off',
    },
  },
  {
    // The CommonJS example shows require() on purpose: it is what a CommonJS user writes.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  layerRules,
);
