import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isGmailTransportError, type GmailTransportError } from '../errors.js';

/** Where the CLI reads and writes; injectable so tests run commands in-process. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Opens a URL in the user's browser; must never throw (the URL is printed anyway). */
  openBrowser: (url: string) => void | Promise<void>;
}

/** Exit codes: 0 success, 1 the operation failed (diagnosis printed), 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A failure the CLI reports: a library error, or one of the CLI's own outcomes. */
export interface Diagnosis {
  code: string;
  message: string;
  hint?: string;
  [field: string]: unknown;
}

/** A wrong command line; printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Runs node:util parseArgs, turning its errors into UsageError without echoing argument values. */
export function parseCommandLine<O extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const code = (err as { code?: string }).code;
    // The positional's text could be a secret typed in the wrong place: never quote it.
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError('unexpected argument (this command takes only --options)');
    throw new UsageError(String((err as Error).message).split('. ')[0]!);
  }
}

/** The printable form of any failure; a GmailTransportError keeps its public fields, no cause. */
export function diagnosisOf(err: unknown): Diagnosis {
  if (isGmailTransportError(err)) return (err as GmailTransportError).toJSON() as Diagnosis;
  return { code: 'UNKNOWN', message: 'Unexpected error', hint: 'Run again; if it keeps happening, please report it with the command you ran (not its secrets).' };
}

/** Writes a failure for people: code, message, where it happened, server facts, hint. */
export function printDiagnosis(io: CliIo, command: string, diagnosis: Diagnosis, annotate?: (path: string) => string): void {
  const issues = Array.isArray(diagnosis.issues) ? (diagnosis.issues as { path: string; message: string; hint?: string }[]) : undefined;
  // A CONFIG_INVALID message already lists the issues on one line; they are listed below instead.
  const lines = [`${command}: FAILED ${diagnosis.code}`, `  ${issues ? 'Invalid configuration:' : diagnosis.message}`];
  const facts = [
    diagnosis.strategy !== undefined ? `strategy ${String(diagnosis.strategy)}` : '',
    diagnosis.phase !== undefined && diagnosis.phase !== 'config' ? `phase ${String(diagnosis.phase)}` : '',
    diagnosis.httpStatus !== undefined ? `HTTP ${String(diagnosis.httpStatus)}` : '',
    diagnosis.reason !== undefined ? `reason ${String(diagnosis.reason)}` : '',
    diagnosis.retryable === true ? 'retryable' : '',
  ].filter(Boolean);
  if (facts.length > 0) lines.push(`  ${facts.join(', ')}`);
  if (typeof diagnosis.response === 'string' && !diagnosis.message.includes(diagnosis.response)) lines.push(`  response: ${diagnosis.response.replace(/\r?\n/g, ' | ')}`);
  if (issues) {
    for (const issue of issues) {
      lines.push(`  - ${annotate ? annotate(issue.path) : issue.path} ${issue.message}`);
      // The issue's own advice; the error's hint below is for all of them.
      if (issue.hint && issue.hint !== diagnosis.hint) lines.push(`      ${issue.hint}`);
    }
  }
  if (diagnosis.hint) lines.push(`  hint: ${diagnosis.hint}`);
  io.stderr.write(`${lines.join('\n')}\n`);
}

/** Writes one JSON document on stdout (for --json). */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A duration with its unit, e.g. `90s`, `5m`, `1500ms`: a bare number would leave the unit to guess. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} takes a duration with its unit, e.g. 90s or 5m`);
  const amount = Number(match[1]);
  const ms = match[2] === 'ms' ? amount : match[2] === 's' ? amount * 1000 : amount * 60_000;
  if (ms <= 0) throw new UsageError(`${flag} must be longer than 0`);
  return ms;
}
