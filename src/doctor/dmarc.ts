import type { DnsSource } from './dns.js';
import { parseTags } from './dkim.js';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

/** A parsed DMARC record (RFC 7489 §6.3). */
export interface DmarcRecord {
  text: string;
  /** Where it was found: the domain itself or a parent whose policy applies to it. */
  at: string;
  /** The policy for this domain: `sp` when the record is a parent's and has one, else `p`. */
  policy?: DmarcPolicy;
  /** Aggregate report addresses (`rua`). */
  reportTo: string[];
  adkim: 'r' | 's';
  aspf: 'r' | 's';
  errors: string[];
}

export type DmarcAt = { kind: 'none' } | { kind: 'one'; record: DmarcRecord } | { kind: 'many'; at: string } | { kind: 'failed'; code: string };

const POLICIES: readonly DmarcPolicy[] = ['none', 'quarantine', 'reject'];

export function parseDmarc(text: string, at: string, inherited: boolean): DmarcRecord {
  const tags = parseTags(text);
  const errors: string[] = [];
  const p = tags.get('p')?.toLowerCase();
  const sp = tags.get('sp')?.toLowerCase();
  if (p === undefined) errors.push('it has no p= (policy) tag');
  else if (!(POLICIES as readonly string[]).includes(p)) errors.push(`p=${p} is not none, quarantine or reject`);
  const chosen = inherited && sp !== undefined ? sp : p;
  const policy = chosen && (POLICIES as readonly string[]).includes(chosen) ? (chosen as DmarcPolicy) : undefined;
  const reportTo = (tags.get('rua') ?? '')
    .split(',')
    .map((uri) => uri.trim())
    .filter(Boolean);
  for (const uri of reportTo) if (!/^mailto:[^@\s]+@[^@\s]+/i.test(uri)) errors.push(`rua ${uri} is not a mailto: address`);
  const mode = (name: string): 'r' | 's' => (tags.get(name)?.toLowerCase() === 's' ? 's' : 'r');
  return { text, at, ...(policy ? { policy } : {}), reportTo, adkim: mode('adkim'), aspf: mode('aspf'), errors };
}

/**
 * The DMARC record that governs `domain`: `_dmarc.<domain>`, or else the nearest parent's
 * (without a public-suffix list the walk asks each parent short of the top-level domain, as
 * DMARCbis' tree walk does; RFC 7489 §6.6.3 asks the organizational domain only).
 */
export async function fetchDmarc(dns: DnsSource, domain: string): Promise<DmarcAt> {
  const labels = domain.toLowerCase().split('.');
  for (let i = 0; i < labels.length - 1; i += 1) {
    const at = labels.slice(i).join('.');
    const answer = await dns.txt(`_dmarc.${at}`);
    if (answer.kind === 'failed') return { kind: 'failed', code: answer.code };
    if (answer.kind === 'missing') continue;
    // RFC 7489 §6.6.3: records not starting with v=DMARC1 are ignored; more than one means none applies.
    const records = answer.value.filter((t) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(t.trim()));
    if (records.length > 1) return { kind: 'many', at };
    if (records.length === 1) return { kind: 'one', record: parseDmarc(records[0]!, at, i > 0) };
  }
  return { kind: 'none' };
}
