import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { CheckId, CheckStatus } from '../../src/doctor/report.js';
import type { Zone } from './dns-server.js';

/** An RSA key pair: the PEM private key and the base64 a DKIM record's p= holds. */
export interface TestKey {
  pem: string;
  p: string;
  publicKey: KeyObject;
}

export function rsaKey(bits: number): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    p: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    publicKey,
  };
}

export interface DoctorKeys {
  strong: TestKey;
  medium: TestKey;
  weak: TestKey;
  signer: TestKey;
  other: TestKey;
}

export function doctorKeys(): DoctorKeys {
  return { strong: rsaKey(2048), medium: rsaKey(1024), weak: rsaKey(768), signer: rsaKey(2048), other: rsaKey(2048) };
}

const dkim = (key: TestKey) => `v=DKIM1; k=rsa; p=${key.p}`;
const GOOGLE_SPF = 'v=spf1 include:_spf.google.com ~all';
const GOOGLE_MX = [
  { exchange: 'aspmx.l.google.com', priority: 1 },
  { exchange: 'alt1.aspmx.l.google.com', priority: 5 },
];
const DMARC = (domain: string) => `v=DMARC1; p=reject; rua=mailto:dmarc@${domain}`;

/**
 * One domain that passes everything for a Google route, and one per failure the doctor must
 * find. Google's and the relays' own SPF records are served too, so includes are followed
 * the way a receiver follows them.
 */
export function doctorZone(keys: DoctorKeys): Zone {
  const healthy = (domain: string, spf = GOOGLE_SPF): Zone => ({
    [domain]: { TXT: [spf, 'google-site-verification=abc123'], MX: GOOGLE_MX },
    [`google._domainkey.${domain}`]: { TXT: [dkim(keys.strong)] },
    [`_dmarc.${domain}`]: { TXT: [DMARC(domain)] },
  });
  return {
    '_spf.google.com': { TXT: ['v=spf1 include:_netblocks.google.com include:_netblocks2.google.com ~all'] },
    '_netblocks.google.com': { TXT: ['v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ~all'] },
    '_netblocks2.google.com': { TXT: ['v=spf1 ip6:2001:4860:4000::/36 ~all'] },
    'mailgun.org': { TXT: ['v=spf1 ip4:198.51.100.0/24 ~all'] },

    ...healthy('good.example'),

    'nospf.example': { TXT: ['google-site-verification=abc123'], MX: GOOGLE_MX },
    'google._domainkey.nospf.example': { TXT: [dkim(keys.strong)] },
    '_dmarc.nospf.example': { TXT: [DMARC('nospf.example')] },

    ...healthy('twospf.example'),
    'twospf.example': { TXT: [GOOGLE_SPF, 'v=spf1 ip4:192.0.2.10 -all'], MX: GOOGLE_MX },

    ...healthy('noinclude.example', 'v=spf1 include:mailgun.org ~all'),

    ...healthy('toomany.example', 'v=spf1 include:_spf.google.com include:a.toomany.example include:b.toomany.example ~all'),
    'a.toomany.example': { TXT: ['v=spf1 a mx include:c.toomany.example ~all'] },
    'b.toomany.example': { TXT: ['v=spf1 a mx ptr ~all'] },
    'c.toomany.example': { TXT: ['v=spf1 a:mail.toomany.example mx exists:%{i}.spf.toomany.example ~all'] },

    ...healthy('shortkey.example'),
    'google._domainkey.shortkey.example': { TXT: [dkim(keys.weak)] },
    'medium._domainkey.shortkey.example': { TXT: [dkim(keys.medium)] },

    'nodmarc.example': { TXT: [GOOGLE_SPF], MX: GOOGLE_MX },
    'google._domainkey.nodmarc.example': { TXT: [dkim(keys.strong)] },

    'pnone.example': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
    '_dmarc.pnone.example': { TXT: ['v=DMARC1; p=none'] },

    ...healthy('nullmx.example'),
    'nullmx.example': { TXT: [GOOGLE_SPF], MX: [{ exchange: '.', priority: 0 }] },

    ...healthy('relay.example'),
    's1._domainkey.relay.example': { TXT: [dkim(keys.strong)] },
    's2._domainkey.relay.example': { TXT: [dkim(keys.strong)] },

    ...healthy('signed.example'),
    'mail2026._domainkey.signed.example': { TXT: [dkim(keys.signer)] },
  };
}

