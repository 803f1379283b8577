import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, hintFor } from '../../src/index.js';
import { hintKeys } from '../../src/errors/hints.js';
import { ERROR_REFERENCE_FILES, renderErrorReference } from '../../scripts/gen-error-reference.js';

const committed = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the generated error reference (docs/errors-reference.md, docs/ja/errors-reference.md)', () => {
  it.each([['en'], ['ja']] as const)('%s: the committed page is what `npm run docs:errors` writes from the code today', (locale) => {
    const path = ERROR_REFERENCE_FILES[locale];
    // A failure here means a code, a meaning, a retryable flag or a hint changed: run `npm run docs:errors`.
    expect(committed(path), `${path} is stale: run npm run docs:errors`).toBe(renderErrorReference(locale));
  });

  it.each([['en'], ['ja']] as const)('%s: shows every code with its hint and every hint variant', (locale) => {
    const page = renderErrorReference(locale);
    for (const code of ERROR_CODES) {
      expect(page).toContain(`## \`${code}\`\n`);
      expect(page).toContain(hintFor(code, locale));
    }
    for (const key of hintKeys()) expect(page).toContain(hintFor(key, locale));
  });
});
