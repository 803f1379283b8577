import type { ErrorCode } from '../errors.js';

/** Languages hints are written in. */
export type Locale = 'en' | 'ja';

export const LOCALES: readonly Locale[] = ['en', 'ja'];

/**
 * A hint variant refines a code's hint where the same code calls for different advice:
 * `AUTH_INVALID_CREDENTIALS` means "make an app password" to an app-password user and "check
 * the provider's API key" to an external relay user.
 */
export type HintKey = ErrorCode | `${ErrorCode}:${string}`;

type HintTable = Record<ErrorCode, Record<Locale, string>> & Partial<Record<HintKey, Record<Locale, string>>>;

const HINTS: HintTable = {
  CONFIG_INVALID: {
    en: 'Fix the fields listed and create the transport again; the README has a complete config for each strategy.',
    ja: '一覧の項目を修正してからトランスポートを作り直してください。各ストラテジーの完全な設定例は README にあります。',
  },
  AUTH_INVALID_CREDENTIALS: {
    en: 'The server refused the user name or password. Check both, and that the account may use SMTP.',
    ja: 'サーバーがユーザー名またはパスワードを拒否しました。両方と、そのアカウントで SMTP が使えるかを確認してください。',
  },
  'AUTH_INVALID_CREDENTIALS:app-password': {
    en: 'Google refused the app password. Create a new one (Google Account > Security > 2-Step Verification > App passwords) and use all 16 letters; the user must be the account that created it.',
    ja: 'Google がアプリ パスワードを拒否しました。新しいものを作成し（Google アカウント > セキュリティ > 2 段階認証プロセス > アプリ パスワード）、16 文字すべてを使ってください。user は作成したアカウントである必要があります。',
  },
  'AUTH_INVALID_CREDENTIALS:basic-auth': {
    en: 'This looks like a normal account password: Google stopped accepting those over SMTP on 2025-03-14. Use an app password (needs 2-Step Verification) or switch to the oauth2 strategy.',
    ja: '通常のアカウント パスワードのようです。Google は 2025-03-14 に SMTP での通常パスワードによるログイン（基本認証）を終了しました。アプリ パスワード（2 段階認証が必要）を使うか、oauth2 ストラテジーに切り替えてください。',
  },
  'AUTH_INVALID_CREDENTIALS:relay': {
    en: 'The relay refused the credentials. Check the user name and password or API key in your provider\'s SMTP settings (SendGrid uses the user "apikey").',
    ja: 'リレーが認証情報を拒否しました。プロバイダーの SMTP 設定にあるユーザー名とパスワード（または API キー）を確認してください（SendGrid のユーザー名は "apikey" です）。',
  },
  AUTH_APP_PASSWORD_REQUIRED: {
    en: 'The account has 2-Step Verification on, so Google wants an app password, not the account password: create one under Google Account > Security > 2-Step Verification > App passwords (https://myaccount.google.com/apppasswords).',
    ja: 'このアカウントは 2 段階認証が有効なため、アカウントのパスワードではなくアプリ パスワードが必要です。Google アカウント > セキュリティ > 2 段階認証プロセス > アプリ パスワード（https://myaccount.google.com/apppasswords）で作成してください。',
  },
  AUTH_WEB_LOGIN_REQUIRED: {
    en: 'Google blocked the sign-in until someone signs in to this account in a browser. Sign in at https://accounts.google.com, then prefer the oauth2 strategy over passwords.',
    ja: 'ブラウザーでこのアカウントにサインインするまで Google がログインを止めています。https://accounts.google.com でサインインし、今後はパスワードではなく oauth2 ストラテジーを使ってください。',
  },
  OAUTH_TOKEN_REJECTED: {
    en: 'Gmail refused a freshly refreshed access token: the token lacks the https://mail.google.com/ scope, or the user does not match the account that consented (or the delegated mailbox).',
    ja: '更新したばかりのアクセス トークンも Gmail に拒否されました。トークンに https://mail.google.com/ スコープがないか、user が同意したアカウント（または委任先のメールボックス）と一致していません。',
  },
  'OAUTH_TOKEN_REJECTED:service-account': {
    en: 'Gmail refused the service account\'s access token: domain-wide delegation for its client ID is missing the https://mail.google.com/ scope, or `user` is not a mailbox of the Workspace domain. Check Admin console > Security > API controls > Domain-wide delegation.',
    ja: 'サービス アカウントのアクセス トークンが Gmail に拒否されました。クライアント ID のドメイン全体の委任に https://mail.google.com/ スコープがないか、user が Workspace ドメインのメールボックスではありません。管理コンソール > セキュリティ > API の制御 > ドメイン全体の委任 を確認してください。',
  },
  OAUTH_INVALID_GRANT: {
    en: 'The refresh token no longer works: it was revoked, the user changed the password, it went unused for 6 months, or the app is in "Testing" status (tokens die after 7 days). Run `npx gmail-transport auth` for a new one and publish the app "In production".',
    ja: 'リフレッシュ トークンが無効になりました（取り消し、パスワード変更、6 か月未使用、またはアプリが「テスト」状態で 7 日経過）。`npx gmail-transport auth` で新しいトークンを取得し、アプリを「本番環境」で公開してください。',
  },
  'OAUTH_INVALID_GRANT:service-account': {
    en: 'Google refused the service account\'s signed assertion: the key was deleted or rotated, the clock is off, or the user to impersonate does not exist. Check the key file and the user.',
    ja: 'サービス アカウントの署名付きアサーションが拒否されました。鍵が削除・更新されたか、時計がずれているか、なりすまし先のユーザーが存在しません。鍵ファイルと user を確認してください。',
  },
  'OAUTH_INVALID_GRANT:auth-code': {
    en: 'Google refused the authorization code: it expired (codes last minutes), was already used, or does not match the redirect URI or PKCE verifier it was issued for. Run `gmail-transport auth` again and finish the consent in one go.',
    ja: 'Google が認可コードを拒否しました。期限切れ（数分で失効）、使用済み、または発行時のリダイレクト URI・PKCE 検証値と一致しません。`gmail-transport auth` をもう一度実行し、同意を一度で完了してください。',
  },
  'OAUTH_SCOPE_DENIED:consent': {
    en: 'Access to Gmail (https://mail.google.com/) was not granted: the consent was declined or the Gmail box left unticked, or the app is in "Testing" status and this account is not one of its test users (OAuth consent screen > Test users). Run `gmail-transport auth` again and allow it.',
    ja: 'Gmail へのアクセス（https://mail.google.com/）が許可されませんでした。同意が拒否されたか Gmail のチェックが外されたか、アプリが「テスト」状態でこのアカウントがテストユーザーに含まれていません（OAuth 同意画面 > テストユーザー）。`gmail-transport auth` を再実行して許可してください。',
  },
  OAUTH_INVALID_CLIENT: {
    en: 'Google does not recognise the OAuth client: check clientId and clientSecret (download the client JSON again from Google Cloud console > APIs & Services > Credentials).',
    ja: 'Google が OAuth クライアントを認識しません。clientId と clientSecret を確認してください（Google Cloud コンソール > API とサービス > 認証情報 からクライアントの JSON を再ダウンロード）。',
  },
  'OAUTH_INVALID_CLIENT:api-disabled': {
    en: 'The Gmail API is not enabled for this Google Cloud project: enable it under APIs & Services > Library > Gmail API, wait a few minutes, then retry.',
    ja: 'この Google Cloud プロジェクトで Gmail API が有効になっていません。API とサービス > ライブラリ > Gmail API で有効にし、数分待ってから再試行してください。',
  },
  'OAUTH_INVALID_CLIENT:service-account': {
    en: 'Google does not accept the service account key: it was deleted or disabled, or the account was removed. Create a new JSON key under IAM & Admin > Service accounts > Keys.',
    ja: 'Google がサービス アカウントの鍵を受け付けません（鍵が削除・無効化された、またはアカウントが削除された）。IAM と管理 > サービス アカウント > 鍵 で新しい JSON 鍵を作成してください。',
  },
  'CONNECTION_FAILED:token': {
    en: 'Could not get an access token from Google\'s token endpoint (oauth2.googleapis.com over HTTPS): check outbound HTTPS, proxies and DNS. The error is retryable.',
    ja: 'Google のトークン エンドポイント（oauth2.googleapis.com、HTTPS）からアクセス トークンを取得できませんでした。送信方向の HTTPS、プロキシ、DNS を確認してください。再試行可能なエラーです。',
  },
  'OAUTH_TOKEN_REJECTED:gmail-api': {
    en: 'The Gmail API refused a freshly refreshed access token (401): it was revoked meanwhile, or it was issued for another client or endpoint. Check endpoints.token and endpoints.gmailApi, then get a new refresh token (`npx gmail-transport auth`) or check the service account key.',
    ja: '更新したばかりのアクセス トークンも Gmail API に拒否されました（401）。途中で取り消されたか、別のクライアントやエンドポイント向けに発行されています。endpoints.token と endpoints.gmailApi を確認し、新しいリフレッシュ トークンを取得する（`npx gmail-transport auth`）か、サービス アカウントの鍵を確認してください。',
  },
  'OAUTH_SCOPE_DENIED:gmail-api': {
    en: 'The access token may not send as this mailbox: it lacks the scope https://www.googleapis.com/auth/gmail.send (consent again with it, or add it to the service account\'s domain-wide delegation in the Admin console), or `user` is not the account the token belongs to.',
    ja: 'このアクセス トークンではこのメールボックスとして送信できません。https://www.googleapis.com/auth/gmail.send スコープがないか（そのスコープで再度同意するか、管理コンソールでサービス アカウントのドメイン全体の委任に追加してください）、user がトークンのアカウントと一致していません。',
  },
  'OAUTH_SCOPE_DENIED:failed-precondition': {
    en: 'Gmail refused to act on this mailbox (failedPrecondition): a service account must impersonate a user of your domain (set `user` to that mailbox and grant domain-wide delegation for the scope), and the mailbox must have Gmail turned on and licensed.',
    ja: 'Gmail がこのメールボックスでの操作を拒否しました（failedPrecondition）。サービス アカウントは自ドメインのユーザーになりすます必要があります（user にそのメールボックスを指定し、スコープのドメイン全体の委任を付与）。また、そのメールボックスで Gmail が有効でライセンスが必要です。',
  },
  'POLICY_REJECTED:domain-policy': {
    en: 'The Workspace domain\'s administrators do not allow this app to use Gmail. An administrator must allow it (Admin console > Security > Access and data control > API controls) or turn Gmail on for the user.',
    ja: 'Workspace ドメインの管理者がこのアプリの Gmail 利用を許可していません。管理者が許可する（管理コンソール > セキュリティ > アクセスとデータ管理 > API の制御）か、ユーザーの Gmail を有効にする必要があります。',
  },
  'RATE_LIMITED:gmail-api': {
    en: 'Google is throttling this mailbox\'s Gmail API requests (about 150 sends a minute per user). Lower maxConcurrent or spread the sends out; the error is retryable after retryAfterMs.',
    ja: 'Google がこのメールボックスの Gmail API リクエストを制限しています（1 ユーザーあたり毎分約 150 通）。maxConcurrent を下げるか送信を分散してください。retryAfterMs の後に再試行できます。',
  },
  'QUOTA_EXCEEDED:api-project': {
    en: 'The Google Cloud project\'s Gmail API quota is used up. Check APIs & Services > Gmail API > Quotas in the Cloud console, ask for more, or wait for the reset.',
    ja: 'Google Cloud プロジェクトの Gmail API の割り当てを使い切りました。Cloud コンソールの API とサービス > Gmail API > 割り当て を確認し、増加を申請するかリセットを待ってください。',
  },
  'MESSAGE_REJECTED:gmail-api-size': {
    en: 'The Gmail API takes messages up to 35 MB as encoded, and MIME grows attachments by about a third. Shrink the attachments or share large files as links (e.g. Google Drive).',
    ja: 'Gmail API が受け付けるのはエンコード後 35 MB までで、MIME では添付ファイルが約 3 分の 1 大きくなります。添付ファイルを小さくするか、大きなファイルは Google ドライブなどのリンクで共有してください。',
  },
  'CONFIG_INVALID:app-password': {
    en: 'An app password is 16 letters, shown by Google in four groups (abcd efgh ijkl mnop): turn on 2-Step Verification, then create one under Google Account > Security > App passwords. A normal account password no longer works: Google ended basic auth for SMTP on 2025-03-14.',
    ja: 'アプリ パスワードは 16 文字の英字で、Google では 4 文字ずつ 4 組（abcd efgh ijkl mnop）で表示されます。2 段階認証プロセスを有効にしてから、Google アカウント > セキュリティ > アプリ パスワード で作成してください。通常のアカウント パスワードは使えません（Google は 2025-03-14 に SMTP の基本認証を終了しました）。',
  },
  'CONFIG_INVALID:gmail-api-envelope': {
    en: 'The Gmail API delivers to the To, Cc and Bcc headers and sends from the account, so it cannot use a separate envelope: drop `envelope` and put every recipient in to/cc/bcc, or send this message through an SMTP strategy.',
    ja: 'Gmail API は To・Cc・Bcc ヘッダーの宛先に配信し、差出人はアカウントになるため、別の envelope は使えません。envelope を外して全宛先を to/cc/bcc に入れるか、このメッセージは SMTP のストラテジーで送ってください。',
  },
  OAUTH_SCOPE_DENIED: {
    en: 'The credentials lack the needed scope. For a service account, grant domain-wide delegation for its client ID with the scope https://mail.google.com/ in the Workspace admin console; for a refresh token, consent again with that scope.',
    ja: '必要なスコープがありません。サービス アカウントの場合は Workspace 管理コンソールでそのクライアント ID に https://mail.google.com/ スコープのドメイン全体の委任を付与し、リフレッシュ トークンの場合はそのスコープで再度同意してください。',
  },
  RELAY_DENIED: {
    en: 'The server will not relay for this sender. For smtp-relay.gmail.com, add this host\'s public IP in the Admin console (Apps > Google Workspace > Gmail > Routing > SMTP relay service) and send from an address of your domain.',
    ja: 'サーバーがこの送信者の中継を拒否しました。smtp-relay.gmail.com の場合は、管理コンソール（アプリ > Google Workspace > Gmail > ルーティング > SMTP リレーサービス）にこのホストのグローバル IP を登録し、自ドメインのアドレスから送信してください。',
  },
  'RELAY_DENIED:auth-required': {
    en: 'The server takes mail only after a login. smtp.gmail.com needs the oauth2, service-account or app-password strategy; to send without credentials, use smtp-relay.gmail.com (ip-relay) with this host\'s IP registered.',
    ja: 'このサーバーはログイン後にしかメールを受け付けません。smtp.gmail.com では oauth2・service-account・app-password のいずれかのストラテジーを使ってください。認証情報なしで送るには、このホストの IP を登録したうえで smtp-relay.gmail.com（ip-relay）を使ってください。',
  },
  TLS_REQUIRED: {
    en: 'The server requires TLS before this command. Keep smtp.requireTLS on (the default, STARTTLS on port 587) or use port 465 with implicit TLS; check that nothing between you and the server strips STARTTLS.',
    ja: 'このコマンドの前に TLS が必要です。smtp.requireTLS を有効のまま（既定、ポート 587 で STARTTLS）にするか、暗黙の TLS でポート 465 を使ってください。途中の機器が STARTTLS を取り除いていないかも確認してください。',
  },
  TLS_FAILED: {
    en: 'The TLS connection could not be set up (certificate not trusted, expired or for another host, or no STARTTLS offered). No credentials were sent. Check smtp.host, or pass the server\'s CA in smtp.tls.ca.',
    ja: 'TLS 接続を確立できませんでした（証明書が信頼されていない・期限切れ・別ホスト用、または STARTTLS 非対応）。認証情報は送信されていません。smtp.host を確認するか、サーバーの CA を smtp.tls.ca に指定してください。',
  },
  CONNECTION_FAILED: {
    en: 'Could not reach the mail server (DNS, refused, reset or timeout). Many hosts block outbound ports 465 and 587: if this keeps happening, ask your host or use the gmail-api strategy, which sends over HTTPS.',
    ja: 'メール サーバーに接続できませんでした（DNS、拒否、リセット、タイムアウト）。多くのホスティングは送信ポート 465/587 を遮断しています。続く場合はホスティング事業者に確認するか、HTTPS で送る gmail-api ストラテジーを使ってください。',
  },
  RATE_LIMITED: {
    en: 'Google is throttling this sender. Slow down (rateLimit, maxConnections) and retry later; the error is retryable.',
    ja: 'Google がこの送信者を制限しています。送信ペースを落とし（rateLimit、maxConnections）、時間をおいて再試行してください。',
  },
  'RATE_LIMITED:login': {
    en: 'Google saw too many logins in a short time, typically one per message. Reuse connections with pool: true (and maxMessages), and retry later; the error is retryable.',
    ja: '短時間のログインが多すぎます（多くはメッセージごとのログイン）。pool: true（と maxMessages）で接続を再利用し、時間をおいて再試行してください。',
  },
  QUOTA_EXCEEDED: {
    en: 'The daily sending limit of this account or relay is used up; it resets within 24 hours. Configure a failover route (e.g. an external relay) for the rest of the day.',
    ja: 'このアカウントまたはリレーの 1 日の送信上限に達しました。24 時間以内にリセットされます。残りの時間は failover で外部リレーなどに切り替えてください。',
  },
  'QUOTA_EXCEEDED:budget': {
    en: 'Nothing was sent: this mailbox\'s sending budget is used up for now, which keeps the account under Google\'s daily limits (passing them stops the account from sending for up to 24 hours). Retry after retryAfterMs, add a failover route, or set budget.messagesPerDay if the account\'s limit differs.',
    ja: '何も送信していません。このメールボックスの送信バジェットを現在使い切っています（Google の 1 日の上限を超えると、そのアカウントは最長 24 時間送信できなくなるため、手前で止めています）。retryAfterMs の後に再試行するか、failover で別の経路を追加するか、アカウントの上限が異なる場合は budget.messagesPerDay を設定してください。',
  },
  'QUOTA_EXCEEDED:recipients-per-message': {
    en: 'The message has more recipients (To, Cc and Bcc together) than budget.recipientsPerMessage allows; Google takes at most 100 per message over SMTP and the Gmail API. Split the recipients into several messages; nothing was sent.',
    ja: 'メッセージの宛先（To・Cc・Bcc の合計）が budget.recipientsPerMessage の上限を超えています。Google が SMTP と Gmail API で 1 通に受け付ける宛先は最大 100 件です。宛先を複数のメッセージに分けてください。何も送信していません。',
  },
  MESSAGE_REJECTED: {
    en: 'The server rejected the message itself (size over the limit, or content flagged). Sending it again unchanged will fail again: shrink attachments (Gmail allows 25 MB over SMTP) or change the content.',
    ja: 'メッセージ自体が拒否されました（サイズ超過または内容の問題）。そのまま再送しても失敗します。添付ファイルを小さくするか（SMTP では 25 MB まで）、内容を変えてください。',
  },
  POLICY_REJECTED: {
    en: 'A sending policy rejected the message: SPF/DKIM/DMARC for the sender\'s domain, the sending IP\'s reputation, or too many recipients. Fix the domain\'s DNS records or split the recipients.',
    ja: '送信ポリシーにより拒否されました（送信ドメインの SPF/DKIM/DMARC、送信 IP の評価、宛先数の超過）。ドメインの DNS レコードを修正するか、宛先を分けてください。',
  },
  RECIPIENT_REJECTED: {
    en: 'A recipient address was refused (no such user or domain). Check the address; retrying will not help.',
    ja: '宛先アドレスが拒否されました（ユーザーまたはドメインが存在しません）。アドレスを確認してください。再試行では解決しません。',
  },
  SYNTAX_ERROR: {
    en: 'The server could not parse a command or address. Check the from/to addresses and the EHLO name (smtp.name).',
    ja: 'サーバーがコマンドまたはアドレスを解釈できませんでした。from/to のアドレスと EHLO 名（smtp.name）を確認してください。',
  },
  TEMPORARY_FAILURE: {
    en: 'The server had a temporary problem. The message was not accepted; retry later.',
    ja: 'サーバーで一時的な問題が起きました。メッセージは受け付けられていません。時間をおいて再試行してください。',
  },
  PERMANENT_FAILURE: {
    en: 'The server rejected the request permanently. Read `response` for its reason; retrying unchanged will fail again.',
    ja: 'サーバーが要求を恒久的に拒否しました。理由は `response` を確認してください。そのまま再試行しても失敗します。',
  },
  DELIVERY_UNCERTAIN: {
    en: 'The connection was lost after the whole message was sent, before the server confirmed it: it may or may not have been delivered. It was not retried, to avoid a duplicate; check the recipient\'s mailbox or your Sent folder by messageId before sending again.',
    ja: 'メッセージ全体を送った後、サーバーの確認前に接続が切れたため、配信されたかどうか不明です。重複を避けるため再送していません。再送する前に messageId で送信済みフォルダーなどを確認してください。',
  },
  'DELIVERY_UNCERTAIN:aborted': {
    en: 'The send was aborted by its AbortSignal after the whole message was handed to the server, before it confirmed: it may or may not have been delivered. Check the recipient\'s mailbox or your Sent folder by messageId before sending again.',
    ja: 'メッセージ全体をサーバーに渡した後、確認の前に AbortSignal で送信が中止されたため、配信されたかどうか不明です。再送する前に messageId で送信済みフォルダーなどを確認してください。',
  },
  ABORTED: {
    en: 'The AbortSignal passed to sendMail() aborted the send (`cause` holds its reason) before the server could have accepted the message: nothing was delivered. Send it again if you still want it sent.',
    ja: 'sendMail() に渡した AbortSignal が、サーバーがメッセージを受け付けうる前に送信を中止しました（理由は `cause` にあります）。何も配信されていません。必要なら送り直してください。',
  },
  UNKNOWN: {
    en: 'An unexpected error; `cause` holds the original. Please report it if it keeps happening.',
    ja: '予期しないエラーです。元のエラーは `cause` にあります。繰り返し起きる場合は報告してください。',
  },
};

/**
 * The hint for a code (or a code's variant, `'AUTH_INVALID_CREDENTIALS:basic-auth'`) in the
 * given locale. An unknown variant falls back to its code's hint, an unknown code to UNKNOWN's.
 *
 * @example
 * ```ts
 * hintFor('QUOTA_EXCEEDED', 'ja');
 * ```
 */
export function hintFor(key: HintKey, locale: Locale = 'en'): string {
  const entry = HINTS[key] ?? HINTS[key.split(':')[0] as ErrorCode] ?? HINTS.UNKNOWN;
  return entry[locale] ?? entry.en;
}

/** Every hint key that exists, for tests and docs. */
export function hintKeys(): HintKey[] {
  return Object.keys(HINTS) as HintKey[];
}
