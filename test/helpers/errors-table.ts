import { pathToFileURL } from 'node:url';
import { ERROR_CODES } from '../../src/index.js';
import { ERROR_MEANINGS, RETRYABLE_BY_CODE } from '../../src/errors/catalog.js';
import { hintFor } from '../../src/errors/hints.js';

/**
 * The README's error table (code, meaning, hint in English, retryable), generated from the
 * catalog and hints.ts. test/errors/hints.test.ts checks the README holds exactly this text;
 * print it with `npx tsx test/helpers/errors-table.ts` after changing a hint.
 */
export function renderErrorsTable(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = ERROR_CODES.map((code) => `| \`${code}\` | ${cell(ERROR_MEANINGS[code])} | ${cell(hintFor(code, 'en'))} | ${RETRYABLE_BY_CODE[code]} |`);
  return ['| Code | Meaning | Hint (`en`) | Retryable |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.stdout.write(`${renderErrorsTable()}\n`);
