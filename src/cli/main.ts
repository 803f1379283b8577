import { VERSION } from '../core/version.js';
import { runAuth } from './auth.js';
import { openBrowser } from './browser.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, terminalSafe, UsageError, type CliIo } from './io.js';
import { runVerify } from './verify.js';
import { runDoctor } from './doctor.js';
import { runHashPassword, runServe } from './serve.js';
import { runLog } from './log.js';

export type { CliIo } from './io.js';

/** The commands: one line each. */
const COMMANDS: Readonly<Record<string, { summary: string; run: (args: readonly string[], io: CliIo) => Promise<number> }>> = {
  auth: { summary: 'get an OAuth2 refresh token (browser consent, loopback redirect, PKCE)', run: runAuth },
  verify: { summary: 'connect and authenticate with a config; optionally send a test message', run: runVerify },
  doctor: { summary: "check the sending domain's MX, SPF, DKIM and DMARC for the route that sends", run: runDoctor },
  serve: { summary: 'run the SMTP bridge for printers and devices (--config bridge.json)', run: runServe },
  'hash-password': { summary: 'hash a device password from stdin for the bridge config', run: runHashPassword },
  log: { summary: 'show the send log (sendLog option): filter, export as CSV or JSON lines', run: runLog },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: gmail-transport <command> [options]

Commands:
${lines.join('\n')}

Run "gmail-transport <command> --help" for a command's options.
gmail-transport ${VERSION}
`;
}

/**
 * Runs the `gmail-transport` command line and resolves with its exit code: 0 success, 1 the
 * operation failed (a diagnosis was printed), 2 the command line was wrong. Never calls
 * process.exit, so tests run it in-process with their own `io`.
 */
export async function main(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  // The spread keeps extra io of single commands (the bridge's stdin and signals) for tests.
  const full: CliIo = terminalSafe({
    ...io,
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    openBrowser: io.openBrowser ?? openBrowser,
  });
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    full.stdout.write(help());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    full.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    full.stderr.write(`gmail-transport: unknown command (expected one of: ${Object.keys(COMMANDS).join(', ')})\n\n${help()}`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, full);
  } catch (err) {
    if (err instanceof UsageError) {
      full.stderr.write(`gmail-transport ${name}: ${err.message}\nRun "gmail-transport ${name} --help" for usage.\n`);
      return EXIT_USAGE;
    }
    // Commands report their own failures; this is a bug. Print no message: it might quote input.
    full.stderr.write(`gmail-transport ${name}: unexpected ${(err as Error)?.name ?? 'error'}; please report it.\n`);
    return EXIT_FAILED;
  }
}
