import type { IncomingMessage } from 'node:http';
import type { Locale } from '../../errors/hints.js';
import { localTime } from '../../send-log/format.js';

const EN = {
  title: 'gmail-transport bridge',
  'nav.status': 'Status',
  'nav.messages': 'Messages',
  'nav.devices': 'Devices',
  'nav.test': 'Test mail',
  'nav.logout': 'Log out',
  'nav.google': 'Connect Google',
  'google.title': 'Connect Google',
  'google.intro':
    'Signs the mailbox in again and gives the bridge a new refresh token, without a restart: after a password change, a revoked access, or an OAUTH_INVALID_GRANT.',
  'google.start': 'Connect Google',
  'google.step1': "Go to Google's sign-in page:",
  'google.open': "Open Google's sign-in page",
  'google.step2': 'Sign in as {user} and allow access.',
  'google.step3':
    'On this machine the console takes the answer by itself: reload this page. On another PC the last page does not load (its address starts with 127.0.0.1): copy the whole address from the address bar and paste it below.',
  'google.paste': 'The address that starts with {redirect}',
  'google.finish': 'Finish',
  'google.reload': 'Reload',
  'google.again': 'Start again',
  'google.connected': 'Connected: {account}. The bridge uses the new refresh token now.',
  'google.notOurs': 'This address does not belong to the sign-in started here. Start again and paste the address of that sign-in.',
  'google.noFlow': 'No sign-in is waiting. Start one first.',
  'google.noFile': 'To connect Google from here, add "refreshTokenFile": "refresh-token" to admin in bridge.json and restart the bridge.',
  'google.notOauth': 'The upstream does not sign in with OAuth (oauth2), so there is nothing to connect.',
  'login.title': 'Log in',
  'login.user': 'User',
  'login.password': 'Password',
  'login.submit': 'Log in',
  'login.failed': 'Wrong user or password.',
  'login.locked': 'Too many failed logins from this address. Try again after {time}.',
  'login.expired': 'The form had expired. Please log in again.',
  'status.title': 'Status',
  'status.runningSince': 'Running since',
  'status.upstream': 'Upstream',
  'status.mailbox': 'Mailbox',
  'status.listening': 'Devices connect to',
  'status.lastDelivery': 'Last delivery',
  'status.lastFailure': 'Last failure',
  'status.none': 'None since the bridge started',
  'status.recipients': '{n} recipient(s), from {who}',
  'status.token': 'Access token',
  'status.tokenValidUntil': 'Valid until {time}',
  'status.tokenRefreshed': 'Last fetched from Google at {time}',
  'status.tokenNone': 'No token yet: the bridge fetches one for the first message.',
  'status.tokenNotUsed': 'This upstream does not use OAuth tokens.',
  'status.tokenInvalid': 'Google refused the refresh token (invalid_grant). What to do:',
  'status.budget': 'Sending budget (last 24 hours)',
  'status.budgetRow': '{used} used of {limit}',
  'status.lockouts': 'Lockouts in force',
  'status.lockoutsNone': 'None',
  'status.hint': 'What to do',
  'messages.title': 'Messages',
  'messages.since': 'From',
  'messages.until': 'To (date)',
  'messages.status': 'Status',
  'messages.any': 'Any',
  'messages.account': 'Account',
  'messages.to': 'Recipient',
  'messages.filter': 'Filter',
  'messages.csv': 'Download CSV',
  'messages.time': 'Time',
  'messages.from': 'Sender',
  'messages.subject': 'Subject',
  'messages.code': 'Code',
  'messages.response': 'Server reply',
  'messages.empty': 'No message matches.',
  'messages.noLog': 'The send log is not written to files: add "sendLog": { "dir": "send-log" } to the bridge config to see messages here.',
  'messages.newer': '← Newer',
  'messages.older': 'Older →',
  'messages.page': 'Page {n}',
  'status.delivered': 'delivered',
  'status.refused': 'refused',
  'status.deferred': 'deferred',
  'status.uncertain': 'uncertain',
  'devices.title': 'Devices',
  'devices.accounts': 'Device accounts',
  'devices.user': 'User',
  'devices.allowFrom': 'May send as',
  'devices.anySender': 'Any sender',
  'devices.noAccounts': 'No device accounts.',
  'devices.networks': 'Networks that send without a login',
  'devices.noNetworks': 'None.',
  'devices.lockouts': 'Locked-out addresses',
  'devices.address': 'Address',
  'devices.until': 'Locked until',
  'devices.failures': 'Failed logins',
  'devices.unlock': 'Unlock',
  'devices.unlocked': '{address} is unlocked.',
  'devices.notLocked': '{address} was not locked out.',
  'test.title': 'Send a test message',
  'test.intro': "Sends a short message through the running upstream, as a device would, and shows the upstream's answer.",
  'test.to': 'To',
  'test.from': 'From',
  'test.send': 'Send',
  'test.ok': 'The upstream accepted the message.',
  'test.failed': 'The upstream did not accept the message.',
  'test.reply': 'Upstream reply',
  'test.subject': 'Test message from the gmail-transport bridge',
  'test.body': 'This is a test message sent from the admin console of the gmail-transport bridge.',
  'test.badAddress': 'Enter one e-mail address.',
  'error.forbidden': 'This request was refused (its form is missing or expired). Reload the page and try again.',
  'error.notFound': 'Nothing here.',
  'error.badFilter': 'A filter is not valid:',
} as const;

