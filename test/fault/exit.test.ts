import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runChild } from '../helpers/child-run.js';
import { PASS, drop, reply421, stall, type Fault } from '../helpers/fault-proxy.js';
import { duplicates, startFaultHarness, type FaultHarness } from '../helpers/fault-harness.js';
import { startTokenEndpoint, type BreakableTokenEndpoint } from '../helpers/fault-token-endpoint.js';
import { CLIENT_SECRET, REFRESH_TOKEN, uniqueClientId } from '../helpers/oauth-fixtures.js';

const CHILD = fileURLToPath(new URL('./exit-child.ts', import.meta.url));
/** How long the child may take to exit once it has closed its transport. */
const EXIT_BOUND_MS = 5_000;
const MESSAGES = 12;

// The first connections meet one fault each; the rest pass.
const FAULTS: Fault[] = [drop('after-auth'), reply421('mail'), stall('greeting'), drop('before-greeting'), reply421('dot'), drop('after-dot')];

describe('a process that met every kind of fault exits on its own after close()', () => {
  let h: FaultHarness;
  let tokens: BreakableTokenEndpoint;
  beforeAll(async () => {
    tokens = await startTokenEndpoint();
    h = await startFaultHarness({ plan: (n) => FAULTS[n] ?? PASS, server: { checkAuth: (auth) => tokens.isValid(auth.accessToken) } });
  });
  afterAll(async () => {
    await h.close();
    await tokens.close();
  });

  it(`prints its outcomes and exits with code 0 within ${EXIT_BOUND_MS} ms, with nothing escaped`, async () => {
    const { report, exit, stderr } = await runChild<{ outcomes: string[]; escaped: string[] }>(
      CHILD,
      {
        CLIENT_ID: uniqueClientId(),
        CLIENT_SECRET,
        REFRESH_TOKEN,
        TOKEN_URL: tokens.url,
        SMTP_PORT: String(h.proxy.port),
        SMTP_CA: h.proxy.cert,
        MESSAGES: String(MESSAGES),
      },
      { exitBoundMs: EXIT_BOUND_MS },
    );
    expect(exit, 'the child kept running after close(): something keeps its event loop alive').not.toBe('still running');
    expect(exit, stderr).toBe(0);

    const { outcomes, escaped } = report;
    expect(escaped).toEqual([]);
    expect(
      outcomes.every((o) => o === 'ok' || o === 'DELIVERY_UNCERTAIN'),
      outcomes.join(),
    ).toBe(true);
    expect(outcomes.filter((o) => o === 'DELIVERY_UNCERTAIN')).toHaveLength(1);
    const reached = h.proxy.connections.slice(0, FAULTS.length).map((c) => c.outcome);
    expect(reached).toEqual(['drop-after-auth', '421-mail', 'stall-greeting', 'drop-before-greeting', '421-dot', 'drop-after-dot'].map((o) => `injected:${o}`));
    // Every message on the server once; the uncertain one too (its reply was lost, not the message).
    expect(h.delivered()).toHaveLength(MESSAGES);
    expect(duplicates(h.delivered())).toEqual([]);
  });
});