/** What each case must report, check by check, and its verdicts. */
export interface DoctorCase {
  name: string;
  domain: string;
  strategy: string;
  preset?: string;
  selectors?: string[];
  checks: Record<CheckId, CheckStatus>;
  allSenders: [CheckStatus, string[]];
  bulkSenders: [CheckStatus, string[]];
  exit: 0 | 1;
}

const PASS: Record<CheckId, CheckStatus> = {
  mx: 'pass',
  spf: 'pass',
  'spf-lookups': 'pass',
  'spf-authorises-route': 'pass',
  dkim: 'pass',
  dmarc: 'pass',
  'dmarc-alignment': 'pass',
};

export const DOCTOR_CASES: DoctorCase[] = [
  {
    name: 'a domain that passes everything',
    domain: 'good.example',
    strategy: 'oauth2',
    checks: PASS,
    allSenders: ['pass', []],
    bulkSenders: ['pass', []],
    exit: 0,
  },
  {
    name: 'no SPF record',
    domain: 'nospf.example',
    strategy: 'app-password',
    checks: { ...PASS, spf: 'fail', 'spf-lookups': 'warn', 'spf-authorises-route': 'fail' },
    allSenders: ['pass', []],
    bulkSenders: ['fail', ['spf']],
    exit: 1,
  },
  {
    name: 'two SPF records',
    domain: 'twospf.example',
    strategy: 'service-account',
    checks: { ...PASS, spf: 'fail', 'spf-lookups': 'warn', 'spf-authorises-route': 'fail' },
    allSenders: ['pass', []],
    bulkSenders: ['fail', ['spf']],
    exit: 1,
  },
  {
    name: "SPF without the route's include",
    domain: 'noinclude.example',
    strategy: 'ip-relay',
    checks: { ...PASS, 'spf-authorises-route': 'fail' },
    allSenders: ['pass', []],
    bulkSenders: ['fail', ['spf']],
    exit: 1,
  },
  {
    name: 'SPF over 10 lookups through nested includes',
    domain: 'toomany.example',
    strategy: 'gmail-api',
    checks: { ...PASS, 'spf-lookups': 'fail' },
    allSenders: ['pass', []],
    bulkSenders: ['fail', ['spf']],
    exit: 1,
  },
  {
    name: 'a DKIM key too short',
    domain: 'shortkey.example',
    strategy: 'oauth2',
    checks: { ...PASS, dkim: 'fail' },
    allSenders: ['pass', []],
    bulkSenders: ['fail', ['dkim']],
    exit: 1,
  },
  {
    name: 'a 1024-bit DKIM key (a warning, 2048 recommended)',
    domain: 'shortkey.example',
    strategy: 'oauth2',
    selectors: ['medium'],
    checks: { ...PASS, dkim: 'warn' },
    allSenders: ['pass', []],
    bulkSenders: ['pass', []],
    exit: 0,
  },
  {
    name: 'no DMARC record',
    domain: 'nodmarc.example',
    strategy: 'oauth2',
    checks: { ...PASS, dmarc: 'fail' },
    allSenders: ['pass', []],
    bulkSenders: ['fail', ['dmarc']],
    exit: 1,
  },
  {
    name: 'DMARC p=none with nothing that aligns',
    domain: 'pnone.example',
    strategy: 'oauth2',
    checks: { mx: 'warn', spf: 'pass', 'spf-lookups': 'pass', 'spf-authorises-route': 'fail', dkim: 'fail', dmarc: 'warn', 'dmarc-alignment': 'fail' },
    allSenders: ['fail', ['spf-or-dkim']],
    bulkSenders: ['fail', ['spf', 'dkim', 'dmarc-alignment']],
    exit: 1,
  },
  {
    name: "a relay preset whose SPF lives on its return path, with its documented selectors (SendGrid's s1, s2)",
    domain: 'relay.example',
    strategy: 'relay',
    preset: 'sendgrid',
    checks: PASS,
    allSenders: ['pass', []],
    bulkSenders: ['pass', []],
    exit: 0,
  },
  {
    name: 'a relay preset whose include belongs in the domain record (Mailjet) and is missing there',
    domain: 'relay.example',
    strategy: 'relay',
    preset: 'mailjet',
    selectors: ['s1'],
    checks: { ...PASS, 'spf-authorises-route': 'fail' },
    allSenders: ['pass', []],
    bulkSenders: ['fail', ['spf']],
    exit: 1,
  },
];
