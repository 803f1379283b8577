import type { Locale } from '../errors/hints.js';

/** Every sentence the doctor writes, in each language. Records quoted inside stay as they are. */
export interface DoctorMessages {
  failed(name: string, code: string): string;
  mxFound(hosts: string, google: boolean | undefined): string;
  mxNull(domain: string): string;
  mxMissing(domain: string): string;
  mxFix(domain: string): string;
  spfNone(domain: string): string;
  spfMany(count: number, domain: string): string;
  spfInvalid(errors: string): string;
  spfAll(record: string, all: string | undefined): string;
  lookups(count: number): string;
  lookupsOver(count: number): string;
  lookupsBroken(errors: string): string;
  lookupsPartial(count: number, names: string): string;
  lookupsNoRecord(): string;
  lookupsFix(): string;
  noRoute(): string;
  authorised(label: string, include: string): string;
  notAuthorised(label: string, include: string): string;
  returnPath(label: string): string;
  noInclude(label: string): string;
  unknownRelay(host: string | undefined): string;
  noUsableSpf(): string;
  dkimNoSelector(): string;
  dkimKey(selector: string, bits: number): string;
  dkimShort(selector: string, bits: number): string;
  dkimTooShort(selector: string, bits: number): string;
  dkimEd25519(selector: string): string;
  dkimMissing(selector: string): string;
  dkimRevoked(selector: string): string;
  dkimInvalid(selector: string, reason: string): string;
  dkimMismatch(selector: string): string;
  dkimFailed(selector: string, code: string): string;
  dkimFixGoogle(domain: string): string;
  dkimFixRelay(label: string, names: string): string;
  dkimFixGeneric(names: string): string;
  dkimFixLonger(): string;
  dmarcNone(domain: string): string;
  dmarcMany(at: string): string;
  dmarcInvalid(errors: string): string;
  dmarcPolicy(policy: string, at: string, reportTo: string): string;
  dmarcMonitorOnly(at: string, reportTo: string): string;
  dmarcNoReports(policy: string, at: string): string;
  alignedDkim(selector: string, domain: string): string;
  alignedSpf(label: string, domain: string): string;
  notAligned(domain: string): string;
  notAlignedRelay(labels: string, domain: string): string;
  alignmentUnknown(): string;
  requirement(id: string): string;
  header(domain: string, route: string): string;
  noRouteLabel(): string;
  fixLabel(): string;
  verdictsHeader(): string;
  allSenders(): string;
  bulkSenders(): string;
  missing(items: string): string;
  couldNotCheck(): string;
}

const REQUIREMENTS_EN: Record<string, string> = {
  'spf-or-dkim': 'SPF or DKIM',
  spf: 'SPF',
  dkim: 'DKIM',
  dmarc: 'DMARC',
  'dmarc-alignment': 'DMARC alignment',
};
const REQUIREMENTS_JA: Record<string, string> = {
  'spf-or-dkim': 'SPF または DKIM',
  spf: 'SPF',
  dkim: 'DKIM',
  dmarc: 'DMARC',
  'dmarc-alignment': 'DMARC アライメント',
};

