import dns2 from 'dns2';

const { Packet } = dns2;
/** dns2's RCODE table is missing from its type declarations. */
const RCODE = (Packet as unknown as { RCODE: { NXDOMAIN: number; SERVFAIL: number } }).RCODE;

/** Records of one name. A TXT record is one string, or several (a long DKIM key split in 255-byte pieces). */
export interface ZoneName {
  TXT?: (string | string[])[];
  MX?: { exchange: string; priority: number }[];
}

export type Zone = Record<string, ZoneName>;

/** How the server answers: from the zone, SERVFAIL to every question, or never. */
export type DnsBehaviour = 'zone' | 'servfail' | 'silent';

export interface TestDnsServer {
  /** `127.0.0.1:PORT`, for --dns-server / dnsServer. */
  address: string;
  /** Names asked so far, `TYPE name`. */
  asked: string[];
  close(): Promise<void>;
}

/** Splits a long TXT value the way DNS carries it: strings of at most 255 bytes. */
export function txtChunks(value: string): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < value.length; i += 255) chunks.push(value.slice(i, i + 255));
  return chunks;
}

/**
 * A real DNS server on 127.0.0.1 (UDP and TCP) serving `zone`: NXDOMAIN for a name it does not
 * know, NODATA (no error, no answer) for a known name without records of the asked type.
 */
export async function startDnsServer(zone: Zone, behaviour: DnsBehaviour = 'zone'): Promise<TestDnsServer> {
  const names = new Map(Object.entries(zone).map(([name, records]) => [name.toLowerCase().replace(/\.$/, ''), records]));
  const asked: string[] = [];
  const server = dns2.createServer({
    udp: true,
    tcp: true,
    handle(request, send) {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      if (!question) return;
      const name = question.name.toLowerCase().replace(/\.$/, '');
      const type = question.type === Packet.TYPE.TXT ? 'TXT' : question.type === Packet.TYPE.MX ? 'MX' : String(question.type);
      asked.push(`${type} ${name}`);
      if (behaviour === 'silent') return;
      if (behaviour === 'servfail') {
        response.header.rcode = RCODE.SERVFAIL;
        send(response);
        return;
      }
      const records = names.get(name);
      if (!records) {
        response.header.rcode = RCODE.NXDOMAIN;
        send(response);
        return;
      }
      if (type === 'TXT') {
        for (const txt of records.TXT ?? []) {
          response.answers.push({
            name: question.name,
            type: Packet.TYPE.TXT,
            class: Packet.CLASS.IN,
            ttl: 60,
            data: Array.isArray(txt) ? txt : txtChunks(txt),
          } as never);
        }
      } else if (type === 'MX') {
        for (const mx of records.MX ?? []) {
          response.answers.push({
            name: question.name,
            type: Packet.TYPE.MX,
            class: Packet.CLASS.IN,
            ttl: 60,
            exchange: mx.exchange,
            priority: mx.priority,
          } as never);
        }
      }
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: '127.0.0.1' }, tcp: { port: 0, address: '127.0.0.1' } });
  const port = server.addresses().udp!.port;
  return {
    address: `127.0.0.1:${port}`,
    asked,
    close: () => server.close(),
  };
}
