import type { Locale } from '../errors/hints.js';
import { MESSAGES } from './messages.js';
import type { DoctorReport, DoctorVerdict } from './report.js';

const WIDTH = 'spf-authorises-route'.length;

/** The report for people: one line per check, its fix under it, then the two verdicts. */
export function renderText(report: DoctorReport, locale: Locale): string {
  const m = MESSAGES[locale];
  const route = report.route
    ? [report.route.strategy, report.route.preset].filter(Boolean).join(' ') +
      (report.route.spfIncludes.length > 0 ? ` (${report.route.spfIncludes.map((d) => `include:${d}`).join(', ')})` : '')
    : m.noRouteLabel();
  const lines = [m.header(report.domain, route), ''];
  for (const check of report.checks) {
    lines.push(`  ${check.status.toUpperCase().padEnd(4)}  ${check.id.padEnd(WIDTH)}  ${check.detail}`);
    if (check.fix) lines.push(`        ${' '.repeat(WIDTH)}  ${m.fixLabel()}: ${check.fix}`);
  }
  const verdict = (name: string, v: DoctorVerdict) => {
    const missing =
      v.missing.length > 0 ? ` (${m.missing(v.missing.map((id) => m.requirement(id)).join(', '))})` : v.status === 'warn' ? ` (${m.couldNotCheck()})` : '';
    return `  ${name}: ${v.status.toUpperCase()}${missing}`;
  };
  lines.push('', m.verdictsHeader(), verdict(m.allSenders(), report.verdicts.allSenders), verdict(m.bulkSenders(), report.verdicts.bulkSenders));
  return `${lines.join('\n')}\n`;
}