const en: DoctorMessages = {
  failed: (name, code) => `could not be checked: the resolver answered ${code} for ${name} (this is not a pass: run again, or ask another resolver)`,
  mxFound: (hosts, google) =>
    `MX ${hosts}${google === undefined ? '' : google ? ' (Google Workspace receives the mail)' : ' (mail is received outside Google)'}`,
  mxNull: (domain) => `${domain} publishes a null MX ("0 ."): it receives no mail, so replies and bounces are lost and some receivers refuse its mail`,
  mxMissing: (domain) => `no MX record: replies and bounces to ${domain} cannot be delivered`,
  mxFix: (domain) => `Publish the MX records of the service that receives mail for ${domain}`,
  spfNone: (domain) => `no SPF record (v=spf1) at ${domain}`,
  spfMany: (count, domain) => `${count} SPF records at ${domain}: receivers treat several as a permanent error (RFC 7208 §4.5), so SPF fails`,
  spfInvalid: (errors) => `the SPF record is not valid (a permanent error, SPF fails): ${errors}`,
  spfAll: (record, all) =>
    `"${record}": ${
      all === '-'
        ? 'ends with -all (other servers fail)'
        : all === '~'
          ? 'ends with ~all (other servers soft-fail)'
          : all === '?'
            ? 'ends with ?all: other servers are neutral, which protects nothing'
            : all === '+'
              ? 'ends with +all: it authorises every server on the internet'
              : 'has no all: other servers are neutral'
    }`,
  lookups: (count) => `${count} of 10 DNS lookups, includes followed`,
  lookupsOver: (count) => `${count} DNS lookups, over the limit of 10 (RFC 7208 §4.6.4): receivers return permerror and SPF fails`,
  lookupsBroken: (errors) => `the SPF tree cannot be evaluated (permerror): ${errors}`,
  lookupsPartial: (count, names) => `at least ${count} DNS lookups; could not resolve ${names}, so the count is incomplete`,
  lookupsNoRecord: () => 'not checked: there is no single SPF record to follow',
  lookupsFix: () => 'Remove includes of services that no longer send for you, or replace them with their ip4:/ip6: ranges, until at most 10 lookups remain',
  noRoute: () => 'not checked: give --strategy or --config to name the route that sends',
  authorised: (label, include) => `authorises ${label} (include:${include})`,
  notAuthorised: (label, include) => `does not authorise ${label}: include:${include} is missing or never reached`,
  returnPath: (label) => `${label} checks SPF on its own return-path domain, so this record need not name it`,
  noInclude: (label) => `${label} documents no SPF include; it authenticates with DKIM`,
  unknownRelay: (host) => `relay ${host ?? '(no host)'} has no built-in profile: add the SPF include its documentation gives`,
  noUsableSpf: () => 'no single valid SPF record, so nothing is authorised',
  dkimNoSelector: () => "not checked: no selector is known for this route; give --dkim-selector (your provider's DNS settings show it)",
  dkimKey: (selector, bits) => `${selector}: RSA ${bits} bits`,
  dkimShort: (selector, bits) => `${selector}: RSA ${bits} bits (2048 recommended)`,
  dkimTooShort: (selector, bits) => `${selector}: RSA ${bits} bits, below the 1024 Gmail requires (treated as unsigned)`,
  dkimEd25519: (selector) => `${selector}: Ed25519 (also publish an RSA key: not every receiver checks Ed25519)`,
  dkimMissing: (selector) => `${selector}: no key record`,
  dkimRevoked: (selector) => `${selector}: key revoked (empty p=)`,
  dkimInvalid: (selector, reason) => `${selector}: not a usable key record (${reason})`,
  dkimMismatch: (selector) => `${selector}: the published key is not the public half of the configured dkim.privateKey`,
  dkimFailed: (selector, code) => `${selector}: could not be checked (resolver answered ${code})`,
  dkimFixGoogle: (domain) =>
    `In the Google Admin console, Apps > Google Workspace > Gmail > Authenticate email: generate a 2048-bit key for ${domain}, publish the google._domainkey TXT record it shows, then click Start authentication`,
  dkimFixRelay: (label, names) => `Publish the DKIM records from ${label}'s domain settings at ${names}`,
  dkimFixGeneric: (names) => `Publish the sending service's DKIM key at ${names}`,
  dkimFixLonger: () => 'Generate a 2048-bit key and publish it at a new selector, then switch signing to it',
  dmarcNone: (domain) => `no DMARC record at _dmarc.${domain}`,
  dmarcMany: (at) => `several DMARC records at _dmarc.${at}: receivers apply none of them`,
  dmarcInvalid: (errors) => `the DMARC record is not valid: ${errors}`,
  dmarcPolicy: (policy, at, reportTo) => `p=${policy} at _dmarc.${at}; reports to ${reportTo}`,
  dmarcMonitorOnly: (at, reportTo) => `p=none at _dmarc.${at}: monitoring only, mail that fails DMARC is still delivered; reports to ${reportTo}`,
  dmarcNoReports: (policy, at) => `p=${policy} at _dmarc.${at}, but no rua= address: you will not see who sends as this domain`,
  alignedDkim: (selector, domain) => `DKIM can align: the key at ${selector}._domainkey.${domain} signs as ${domain}`,
  alignedSpf: (label, domain) => `SPF can align: ${label} sends with a MAIL FROM at ${domain}, which the SPF record authorises`,
  notAligned: (domain) => `neither SPF nor DKIM can align with ${domain} on this route, so DMARC fails`,
  notAlignedRelay: (labels, domain) => `${labels} send with their own return path, so DMARC needs a DKIM key for ${domain}; none was found`,
  alignmentUnknown: () => 'not checked: the route or the records it depends on are unknown',
  requirement: (id) => REQUIREMENTS_EN[id] ?? id,
  header: (domain, route) => `gmail-transport doctor: ${domain} (route: ${route})`,
  noRouteLabel: () => 'not given',
  fixLabel: () => 'fix',
  verdictsHeader: () => 'Gmail sender requirements (https://support.google.com/a/answer/81126):',
  allSenders: () => 'All senders',
  bulkSenders: () => '5,000+ a day',
  missing: (items) => `missing: ${items}`,
  couldNotCheck: () => 'some records could not be checked',
};

