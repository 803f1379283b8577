/**
 * `npm run demo`: sends one message through each strategy, and one through the SMTP bridge, to
 * local servers on 127.0.0.1 (SMTP with TLS from a certificate made on the fly, a stand-in for
 * Google's token endpoint and Gmail API) and prints what the servers saw. No Google account and
 * no network. Exits 0 when every message arrived, 1 otherwise.
 *
 * The deliveries are listed in examples/demo/entries.ts; the servers live in
 * examples/demo/server.ts (SMTP) and examples/demo/google.ts (token endpoint, Gmail API).
 */
import { runDemo } from './demo/run.js';

const DEADLINE_MS = 20_000;

const deadline = setTimeout(() => {
  console.error(`\ndemo: no result after ${DEADLINE_MS / 1000} s, giving up`);
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

runDemo().then(
  ({ failed }) => process.exit(failed.length === 0 ? 0 : 1),
  (err: unknown) => {
    console.error('demo failed:', err);
    process.exit(1);
  },
);
