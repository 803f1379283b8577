import { generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/**
 * A self-signed X.509 v3 certificate (RFC 5280) built with node:crypto alone. node:crypto signs
 * but cannot build a certificate, and the packages that can pull in a whole ASN.1 toolkit for
 * something done once per installation; the DER below covers exactly the fields we emit.
 *
 * The key is RSA 2048 with SHA-256, not ECDSA: older printers and scanners often ship TLS
 * stacks with RSA key exchange and RSA certificates only.
 */
export interface SelfSignedCertificate {
  key: string;
  cert: string;
}

export interface SelfSignedOptions {
  /** Host names and IP addresses the certificate is valid for; the first is the common name. */
  names: readonly string[];
  /**
   * Devices pin this certificate, and a pinned certificate that expires stops them sending, so
   * it is long-lived. @default 3650
   */
  validDays?: number;
  now?: Date;
}

const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

export async function generateSelfSignedCertificate(options: SelfSignedOptions): Promise<SelfSignedCertificate> {
  const names = options.names.length > 0 ? options.names : ['localhost'];
  const { publicKey, privateKey } = await new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, pub, priv) => (err ? reject(err) : resolve({ publicKey: pub, privateKey: priv }))),
  );
  const now = options.now ?? new Date();
  // A day of slack before "now": device clocks drift, and a certificate "not yet valid" fails.
  const notBefore = new Date(now.getTime() - 86_400_000);
  const notAfter = new Date(now.getTime() + (options.validDays ?? 3650) * 86_400_000);
  const commonName = names[0] as string;
  const name = seq(set(seq(oid(OID.commonName), utf8(commonName))));
  const algorithm = seq(oid(OID.sha256WithRSAEncryption), NULL);

  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serialNumber()),
    algorithm,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      seq(
        extension(OID.basicConstraints, seq(), true), // cA defaults to FALSE: a server certificate, not a CA
        // digitalSignature and keyEncipherment (RFC 5280 4.2.1.3), the two RSA TLS servers use.
        extension(OID.keyUsage, tlv(0x03, Buffer.from([0x05, 0xa0])), true),
        extension(OID.extKeyUsage, seq(oid(OID.serverAuth))),
        extension(OID.subjectAltName, seq(...names.map(generalName))),
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`,
  };
}

function serialNumber(): Buffer {
  // RFC 5280 4.1.2.2: positive, at most 20 octets; random so two installations never collide.
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes;
}

function generalName(value: string): Buffer {
  // GeneralName: [7] iPAddress (the raw address octets) or [2] dNSName, both IMPLICIT.
  if (isIPv4(value)) return tlv(0x87, Buffer.from(value.split('.').map(Number)));
  if (isIPv6(value)) return tlv(0x87, ipv6Bytes(value));
  return tlv(0x82, Buffer.from(value, 'ascii'));
}

function ipv6Bytes(address: string): Buffer {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const [a, b, c, d] = v4[1].split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function extension(id: string, value: Buffer, critical = false): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

function time(date: Date): Buffer {
  // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii')) : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function integer(bytes: Buffer): Buffer {
  return tlv(0x02, (bytes[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function utf8(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

function explicit(tag: number, content: Buffer): Buffer {
  return tlv(0xa0 | tag, content);
}

function seq(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function set(...items: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(items));
}

const NULL = Buffer.from([0x05, 0x00]);

/** DER tag-length-value with the definite length form (X.690 8.1.3). */
function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else {
    const octets: number[] = [];
    for (let v = length; v > 0; v >>>= 8) octets.unshift(v & 0xff);
    header = [tag, 0x80 | octets.length, ...octets];
  }
  return Buffer.concat([Buffer.from(header), content]);
}