const ja: DoctorMessages = {
  failed: (name, code) =>
    `確認できませんでした: ${name} の問い合わせにリゾルバーが ${code} を返しました（合格ではありません。再実行するか、別のリゾルバーに問い合わせてください）`,
  mxFound: (hosts, google) => `MX ${hosts}${google === undefined ? '' : google ? '（Google Workspace で受信）' : '（Google 以外で受信）'}`,
  mxNull: (domain) => `${domain} は null MX（"0 ."）を公開しています。メールを受信しないため、返信やバウンスは失われ、受信を拒否するサーバーもあります`,
  mxMissing: (domain) => `MX レコードがありません。${domain} 宛ての返信やバウンスが届きません`,
  mxFix: (domain) => `${domain} のメールを受信するサービスの MX レコードを公開してください`,
  spfNone: (domain) => `${domain} に SPF レコード（v=spf1）がありません`,
  spfMany: (count, domain) => `${domain} に SPF レコードが ${count} 件あります。複数あると恒久エラー（RFC 7208 §4.5）となり SPF は失敗します`,
  spfInvalid: (errors) => `SPF レコードが不正です（恒久エラー、SPF は失敗）: ${errors}`,
  spfAll: (record, all) =>
    `"${record}": ${
      all === '-'
        ? '-all で終わります（他のサーバーは fail）'
        : all === '~'
          ? '~all で終わります（他のサーバーは softfail）'
          : all === '?'
            ? '?all で終わります。他のサーバーが neutral になり、なりすましを防げません'
            : all === '+'
              ? '+all で終わります。インターネット上のすべてのサーバーを許可してしまいます'
              : 'all がありません。他のサーバーは neutral になります'
    }`,
  lookups: (count) => `DNS ルックアップ ${count} 回（上限 10 回、include をたどって計数）`,
  lookupsOver: (count) => `DNS ルックアップが ${count} 回で上限の 10 回（RFC 7208 §4.6.4）を超えています。受信側は permerror とし SPF は失敗します`,
  lookupsBroken: (errors) => `SPF をたどれません（permerror）: ${errors}`,
  lookupsPartial: (count, names) => `DNS ルックアップは少なくとも ${count} 回。${names} を解決できなかったため回数は不完全です`,
  lookupsNoRecord: () => '確認していません: たどれる SPF レコードが 1 件もありません',
  lookupsFix: () => '送信に使っていないサービスの include を削除するか ip4:/ip6: の範囲に置き換え、ルックアップを 10 回以下にしてください',
  noRoute: () => '確認していません: 送信経路を --strategy または --config で指定してください',
  authorised: (label, include) => `${label} を許可しています（include:${include}）`,
  notAuthorised: (label, include) => `${label} を許可していません: include:${include} がないか、評価されない位置にあります`,
  returnPath: (label) => `${label} は自社のリターンパス ドメインで SPF を評価させるため、このレコードに含める必要はありません`,
  noInclude: (label) => `${label} は SPF の include を案内していません（DKIM で認証します）`,
  unknownRelay: (host) => `リレー ${host ?? '（ホスト未指定）'} の既定プロファイルはありません。プロバイダーの案内にある SPF の include を追加してください`,
  noUsableSpf: () => '有効な SPF レコードが 1 件に定まらないため、何も許可されていません',
  dkimNoSelector: () => '確認していません: この経路のセレクタが不明です。--dkim-selector を指定してください（プロバイダーの DNS 設定画面に表示されます）',
  dkimKey: (selector, bits) => `${selector}: RSA ${bits} ビット`,
  dkimShort: (selector, bits) => `${selector}: RSA ${bits} ビット（2048 ビット推奨）`,
  dkimTooShort: (selector, bits) => `${selector}: RSA ${bits} ビット。Gmail が求める 1024 ビット未満のため署名なしと扱われます`,
  dkimEd25519: (selector) => `${selector}: Ed25519（Ed25519 を検証しない受信側のため RSA 鍵も公開してください）`,
  dkimMissing: (selector) => `${selector}: 鍵レコードがありません`,
  dkimRevoked: (selector) => `${selector}: 鍵は失効しています（p= が空）`,
  dkimInvalid: (selector, reason) => `${selector}: 使える鍵レコードではありません（${reason}）`,
  dkimMismatch: (selector) => `${selector}: 公開されている鍵が設定の dkim.privateKey の公開鍵と一致しません`,
  dkimFailed: (selector, code) => `${selector}: 確認できませんでした（リゾルバーの応答 ${code}）`,
  dkimFixGoogle: (domain) =>
    `Google 管理コンソールの「アプリ > Google Workspace > Gmail > メールの認証」で ${domain} の 2048 ビット鍵を生成し、表示される google._domainkey の TXT レコードを公開してから「認証を開始」をクリックしてください`,
  dkimFixRelay: (label, names) => `${label} のドメイン設定にある DKIM レコードを ${names} に公開してください`,
  dkimFixGeneric: (names) => `送信サービスの DKIM 鍵を ${names} に公開してください`,
  dkimFixLonger: () => '2048 ビットの鍵を生成して新しいセレクタに公開し、署名をその鍵に切り替えてください',
  dmarcNone: (domain) => `_dmarc.${domain} に DMARC レコードがありません`,
  dmarcMany: (at) => `_dmarc.${at} に DMARC レコードが複数あります。受信側はどれも適用しません`,
  dmarcInvalid: (errors) => `DMARC レコードが不正です: ${errors}`,
  dmarcPolicy: (policy, at, reportTo) => `_dmarc.${at} は p=${policy}、レポート送付先 ${reportTo}`,
  dmarcMonitorOnly: (at, reportTo) => `_dmarc.${at} は p=none（監視のみ）。DMARC に失敗したメールも配信されます。レポート送付先 ${reportTo}`,
  dmarcNoReports: (policy, at) => `_dmarc.${at} は p=${policy} ですが rua= がありません。誰がこのドメインで送信しているか分かりません`,
  alignedDkim: (selector, domain) => `DKIM でアライメントできます: ${selector}._domainkey.${domain} の鍵が ${domain} として署名します`,
  alignedSpf: (label, domain) => `SPF でアライメントできます: ${label} は ${domain} の MAIL FROM で送信し、SPF レコードがそれを許可しています`,
  notAligned: (domain) => `この経路では SPF も DKIM も ${domain} とアライメントできないため、DMARC は失敗します`,
  notAlignedRelay: (labels, domain) => `${labels} は自社のリターンパスで送信するため、DMARC には ${domain} の DKIM 鍵が必要ですが見つかりません`,
  alignmentUnknown: () => '確認していません: 経路またはその前提となるレコードが不明です',
  requirement: (id) => REQUIREMENTS_JA[id] ?? id,
  header: (domain, route) => `gmail-transport doctor: ${domain}（経路: ${route}）`,
  noRouteLabel: () => '指定なし',
  fixLabel: () => '修正',
  verdictsHeader: () => 'Gmail の送信者要件（https://support.google.com/a/answer/81126）:',
  allSenders: () => 'すべての送信者',
  bulkSenders: () => '1 日 5,000 通以上',
  missing: (items) => `不足: ${items}`,
  couldNotCheck: () => '確認できなかったレコードがあります',
};

export const MESSAGES: Record<Locale, DoctorMessages> = { en, ja };
