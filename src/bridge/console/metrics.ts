import { LATENCY_BUCKETS, type ConsoleActivity } from './activity.js';
import type { AuthLockout } from '../lockout.js';

/**
 * The Prometheus text exposition format (version 0.0.4) of the bridge's counters: messages by
 * outcome and upstream code, the upstream's latency, token fetches and lockouts.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */
export function metricsText(activity: ConsoleActivity, smtpLockout: AuthLockout): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

  family('gmail_transport_bridge_messages_total', 'counter', 'Messages devices handed over, by outcome and upstream error code.');
  for (const { outcome, code, count } of activity.messages.values())
    lines.push(`gmail_transport_bridge_messages_total{outcome="${label(outcome)}",code="${label(code)}"} ${count}`);

  family('gmail_transport_bridge_upstream_latency_seconds', 'histogram', "Time from the end of a message to the upstream's answer.");
  LATENCY_BUCKETS.forEach((le, i) => lines.push(`gmail_transport_bridge_upstream_latency_seconds_bucket{le="${le}"} ${activity.latency.buckets[i]}`));
  lines.push(`gmail_transport_bridge_upstream_latency_seconds_bucket{le="+Inf"} ${activity.latency.count}`);
  lines.push(`gmail_transport_bridge_upstream_latency_seconds_sum ${activity.latency.sumSeconds}`);
  lines.push(`gmail_transport_bridge_upstream_latency_seconds_count ${activity.latency.count}`);

  family('gmail_transport_bridge_token_refreshes_total', 'counter', 'Access tokens fetched from Google.');
  lines.push(`gmail_transport_bridge_token_refreshes_total ${activity.tokenRefreshes}`);

  family('gmail_transport_bridge_lockouts_total', 'counter', 'Addresses locked out after failed SMTP logins.');
  lines.push(`gmail_transport_bridge_lockouts_total ${activity.lockouts}`);
  family('gmail_transport_bridge_lockouts', 'gauge', 'Addresses locked out now.');
  lines.push(`gmail_transport_bridge_lockouts ${smtpLockout.lockedOut().length}`);

  family('gmail_transport_bridge_start_time_seconds', 'gauge', 'When the bridge started, in seconds since the epoch.');
  lines.push(`gmail_transport_bridge_start_time_seconds ${Math.floor(activity.startedAt / 1000)}`);
  return `${lines.join('\n')}\n`;
}

/** A label value: backslash, quote and line feed escaped, as the format requires. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