export type MessageKey = keyof typeof EN;

const JA: Record<MessageKey, string> = {
  title: 'gmail-transport ブリッジ',
  'nav.status': '状態',
  'nav.messages': '送信ログ',
  'nav.devices': '機器',
  'nav.test': 'テスト送信',
  'nav.logout': 'ログアウト',
  'nav.google': 'Google 連携',
  'google.title': 'Google 連携',
  'google.intro':
    'メールボックスにもう一度サインインし、再起動せずにブリッジへ新しいリフレッシュ トークンを渡します。パスワード変更やアクセスの取り消し、OAUTH_INVALID_GRANT の後に使います。',
  'google.start': 'Google と連携する',
  'google.step1': 'Google のサインイン ページへ進みます:',
  'google.open': 'Google のサインイン ページを開く',
  'google.step2': '{user} でサインインし、アクセスを許可します。',
  'google.step3':
    'このマシンのブラウザーなら、管理画面が応答を自動で受け取ります。このページを再読み込みしてください。別の PC では最後のページが表示されません（アドレスが 127.0.0.1 で始まります）。アドレス バーのアドレスをすべてコピーして、下に貼り付けてください。',
  'google.paste': '{redirect} で始まるアドレス',
  'google.finish': '完了',
  'google.reload': '再読み込み',
  'google.again': '最初からやり直す',
  'google.connected': '連携しました: {account}。ブリッジは新しいリフレッシュ トークンを使っています。',
  'google.notOurs': 'このアドレスは、ここで始めたサインインのものではありません。もう一度始めて、そのサインインのアドレスを貼り付けてください。',
  'google.noFlow': '待機中のサインインはありません。先に開始してください。',
  'google.noFile': 'ここから Google と連携するには、bridge.json の admin に "refreshTokenFile": "refresh-token" を追加してブリッジを再起動してください。',
  'google.notOauth': '送信経路が OAuth（oauth2）でサインインしないため、連携するものはありません。',
  'login.title': 'ログイン',
  'login.user': 'ユーザー名',
  'login.password': 'パスワード',
  'login.submit': 'ログイン',
  'login.failed': 'ユーザー名またはパスワードが違います。',
  'login.locked': 'このアドレスからのログイン失敗が多すぎます。{time} 以降にもう一度お試しください。',
  'login.expired': 'フォームの有効期限が切れました。もう一度ログインしてください。',
  'status.title': '状態',
  'status.runningSince': '起動時刻',
  'status.upstream': '送信経路',
  'status.mailbox': 'メールボックス',
  'status.listening': '機器の接続先',
  'status.lastDelivery': '最後の送信成功',
  'status.lastFailure': '最後の送信失敗',
  'status.none': '起動後はまだありません',
  'status.recipients': '宛先 {n} 件、送信元 {who}',
  'status.token': 'アクセストークン',
  'status.tokenValidUntil': '{time} まで有効',
  'status.tokenRefreshed': '最後に Google から取得: {time}',
  'status.tokenNone': 'まだ取得していません（最初のメールの送信時に取得します）。',
  'status.tokenNotUsed': 'この送信経路は OAuth トークンを使いません。',
  'status.tokenInvalid': 'Google がリフレッシュトークンを拒否しました（invalid_grant）。対処方法:',
  'status.budget': '送信枠（直近 24 時間）',
  'status.budgetRow': '{limit} 通中 {used} 通使用',
  'status.lockouts': 'ロックアウト中のアドレス',
  'status.lockoutsNone': 'なし',
  'status.hint': '対処方法',
  'messages.title': '送信ログ',
  'messages.since': '開始日',
  'messages.until': '終了日',
  'messages.status': '結果',
  'messages.any': 'すべて',
  'messages.account': 'アカウント',
  'messages.to': '宛先',
  'messages.filter': '絞り込む',
  'messages.csv': 'CSV をダウンロード',
  'messages.time': '日時',
  'messages.from': '送信元',
  'messages.subject': '件名',
  'messages.code': 'コード',
  'messages.response': 'サーバーの応答',
  'messages.empty': '該当するメールはありません。',
  'messages.noLog': '送信ログがファイルに書き出されていません。ここに表示するには、ブリッジの設定に "sendLog": { "dir": "send-log" } を追加してください。',
  'messages.newer': '← 新しい',
  'messages.older': '古い →',
  'messages.page': '{n} ページ目',
  'status.delivered': '送信済み',
  'status.refused': '拒否',
  'status.deferred': '保留（再送待ち）',
  'status.uncertain': '不確定',
  'devices.title': '機器',
  'devices.accounts': '機器のアカウント',
  'devices.user': 'ユーザー名',
  'devices.allowFrom': '使える送信元',
  'devices.anySender': '制限なし',
  'devices.noAccounts': '機器のアカウントはありません。',
  'devices.networks': 'ログインなしで送信できるネットワーク',
  'devices.noNetworks': 'なし。',
  'devices.lockouts': 'ロックアウト中のアドレス',
  'devices.address': 'アドレス',
  'devices.until': 'ロック解除予定',
  'devices.failures': 'ログイン失敗回数',
  'devices.unlock': 'ロック解除',
  'devices.unlocked': '{address} のロックを解除しました。',
  'devices.notLocked': '{address} はロックアウトされていませんでした。',
  'test.title': 'テストメールを送る',
  'test.intro': '稼働中の送信経路から短いメールを機器と同じように送り、送信先サーバーの応答を表示します。',
  'test.to': '宛先',
  'test.from': '送信元',
  'test.send': '送信',
  'test.ok': '送信経路がメールを受け付けました。',
  'test.failed': '送信経路がメールを受け付けませんでした。',
  'test.reply': 'サーバーの応答',
  'test.subject': 'gmail-transport ブリッジからのテストメール',
  'test.body': 'gmail-transport ブリッジの管理画面から送ったテストメールです。',
  'test.badAddress': 'メールアドレスを 1 つ入力してください。',
  'error.forbidden': 'このリクエストは拒否されました（フォームがないか期限切れです）。ページを再読み込みしてやり直してください。',
  'error.notFound': 'ページが見つかりません。',
  'error.badFilter': '絞り込み条件が正しくありません:',
};

