import type { Locale } from '../errors/hints.js';
import type { ResolvedDkim } from '../core/config.js';
import type { DnsSource, Lookup } from './dns.js';
import { dkimRecordFor, isDkimRecord, matchesPrivateKey, parseDkimKey, DKIM_GOOD_BITS, DKIM_MIN_BITS } from './dkim.js';
import { fetchDmarc, type DmarcAt } from './dmarc.js';
import { MESSAGES, type DoctorMessages } from './messages.js';
import { profilesOf, type DoctorRoute, type RouteProfile } from './routes.js';
import { fetchSpf, mergeSpf, spfWith, walkSpf, SPF_LOOKUP_LIMIT, type SpfAt, type SpfWalk } from './spf.js';

/** The checks, in report order. */
export const CHECK_IDS = ['mx', 'spf', 'spf-lookups', 'spf-authorises-route', 'dkim', 'dmarc', 'dmarc-alignment'] as const;
export type CheckId = (typeof CHECK_IDS)[number];
export type CheckStatus = 'pass' | 'warn' | 'fail';

/** One check: its status, a one-line detail, and for a warning or failure the fix (a record to publish, where there is one). */
export interface DoctorCheck {
  id: CheckId;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** A Gmail sender requirement summarised: what is missing, by requirement id. */
export interface DoctorVerdict {
  status: CheckStatus;
  /** Among `spf-or-dkim` (all senders), `spf`, `dkim`, `dmarc`, `dmarc-alignment` (5,000+ a day). */
  missing: string[];
}

/** What the doctor found, as `--format json` prints it. */
export interface DoctorReport {
  domain: string;
  /** The route checked for; null when none was given. */
  route: { strategy: string; preset?: string; spfIncludes: string[]; dkimSelectors: string[] } | null;
  checks: DoctorCheck[];
  verdicts: { allSenders: DoctorVerdict; bulkSenders: DoctorVerdict };
}

/** A check plus whether its answer is known (false: the resolver failed or input was missing). */
interface Finding extends DoctorCheck {
  known: boolean;
}

export interface ReportInput {
  domain: string;
  route?: DoctorRoute;
  /** The route's validated `dkim` option. */
  dkim?: ResolvedDkim;
  /** Selectors to check; when empty, the route's documented ones and the configured `dkim` selector. */
  dkimSelectors: readonly string[];
  locale: Locale;
}

const RANK: Record<CheckStatus, number> = { pass: 0, warn: 1, fail: 2 };
const worst = (statuses: readonly CheckStatus[]): CheckStatus => statuses.reduce<CheckStatus>((a, b) => (RANK[b] > RANK[a] ? b : a), 'pass');

/** Runs every check against `dns` and builds the report. */
export async function buildReport(dns: DnsSource, input: ReportInput): Promise<DoctorReport> {
  const domain = input.domain.toLowerCase();
  const m = MESSAGES[input.locale];
  const entries = input.route ? profilesOf(input.route) : [];
  const profiles = entries.flatMap((e) => (e.profile ? [e.profile] : []));
  const configured = input.dkim && input.dkim.domainName === domain ? input.dkim : undefined;
  const selectors = unique(
    input.dkimSelectors.length > 0 ? input.dkimSelectors : [...profiles.flatMap((p) => p.dkimSelectors), ...(configured ? [configured.keySelector] : [])],
  );
  const includes = unique(profiles.flatMap((p) => (p.spfInclude && p.spfAt === 'from-domain' ? [p.spfInclude] : [])));

  const [mx, spf, dmarc, keys] = await Promise.all([
    dns.mx(domain),
    fetchSpf(dns, domain).then(async (at) => ({ at, walk: at.kind === 'one' ? await walkSpf(dns, domain, at.record) : undefined })),
    fetchDmarc(dns, domain),
    Promise.all(selectors.map(async (selector) => ({ selector, answer: await dns.txt(`${selector}._domainkey.${domain}`) }))),
  ]);

  const spfFix = (record = spf.at.kind === 'one' ? spf.at.record : spf.at.kind === 'many' ? mergeSpf(spf.at.records) : undefined) =>
    `${domain} TXT "${spfWith(record, includes)}"`;
  const mxFinding = checkMx(m, domain, mx, profiles);
  const spfFinding = checkSpf(m, domain, spf.at, spf.walk, spfFix);
  const lookups = checkLookups(m, spf.at, spf.walk);
  const authorises = checkAuthorises(m, domain, input.route !== undefined, entries, spf.at, spf.walk, spfFix);
  const dkim = checkDkim(m, domain, selectors, keys, profiles, configured);
  const dmarcFinding = checkDmarc(m, domain, dmarc);
  const alignment = checkAlignment(m, domain, input.route !== undefined, profiles, spf.at, spf.walk, spfFinding, lookups, dkim, spfFix);
  const findings = [mxFinding, spfFinding, lookups, authorises, dkim.finding, dmarcFinding, alignment];

  return {
    domain,
    route: input.route
      ? {
          strategy: input.route.strategy,
          ...(input.route.preset ? { preset: input.route.preset } : {}),
          spfIncludes: unique(profiles.flatMap((p) => (p.spfInclude ? [p.spfInclude] : []))),
          dkimSelectors: selectors,
        }
      : null,
    checks: findings.map(({ known: _known, ...check }) => check),
    verdicts: verdictsOf(input.route !== undefined, spfFinding, lookups, authorises, dkim, dmarcFinding, alignment),
  };
}

function checkMx(m: DoctorMessages, domain: string, mx: Lookup<{ exchange: string; priority: number }[]>, profiles: RouteProfile[]): Finding {
  if (mx.kind === 'failed') return { id: 'mx', status: 'warn', detail: m.failed(`MX ${domain}`, mx.code), known: false };
  const googleRoute = profiles.some((p) => p.spfInclude === '_spf.google.com');
  // https://support.google.com/a/answer/140034: Workspace's MX is smtp.google.com, priority 1.
  const fix = googleRoute ? `${domain} MX 1 smtp.google.com` : m.mxFix(domain);
  if (mx.kind === 'missing') return { id: 'mx', status: 'warn', detail: m.mxMissing(domain), fix, known: true };
  const records = [...mx.value].sort((a, b) => a.priority - b.priority);
  // RFC 7505: a single MX of "." (priority 0) says the domain accepts no mail.
  if (records.length === 1 && (records[0]!.exchange === '' || records[0]!.exchange === '.'))
    return { id: 'mx', status: 'fail', detail: m.mxNull(domain), fix, known: true };
  const google = googleRoute ? records.some((r) => /(^|\.)google(mail)?\.com\.?$/i.test(r.exchange)) : undefined;
  return { id: 'mx', status: 'pass', detail: m.mxFound(records.map((r) => `${r.priority} ${r.exchange}`).join(', '), google), known: true };
}

function checkSpf(m: DoctorMessages, domain: string, at: SpfAt, walk: SpfWalk | undefined, fix: () => string): Finding {
  if (at.kind === 'failed') return { id: 'spf', status: 'warn', detail: m.failed(`TXT ${domain}`, at.code), known: false };
  if (at.kind === 'none') return { id: 'spf', status: 'fail', detail: m.spfNone(domain), fix: fix(), known: true };
  if (at.kind === 'many') return { id: 'spf', status: 'fail', detail: m.spfMany(at.records.length, domain), fix: fix(), known: true };
  const record = at.record;
  if (record.errors.length > 0) return { id: 'spf', status: 'fail', detail: m.spfInvalid(record.errors.join('; ')), fix: fix(), known: true };
  const all = walk?.all;
  const detail = m.spfAll(record.text.trim(), all);
  if (all === '+') return { id: 'spf', status: 'fail', detail, fix: fix(), known: true };
  if (all === '?' || all === undefined) return { id: 'spf', status: 'warn', detail, fix: fix(), known: walk?.unresolved.length === 0 };
  return { id: 'spf', status: 'pass', detail, known: true };
}

function checkLookups(m: DoctorMessages, at: SpfAt, walk: SpfWalk | undefined): Finding {
  if (at.kind === 'failed') return { id: 'spf-lookups', status: 'warn', detail: m.lookupsNoRecord(), known: false };
  if (!walk) return { id: 'spf-lookups', status: 'warn', detail: m.lookupsNoRecord(), known: true };
  if (walk.lookups > SPF_LOOKUP_LIMIT) return { id: 'spf-lookups', status: 'fail', detail: m.lookupsOver(walk.lookups), fix: m.lookupsFix(), known: true };
  if (walk.errors.length > 0) return { id: 'spf-lookups', status: 'fail', detail: m.lookupsBroken(walk.errors.join('; ')), known: true };
  if (walk.unresolved.length > 0)
    return { id: 'spf-lookups', status: 'warn', detail: m.lookupsPartial(walk.lookups, walk.unresolved.join(', ')), known: false };
  return { id: 'spf-lookups', status: 'pass', detail: m.lookups(walk.lookups), known: true };
}

function checkAuthorises(
  m: DoctorMessages,
  domain: string,
  hasRoute: boolean,
  entries: { profile?: RouteProfile; host?: string }[],
  at: SpfAt,
  walk: SpfWalk | undefined,
  fix: () => string,
): Finding {
  const id = 'spf-authorises-route' as const;
  if (!hasRoute) return { id, status: 'warn', detail: m.noRoute(), known: false };
  if (at.kind === 'failed') return { id, status: 'warn', detail: m.failed(`TXT ${domain}`, at.code), known: false };
  const parts: { status: CheckStatus; detail: string; known: boolean }[] = [];
  for (const { profile, host } of entries) {
    if (!profile) parts.push({ status: 'warn', detail: m.unknownRelay(host), known: false });
    else if (!profile.spfInclude) parts.push({ status: 'pass', detail: m.noInclude(profile.label), known: true });
    else if (walk?.authorised.has(profile.spfInclude)) parts.push({ status: 'pass', detail: m.authorised(profile.label, profile.spfInclude), known: true });
    else if (profile.spfAt === 'return-path') parts.push({ status: 'pass', detail: m.returnPath(profile.label), known: true });
    else if (!walk || at.kind !== 'one' || at.record.errors.length > 0) parts.push({ status: 'fail', detail: m.noUsableSpf(), known: true });
    else if (walk.unresolved.length > 0) parts.push({ status: 'warn', detail: m.lookupsPartial(walk.lookups, walk.unresolved.join(', ')), known: false });
    else parts.push({ status: 'fail', detail: m.notAuthorised(profile.label, profile.spfInclude), known: true });
  }
  const status = worst(parts.map((p) => p.status));
  return {
    id,
    status,
    detail: unique(parts.map((p) => p.detail)).join('; '),
    ...(parts.some((p) => p.status === 'fail') ? { fix: fix() } : {}),
    known: parts.every((p) => p.known),
  };
}

interface DkimResult {
  finding: Finding;
  /** The first selector whose key receivers can verify a signature with. */
  usable?: string;
}

function checkDkim(
  m: DoctorMessages,
  domain: string,
  selectors: string[],
  keys: { selector: string; answer: Lookup<string[]> }[],
  profiles: RouteProfile[],
  configured: ResolvedDkim | undefined,
): DkimResult {
  if (selectors.length === 0) return { finding: { id: 'dkim', status: 'warn', detail: m.dkimNoSelector(), known: false } };
  const parts: {
    selector: string;
    status: CheckStatus;
    detail: string;
    usable: boolean;
    known: boolean;
    kind: 'missing' | 'short' | 'mismatch' | 'ok' | 'other';
  }[] = [];
  for (const { selector, answer } of keys) {
    const mine = configured && configured.keySelector === selector ? configured : undefined;
    if (answer.kind === 'failed') {
      parts.push({ selector, status: 'warn', detail: m.dkimFailed(selector, answer.code), usable: false, known: false, kind: 'other' });
      continue;
    }
    const text = answer.kind === 'found' ? answer.value.find(isDkimRecord) : undefined;
    if (text === undefined) {
      parts.push({ selector, status: 'fail', detail: m.dkimMissing(selector), usable: false, known: true, kind: 'missing' });
      continue;
    }
    const key = parseDkimKey(text);
    if (key.kind === 'revoked') parts.push({ selector, status: 'fail', detail: m.dkimRevoked(selector), usable: false, known: true, kind: 'missing' });
    else if (key.kind === 'invalid')
      parts.push({ selector, status: 'fail', detail: m.dkimInvalid(selector, key.reason), usable: false, known: true, kind: 'missing' });
    else if (key.kind === 'ed25519') parts.push({ selector, status: 'pass', detail: m.dkimEd25519(selector), usable: true, known: true, kind: 'ok' });
    else if (mine && !matchesPrivateKey(key.publicKey, mine.privateKey.reveal()))
      parts.push({ selector, status: 'fail', detail: m.dkimMismatch(selector), usable: false, known: true, kind: 'mismatch' });
    else if (key.bits < DKIM_MIN_BITS)
      parts.push({ selector, status: 'fail', detail: m.dkimTooShort(selector, key.bits), usable: false, known: true, kind: 'short' });
    else if (key.bits < DKIM_GOOD_BITS)
      parts.push({ selector, status: 'warn', detail: m.dkimShort(selector, key.bits), usable: true, known: true, kind: 'short' });
    else parts.push({ selector, status: 'pass', detail: m.dkimKey(selector, key.bits), usable: true, known: true, kind: 'ok' });
  }
  const status = worst(parts.map((p) => p.status));
  const broken = parts.filter((p) => p.status !== 'pass');
  let fix: string | undefined;
  const ownBroken = configured && broken.find((p) => p.selector === configured.keySelector && p.kind !== 'other');
  if (ownBroken && configured) fix = `${configured.keySelector}._domainkey.${domain} TXT "${dkimRecordFor(configured.privateKey.reveal())}"`;
  else if (broken.some((p) => p.kind === 'missing' || p.kind === 'mismatch')) {
    const names = broken
      .filter((p) => p.kind === 'missing' || p.kind === 'mismatch')
      .map((p) => `${p.selector}._domainkey.${domain}`)
      .join(', ');
    const relay = profiles.find((p) => p.spfInclude !== '_spf.google.com');
    if (broken.some((p) => p.selector === 'google') && profiles.some((p) => p.spfInclude === '_spf.google.com')) fix = m.dkimFixGoogle(domain);
    else if (relay) fix = m.dkimFixRelay(relay.label, names);
    else fix = m.dkimFixGeneric(names);
  } else if (broken.some((p) => p.kind === 'short')) fix = m.dkimFixLonger();
  const usable = parts.find((p) => p.usable)?.selector;
  return {
    finding: {
      id: 'dkim',
      status,
      detail: parts.map((p) => p.detail).join('; '),
      ...(fix && status !== 'pass' ? { fix } : {}),
      known: parts.every((p) => p.known),
    },
    ...(usable ? { usable } : {}),
  };
}

function checkDmarc(m: DoctorMessages, domain: string, dmarc: DmarcAt): Finding {
  const id = 'dmarc' as const;
  const reports = `mailto:dmarc-reports@${domain}`;
  const fresh = `_dmarc.${domain} TXT "v=DMARC1; p=none; rua=${reports}"`;
  if (dmarc.kind === 'failed') return { id, status: 'warn', detail: m.failed(`TXT _dmarc.${domain}`, dmarc.code), known: false };
  if (dmarc.kind === 'none') return { id, status: 'fail', detail: m.dmarcNone(domain), fix: fresh, known: true };
  if (dmarc.kind === 'many') return { id, status: 'fail', detail: m.dmarcMany(dmarc.at), fix: fresh, known: true };
  const record = dmarc.record;
  if (record.errors.length > 0 || !record.policy) return { id, status: 'fail', detail: m.dmarcInvalid(record.errors.join('; ')), fix: fresh, known: true };
  const reportTo = record.reportTo.join(', ');
  const text = record.text.trim().replace(/;?\s*$/, '');
  if (record.policy === 'none') {
    const stricter = text.replace(/\bp\s*=\s*none\b/i, 'p=quarantine') + (record.reportTo.length === 0 ? `; rua=${reports}` : '');
    return { id, status: 'warn', detail: m.dmarcMonitorOnly(record.at, reportTo || '-'), fix: `_dmarc.${record.at} TXT "${stricter}"`, known: true };
  }
  if (record.reportTo.length === 0)
    return { id, status: 'warn', detail: m.dmarcNoReports(record.policy, record.at), fix: `_dmarc.${record.at} TXT "${text}; rua=${reports}"`, known: true };
  return { id, status: 'pass', detail: m.dmarcPolicy(record.policy, record.at, reportTo), known: true };
}

function checkAlignment(
  m: DoctorMessages,
  domain: string,
  hasRoute: boolean,
  profiles: RouteProfile[],
  at: SpfAt,
  walk: SpfWalk | undefined,
  spf: Finding,
  lookups: Finding,
  dkim: DkimResult,
  spfFix: () => string,
): Finding {
  const id = 'dmarc-alignment' as const;
  if (dkim.usable) return { id, status: 'pass', detail: m.alignedDkim(dkim.usable, domain), known: true };
  const spfValid = at.kind === 'one' && spf.status !== 'fail' && lookups.status !== 'fail';
  const aligning = profiles.find((p) => p.spfAligns && p.spfInclude && walk?.authorised.has(p.spfInclude));
  if (aligning && spfValid) return { id, status: 'pass', detail: m.alignedSpf(aligning.label, domain), known: true };
  if (!hasRoute || !dkim.finding.known || !spf.known || !lookups.known) return { id, status: 'warn', detail: m.alignmentUnknown(), known: false };
  const relaysOnly = profiles.length > 0 && profiles.every((p) => !p.spfAligns);
  const detail = relaysOnly ? m.notAlignedRelay(unique(profiles.map((p) => p.label)).join(', '), domain) : m.notAligned(domain);
  const fix = dkim.finding.fix ?? (profiles.some((p) => p.spfAligns) ? spfFix() : undefined);
  return { id, status: 'fail', detail, ...(fix ? { fix } : {}), known: true };
}

function verdictsOf(
  hasRoute: boolean,
  spf: Finding,
  lookups: Finding,
  authorises: Finding,
  dkim: DkimResult,
  dmarc: Finding,
  alignment: Finding,
): DoctorReport['verdicts'] {
  // SPF counts when the record is valid and within limits, and (with a route) authorises it.
  const spfMet = spf.status !== 'fail' && spf.known && lookups.status !== 'fail' && lookups.known && (!hasRoute || authorises.status === 'pass');
  const spfKnown = spf.known && lookups.known && (!hasRoute || authorises.known);
  const dkimMet = dkim.usable !== undefined;
  const dkimKnown = dkim.finding.known;
  const dmarcMet = dmarc.status !== 'fail' && dmarc.known;
  const alignMet = alignment.status === 'pass';

  const requirement = (id: string, met: boolean, known: boolean) => ({ id, met, known: met || known });
  const all = [requirement('spf-or-dkim', spfMet || dkimMet, spfKnown || dkimKnown)];
  const bulk = [
    requirement('spf', spfMet, spfKnown),
    requirement('dkim', dkimMet, dkimKnown),
    requirement('dmarc', dmarcMet, dmarc.known),
    requirement('dmarc-alignment', alignMet, alignment.known),
  ];
  const verdict = (list: { id: string; met: boolean; known: boolean }[]): DoctorVerdict => {
    const missing = list.filter((r) => !r.met && r.known).map((r) => r.id);
    const unknown = list.some((r) => !r.met && !r.known);
    return { status: missing.length > 0 ? 'fail' : unknown ? 'warn' : 'pass', missing };
  };
  return { allSenders: verdict(all), bulkSenders: verdict(bulk) };
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
