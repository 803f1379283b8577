import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runChild } from '../helpers/child-run.js';
import { testCert } from '../helpers/certs.js';
import { draw } from '../helpers/seeded-random.js';
import { startSoakServer, type SoakServer } from '../helpers/soak-smtp.js';
import { startTokenEndpoint, type BreakableTokenEndpoint } from '../helpers/fault-token-endpoint.js';
import { CLIENT_SECRET, REFRESH_TOKEN, uniqueClientId } from '../helpers/oauth-fixtures.js';

const CHILD = fileURLToPath(new URL('./soak-child.ts', import.meta.url));
const MESSAGES = Number(process.env.SOAK_MESSAGES ?? 20_000);
const WARMUP = 1_000;
const SEED = Number(process.env.SOAK_SEED ?? 20250314);
const REFUSAL_RATE = 0.05;
const ATTEMPTS = 3;
/**
 * Google's tokens last an hour and the provider refreshes them eagerRefreshMs (5 min by default)
 * before that. The child runs the transport on an injected clock that goes SCALE times faster
 * than real time (sleeps shrink to match): 3600 s tokens and the default eagerRefreshMs, so a
 * token is refreshed every 55 simulated minutes, 2.75 s of the run. The SMTP server judges the
 * tokens on the same clock.
 */
const TOKEN_LIFETIME_MS = 3_600_000;
const EAGER_REFRESH_MS = 300_000;
const SCALE = 1200;
const ID_HEADER = 'X-Soak-Id';

interface ChildReport {
  warmup: { accepted: number; rejected: { id: string; code: string; retryable?: boolean; phase?: string }[] };
  main: ChildReport['warmup'];
  heapStart: number;
  heapEnd: number;
  durationMs: number;
  /** From the child's start to the end of its run, warm-up included. */
  totalMs: number;
  tokenEvents: number;
  retryEvents: number;
  warnings: { code: string }[];
  escaped: string[];
}

/** Whether attempt `attempt` of message `id` is refused: the same answer in the server and here. */
const refused = (id: string, attempt: number) => draw(SEED, `${id}#${attempt}`) < REFUSAL_RATE;

describe(`soak: ${MESSAGES.toLocaleString('en')} messages on a clock ${SCALE}x real time, one-hour tokens, a seeded ${REFUSAL_RATE * 100}% of final dots answered 421`, () => {
  let server: SoakServer;
  let tokens: BreakableTokenEndpoint;
  beforeAll(async () => {
    tokens = await startTokenEndpoint();
    tokens.expiresInS = TOKEN_LIFETIME_MS / 1000;
    // Valid while less than an hour of the child's clock has passed since it was issued.
    const tokenValid = (t: string | undefined): boolean => {
      const expiresAt = t === undefined ? undefined : tokens.issued.get(t);
      return expiresAt !== undefined && (Date.now() - (expiresAt - TOKEN_LIFETIME_MS)) * SCALE < TOKEN_LIFETIME_MS;
    };
    server = await startSoakServer({ cert: await testCert(), idHeader: ID_HEADER, refuse: refused, tokenValid });
  });
  afterAll(async () => {
    await server.close();
    await tokens.close();
  });

  it(
    'every message delivered exactly once or rejected with a typed error; the heap after GC stays within 10% of the start',
    { timeout: Math.max(180_000, MESSAGES * 10) },
    async () => {
      const { report, exit, stderr } = await runChild<ChildReport>(
        CHILD,
        {
          CLIENT_ID: uniqueClientId(),
          CLIENT_SECRET,
          REFRESH_TOKEN,
          TOKEN_URL: tokens.url,
          SMTP_PORT: String(server.port),
          SMTP_CA: (await testCert()).cert,
          MESSAGES: String(MESSAGES),
          WARMUP: String(WARMUP),
          WINDOW: '100',
          ID_HEADER,
          CLOCK_EPOCH: String(Date.now()),
          CLOCK_SCALE: String(SCALE),
        },
        { nodeArgs: ['--expose-gc'], exitBoundMs: 5_000 },
      );
      expect(exit, `the soak process did not exit on its own after close(): ${stderr}`).toBe(0);

      // What the seed says must happen: a message is rejected when all its attempts draw a 421.
      const predict = (ids: string[]) => {
        const rejected = ids.filter((id) => Array.from({ length: ATTEMPTS }, (_, i) => refused(id, i + 1)).every(Boolean));
        let refusals = 0;
        for (const id of ids) for (let a = 1; a <= ATTEMPTS && refused(id, a); a++) refusals++;
        return { rejected, refusals };
      };
      const warmIds = Array.from({ length: WARMUP }, (_, i) => `w${i}`);
      const mainIds = Array.from({ length: MESSAGES }, (_, i) => `m${i}`);
      const expected = predict([...warmIds, ...mainIds]);

      const rejected = [...report.warmup.rejected, ...report.main.rejected];
      const duplicated = [...server.delivered].filter(([, n]) => n > 1);
      const deliveredMain = mainIds.filter((id) => server.delivered.has(id)).length;
      const rejectedMain = report.main.rejected.length;
      const heapGrowth = report.heapEnd / report.heapStart - 1;
      const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
      process.stdout.write(
        `soak: ${MESSAGES} messages in ${(report.durationMs / 1000).toFixed(1)} s (${Math.round(MESSAGES / (report.durationMs / 1000))} msg/s), ` +
          `${deliveredMain} delivered + ${rejectedMain} rejected (TEMPORARY_FAILURE after ${ATTEMPTS} x 421), ` +
          `${server.stats.refused421} x 421 in all, ${tokens.requests} token requests, ${server.stats.connections} connections; ` +
          `heap after GC: ${mb(report.heapStart)} at the start, ${mb(report.heapEnd)} at the end (${(heapGrowth * 100).toFixed(1)}%)\n`,
      );

      expect(report.escaped).toEqual([]);
      expect(duplicated).toEqual([]);
      // Delivered + rejected = every message; nobody lost, nobody twice.
      expect(deliveredMain + rejectedMain).toBe(MESSAGES);
      expect(report.main.accepted).toBe(deliveredMain);
      expect(server.delivered.size + rejected.length).toBe(WARMUP + MESSAGES);
      for (const r of rejected) expect(r).toMatchObject({ code: 'TEMPORARY_FAILURE', retryable: true, phase: 'data' });
      // Exactly the seed's prediction: which messages were rejected, and how many 421s were given.
      expect(rejected.map((r) => r.id).sort()).toEqual([...expected.rejected].sort());
      expect(server.stats.refused421).toBe(expected.refusals);
      expect(report.retryEvents).toBe(expected.refusals - expected.rejected.length);
      // Tokens expired and were refreshed before use throughout: no login was refused.
      expect(server.stats.loginsRefused).toBe(0);
      expect(tokens.requests).toBe(report.tokenEvents);
      expect(tokens.requests).toBeGreaterThan(1);
      // At most one request per refresh window (55 simulated minutes).
      expect(tokens.requests).toBeLessThanOrEqual(Math.ceil(report.totalMs / ((TOKEN_LIFETIME_MS - EAGER_REFRESH_MS) / SCALE)) + 1);
      expect(report.warnings).toEqual([]);
      expect(Math.abs(heapGrowth)).toBeLessThanOrEqual(0.1);
    },
  );
});