const MESSAGES: Record<Locale, Record<MessageKey, string>> = { en: EN, ja: JA };

/** A message of the console in `locale`, with `{name}` placeholders filled in. */
export function t(locale: Locale, key: MessageKey, vars: Record<string, string | number> = {}): string {
  return MESSAGES[locale][key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** The cookie that keeps the language chosen with the switch. */
export const LANG_COOKIE = 'gt_lang';

/**
 * The page's language: the switch's `?lang=`, else the one chosen before, else the first of
 * the browser's languages that the console has, else English.
 */
export function pickLocale(req: IncomingMessage, query: URLSearchParams, cookies: ReadonlyMap<string, string>): Locale {
  const chosen = query.get('lang') ?? cookies.get(LANG_COOKIE);
  if (chosen === 'en' || chosen === 'ja') return chosen;
  const accepted = (req.headers['accept-language'] ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.find((p) => p.trim().startsWith('q='));
      return { lang: tag.trim().toLowerCase().split('-')[0]!, q: q ? Number(q.trim().slice(2)) : 1 };
    })
    .filter((entry) => entry.lang !== '' && Number.isFinite(entry.q) && entry.q > 0)
    .sort((a, b) => b.q - a.q);
  const match = accepted.find((entry) => entry.lang === 'en' || entry.lang === 'ja');
  return (match?.lang as Locale | undefined) ?? 'en';
}

/** A time for a page, in the bridge machine's time zone (the page's script shows the browser's). */
export function formatTime(ms: number): string {
  return localTime(new Date(ms).toISOString());
}
