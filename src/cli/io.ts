import { parseArgs, type ParseArgsConfig } from 'node:util';
import { stripControlCharacters } from '../core/untrusted-text.js';

/** Standard input as the CLI reads it: a terminal may be switched to raw mode for hidden input. */
export type CliStdin = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

/** Where the CLI reads and writes; injectable so tests run commands in-process. */
/** Where a command writes: process.stdout or process.stderr, or a test's stand-in. */
export interface CliOutput {
  write(text: string): unknown;
  /** A stream's 'error' event: EPIPE once the reader went away (`gmail-transport log | head`). */
  on?(event: 'error', listener: (err: Error) => void): unknown;
  /** Set once writing failed (the reader went away): what is written after that is dropped. */
  readonly closed?: boolean;
}

export interface CliIo {
  stdout: CliOutput;
  stderr: CliOutput;
  /** @default process.stdin */
  stdin?: CliStdin;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Opens a URL in the user's browser; must never throw (the URL is printed anyway). */
  openBrowser: (url: string) => void | Promise<void>;
}

/** Exit codes: 0 success, 1 the operation failed (diagnosis printed), 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

import type { Diagnosis } from '../errors/diagnosis.js';

export { diagnosisOf, type Diagnosis } from '../errors/diagnosis.js';

/** A wrong command line; printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Runs node:util parseArgs, turning its errors into UsageError without echoing argument values. */
// The return type is spelled out: inferred, it names a type node:util does not export, which a
// declaration build cannot write.
export function parseCommandLine<O extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const code = (err as { code?: string }).code;
    // The positional's text could be a secret typed in the wrong place: never quote it.
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError('unexpected argument (this command takes only --options)');
    throw new UsageError(String((err as Error).message).split('. ')[0]!);
  }
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
  if (typeof diagnosis.response === 'string' && !diagnosis.message.includes(diagnosis.response))
    lines.push(`  response: ${diagnosis.response.replace(/\r?\n/g, ' | ')}`);
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

/**
 * The longest a Node.js timer waits (2^31 - 1 ms, about 24.8 days); a longer delay is taken as
 * 1 ms, so a longer duration would end at once.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration with its unit, e.g. `90s`, `5m`, `1500ms`: a bare number would leave the unit to guess. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} takes a duration with its unit, e.g. 90s or 5m`);
  const amount = Number(match[1]);
  const ms = match[2] === 'ms' ? amount : match[2] === 's' ? amount * 1000 : amount * 60_000;
  if (ms <= 0) throw new UsageError(`${flag} must be longer than 0`);
  if (ms > MAX_TIMER_MS) throw new UsageError(`${flag} must be at most ${Math.floor(MAX_TIMER_MS / 60_000)}m (about 24 days, the longest a timer can wait)`);
  return ms;
}

/**
 * The same io, whose stdout and stderr drop the characters a terminal acts on. Commands print
 * what came from outside (a server's reply, a file's name, an address), and such text must not
 * move the cursor, rewrite the screen or set the window title; the CLI's own text has none of them.
 */
export function terminalSafe<T extends CliIo>(io: T): T {
  return { ...io, stdout: safeOutput(io.stdout), stderr: safeOutput(io.stderr) };
}

/** Whether writing to a stream failed, once per stream however many times main() runs. */
const failedOutputs = new WeakMap<CliOutput, { failed: boolean }>();

function failureOf(stream: CliOutput): { failed: boolean } {
  let state = failedOutputs.get(stream);
  if (!state) {
    const watched = { failed: false };
    stream.on?.('error', () => (watched.failed = true));
    failedOutputs.set(stream, (state = watched));
  }
  return state;
}

/**
 * Also: a write to a reader that went away (a closed pipe) is an 'error' event, which would end
 * the process, the bridge of `serve` with it. It is listened to, and later writes are dropped.
 */
function safeOutput(stream: CliOutput): CliOutput {
  const failed = failureOf(stream);
  return {
    write: (text: string) => (failed.failed ? false : stream.write(stripControlCharacters(text))),
    get closed() {
      return failed.failed;
    },
  };
}

/**
 * Reads one secret from standard input: typed without echo after `prompt` on a terminal, else
 * the whole input less one final line break (`echo secret | …` adds one). `undefined` when the
 * typing was cancelled (Ctrl-C, Ctrl-D).
 */
export async function readSecretInput(stdin: CliStdin, io: CliIo, prompt: string): Promise<string | undefined> {
  if (stdin.isTTY && stdin.setRawMode) return (await readHiddenLines(stdin, io, [prompt]))?.[0];
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  // `echo secret | gmail-transport …` adds one newline that is not part of it.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * Reads one line per prompt from a terminal in raw mode, without echo; undefined on Ctrl+C or
 * Ctrl+D.
 */
export function readHiddenLines(stdin: CliStdin, io: CliIo, prompts: readonly string[]): Promise<string[] | undefined> {
  io.stderr.write(prompts[0]!);
  return new Promise((done) => {
    const answers: string[] = [];
    let text = '';
    let afterReturn = false;
    const finish = (value: string[] | undefined) => {
      stdin.setRawMode?.(false);
      stdin.off('data', onData);
      stdin.pause();
      done(value);
    };
    const onData = (data: Buffer | string) => {
      for (const char of data.toString('utf8')) {
        // A "\r\n" is one Enter, not an empty second answer.
        const lineFeedOfReturn = char === '\n' && afterReturn;
        afterReturn = char === '\r';
        if (lineFeedOfReturn) continue;
        if (char === '\r' || char === '\n') {
          answers.push(text);
          text = '';
          io.stderr.write('\n');
          if (answers.length === prompts.length) return finish(answers);
          io.stderr.write(prompts[answers.length]!);
        } else if (char === '\u0003' || char === '\u0004') {
          io.stderr.write('\n');
          return finish(undefined);
        } else if (char === '\u007f' || char === '\b') text = text.slice(0, -1);
        else text += char;
      }
    };
    stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
