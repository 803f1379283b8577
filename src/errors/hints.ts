import type { ErrorCode } from './error.js';

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

/**
 * The table is made on the first hint asked for, not at import: most processes never raise an
 * error, and its strings in two languages are the largest literal data in the package.
 */
const hintTable = (): HintTable => ({
  CONFIG_INVALID: {
    en: 'Fix the fields listed (each issue in `issues` has a hint of its own) and create the transport again; the guide of each strategy (docs/strategies in the repository) has a complete config.',
    ja: '一覧の項目を修正してからトランスポートを作り直してください（`issues` の各項目にそれぞれのヒントがあります）。各ストラテジーの完全な設定例は、リポジトリの docs/strategies のガイドにあります。',
  },
  'CONFIG_INVALID:bridge': {
    en: 'Fix the fields listed in the bridge config file (each has a hint of its own) and start `gmail-transport serve` again; the bridge guide for administrators (docs/bridge.md, in Japanese docs/ja/bridge.md) has a complete config.',
    ja: 'ブリッジの設定ファイルの一覧の項目を修正し（各項目にヒントがあります）、`gmail-transport serve` を起動し直してください。完全な設定例は管理者ガイド（docs/ja/bridge.md）にあります。',
  },
  'CONFIG_INVALID:field': {
    en: 'Change this field as its message says; the guide for the strategy (or the bridge) in docs/ shows a working value.',
    ja: 'メッセージのとおりにこの項目を変えてください。docs/ にあるストラテジー（またはブリッジ）のガイドに動く設定例があります。',
  },
  'CONFIG_INVALID:required': {
    en: 'Add this field: the guide of each strategy (docs/strategies) shows its complete config, with every field it needs.',
    ja: 'この項目を追加してください。docs/strategies の各ストラテジーのガイドに、必要な項目をすべて含む完全な設定例があります。',
  },
  'CONFIG_INVALID:not-empty': {
    en: 'Give it a value, or leave the field out to use its default. In a config file, an unset { "env": … } reference shows up as its own issue.',
    ja: '値を入れるか、既定値を使うなら項目ごと省いてください。設定ファイルでは、未設定の { "env": … } 参照は別の項目として報告されます。',
  },
  'CONFIG_INVALID:type-string': {
    en: 'Give it as text in quotes; in a config file, a secret can be a { "env": "NAME" } or { "file": "path" } reference instead.',
    ja: '引用符で囲んだ文字列で指定してください。設定ファイルでは、秘密情報を { "env": "NAME" } や { "file": "path" } の参照にできます。',
  },
  'CONFIG_INVALID:type-boolean': {
    en: 'Write true or false, without quotes ("false" in quotes is text, not a boolean).',
    ja: 'true か false を引用符なしで書いてください（引用符付きの "false" は真偽値ではなく文字列です）。',
  },
  'CONFIG_INVALID:type-integer': {
    en: 'Write a whole number without quotes, e.g. 587 rather than "587"; times are in milliseconds.',
    ja: '整数を引用符なしで書いてください（"587" ではなく 587）。時間はミリ秒です。',
  },
  'CONFIG_INVALID:type-object': {
    en: 'Give it as an object with its own fields, { … }, not as text or a list.',
    ja: '文字列やリストではなく、項目を持つオブジェクト { … } で指定してください。',
  },
  'CONFIG_INVALID:range': {
    en: 'Use a value within the limit the message gives.',
    ja: 'メッセージが示す範囲内の値にしてください。',
  },
  'CONFIG_INVALID:one-of': {
    en: 'Use one of the values listed, spelled exactly as shown (with hyphens, in lower case).',
    ja: '一覧の値のどれかを、表示どおりのつづり（ハイフン付き、小文字）で指定してください。',
  },
  'CONFIG_INVALID:unknown-key': {
    en: 'Remove this option or correct its spelling: names are case-sensitive, and each strategy takes only its own options and the common ones.',
    ja: 'このオプションを削除するか、つづりを直してください。名前は大文字と小文字を区別し、各ストラテジーが受け付けるのは自身のオプションと共通オプションだけです。',
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
  AUTH_UNAVAILABLE: {
    en: 'Nothing was sent: the config has credentials, but this server offers no login they can use. The host or port is probably not the one you meant (check smtp.host and smtp.port), or it is a relay that admits your IP and needs no credentials (then leave auth out).',
    ja: '何も送信していません。設定に認証情報がありますが、このサーバーはそれで使えるログイン方式を提示していません。意図したホストやポートではない可能性が高いです（smtp.host と smtp.port を確認してください）。IP アドレスで許可するリレーなら認証情報は不要です（auth を外してください）。',
  },
  OAUTH_TOKEN_REJECTED: {
    en: 'Gmail refused a freshly refreshed access token: the token lacks the https://mail.google.com/ scope, or the user does not match the account that consented (or the delegated mailbox).',
    ja: '更新したばかりのアクセス トークンも Gmail に拒否されました。トークンに https://mail.google.com/ スコープがないか、user が同意したアカウント（または委任先のメールボックス）と一致していません。',
  },
  'OAUTH_TOKEN_REJECTED:service-account': {
    en: "Gmail refused the service account's access token: domain-wide delegation for its client ID is missing the https://mail.google.com/ scope, or `user` is not a mailbox of the Workspace domain. Check Admin console > Security > API controls > Domain-wide delegation.",
    ja: 'サービス アカウントのアクセス トークンが Gmail に拒否されました。クライアント ID のドメイン全体の委任に https://mail.google.com/ スコープがないか、user が Workspace ドメインのメールボックスではありません。管理コンソール > セキュリティ > API の制御 > ドメイン全体の委任 を確認してください。',
  },
  OAUTH_INVALID_GRANT: {
    en: 'The refresh token no longer works: it was revoked, the user changed the password, it went unused for 6 months, or the app is in "Testing" status (tokens die after 7 days). Run `npx gmail-transport auth` for a new one and publish the app "In production".',
    ja: 'リフレッシュ トークンが無効になりました（取り消し、パスワード変更、6 か月未使用、またはアプリが「テスト」状態で 7 日経過）。`npx gmail-transport auth` で新しいトークンを取得し、アプリを「本番環境」で公開してください。',
  },
  'OAUTH_INVALID_GRANT:service-account': {
    en: "Google refused the service account's signed assertion: the key was deleted or rotated, the clock is off, or the user to impersonate does not exist. Check the key file and the user.",
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
    en: "Could not get an access token from Google's token endpoint (oauth2.googleapis.com over HTTPS): check outbound HTTPS, proxies and DNS. The error is retryable.",
    ja: 'Google のトークン エンドポイント（oauth2.googleapis.com、HTTPS）からアクセス トークンを取得できませんでした。送信方向の HTTPS、プロキシ、DNS を確認してください。再試行可能なエラーです。',
  },
  'OAUTH_TOKEN_REJECTED:gmail-api': {
    en: 'The Gmail API refused a freshly refreshed access token (401): it was revoked meanwhile, or it was issued for another client or endpoint. Check endpoints.token and endpoints.gmailApi, then get a new refresh token (`npx gmail-transport auth`) or check the service account key.',
    ja: '更新したばかりのアクセス トークンも Gmail API に拒否されました（401）。途中で取り消されたか、別のクライアントやエンドポイント向けに発行されています。endpoints.token と endpoints.gmailApi を確認し、新しいリフレッシュ トークンを取得する（`npx gmail-transport auth`）か、サービス アカウントの鍵を確認してください。',
  },
  'OAUTH_SCOPE_DENIED:gmail-api': {
    en: "The access token may not send as this mailbox: it lacks the scope https://www.googleapis.com/auth/gmail.send (consent again with it, or add it to the service account's domain-wide delegation in the Admin console), or `user` is not the account the token belongs to.",
    ja: 'このアクセス トークンではこのメールボックスとして送信できません。https://www.googleapis.com/auth/gmail.send スコープがないか（そのスコープで再度同意するか、管理コンソールでサービス アカウントのドメイン全体の委任に追加してください）、user がトークンのアカウントと一致していません。',
  },
  'OAUTH_SCOPE_DENIED:failed-precondition': {
    en: 'Gmail refused to act on this mailbox (failedPrecondition): a service account must impersonate a user of your domain (set `user` to that mailbox and grant domain-wide delegation for the scope), and the mailbox must have Gmail turned on and licensed.',
    ja: 'Gmail がこのメールボックスでの操作を拒否しました（failedPrecondition）。サービス アカウントは自ドメインのユーザーになりすます必要があります（user にそのメールボックスを指定し、スコープのドメイン全体の委任を付与）。また、そのメールボックスで Gmail が有効でライセンスが必要です。',
  },
  'POLICY_REJECTED:domain-policy': {
    en: "The Workspace domain's administrators do not allow this app to use Gmail. An administrator must allow it (Admin console > Security > Access and data control > API controls) or turn Gmail on for the user.",
    ja: 'Workspace ドメインの管理者がこのアプリの Gmail 利用を許可していません。管理者が許可する（管理コンソール > セキュリティ > アクセスとデータ管理 > API の制御）か、ユーザーの Gmail を有効にする必要があります。',
  },
  'RATE_LIMITED:gmail-api': {
    en: "Google is throttling this mailbox's Gmail API requests (about 150 sends a minute per user). Lower maxConcurrent or spread the sends out; the error is retryable after retryAfterMs.",
    ja: 'Google がこのメールボックスの Gmail API リクエストを制限しています（1 ユーザーあたり毎分約 150 通）。maxConcurrent を下げるか送信を分散してください。retryAfterMs の後に再試行できます。',
  },
  'QUOTA_EXCEEDED:api-project': {
    en: "The Google Cloud project's Gmail API quota is used up. Check APIs & Services > Gmail API > Quotas in the Cloud console, ask for more, or wait for the reset.",
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
    en: "The server will not relay for this sender. For smtp-relay.gmail.com, add this host's public IP in the Admin console (Apps > Google Workspace > Gmail > Routing > SMTP relay service) and send from an address of your domain.",
    ja: 'サーバーがこの送信者の中継を拒否しました。smtp-relay.gmail.com の場合は、管理コンソール（アプリ > Google Workspace > Gmail > ルーティング > SMTP リレーサービス）にこのホストのグローバル IP を登録し、自ドメインのアドレスから送信してください。',
  },
  'RELAY_DENIED:auth-required': {
    en: "The server takes mail only after a login. smtp.gmail.com needs the oauth2, service-account or app-password strategy; to send without credentials, use smtp-relay.gmail.com (ip-relay) with this host's IP registered.",
    ja: 'このサーバーはログイン後にしかメールを受け付けません。smtp.gmail.com では oauth2・service-account・app-password のいずれかのストラテジーを使ってください。認証情報なしで送るには、このホストの IP を登録したうえで smtp-relay.gmail.com（ip-relay）を使ってください。',
  },
  TLS_REQUIRED: {
    en: 'The server requires TLS before this command. Keep smtp.requireTLS on (the default, STARTTLS on port 587) or use port 465 with implicit TLS; check that nothing between you and the server strips STARTTLS.',
    ja: 'このコマンドの前に TLS が必要です。smtp.requireTLS を有効のまま（既定、ポート 587 で STARTTLS）にするか、暗黙の TLS でポート 465 を使ってください。途中の機器が STARTTLS を取り除いていないかも確認してください。',
  },
  TLS_FAILED: {
    en: "The TLS connection could not be set up (certificate not trusted, expired or for another host, or no STARTTLS offered). No credentials were sent. Check smtp.host, or pass the server's CA in smtp.tls.ca.",
    ja: 'TLS 接続を確立できませんでした（証明書が信頼されていない・期限切れ・別ホスト用、または STARTTLS 非対応）。認証情報は送信されていません。smtp.host を確認するか、サーバーの CA を smtp.tls.ca に指定してください。',
  },
  'TLS_FAILED:certificate': {
    en: "The server's certificate is not trusted here (self-signed or from a private CA, expired, or issued for another name). No credentials were sent. Give the CA certificate that signed it (PEM) in smtp.tls.ca, and connect with the name on the certificate (smtp.host). Keep certificate checks on.",
    ja: 'サーバーの証明書を信頼できません（自己署名またはプライベート CA、期限切れ、別名義）。認証情報は送信されていません。その証明書に署名した CA 証明書（PEM）を smtp.tls.ca に指定し、証明書の名前で接続してください（smtp.host）。証明書の検証は有効のままにしてください。',
  },
  'TLS_FAILED:implicit-tls-server': {
    en: 'This port speaks TLS from the first byte (implicit TLS), but the connection started in plain text. Set secure: true with port 465, or use port 587 with secure: false (STARTTLS).',
    ja: 'このポートは最初のバイトから TLS（暗黙の TLS）ですが、平文で接続を始めました。ポート 465 で secure: true にするか、ポート 587 で secure: false（STARTTLS）にしてください。',
  },
  'TLS_FAILED:plaintext-server': {
    en: 'This port starts in plain text and upgrades with STARTTLS, but the connection expected TLS from the first byte. Set secure: false with port 587 (STARTTLS stays required), or use port 465 with secure: true.',
    ja: 'このポートは平文で始まり STARTTLS で暗号化しますが、最初から TLS で接続しようとしました。ポート 587 で secure: false（STARTTLS は必須のまま）にするか、ポート 465 で secure: true にしてください。',
  },
  'TLS_FAILED:starttls-unavailable': {
    en: 'The server refused or does not offer STARTTLS, so the connection could not be encrypted. No credentials were sent, and retrying will not change that. For a trusted internal relay without TLS, set smtp.requireTLS: false (credentials then need smtp.dangerouslyAllowCredentialsInClear); otherwise check the host and port, and that nothing strips STARTTLS.',
    ja: 'サーバーが STARTTLS を拒否したか提供していないため暗号化できませんでした。認証情報は送信されておらず、再試行しても変わりません。TLS のない信頼できる社内リレーなら smtp.requireTLS: false を設定してください（認証情報を使う場合は smtp.dangerouslyAllowCredentialsInClear も必要）。それ以外はホストとポート、途中で STARTTLS が除去されていないかを確認してください。',
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
  MESSAGE_INVALID: {
    en: 'Fix the message field the error names (a missing recipient, an address that does not parse, or more recipients than this route takes) and send it again. Nothing was sent: the message was checked before any connection.',
    ja: 'エラーが示すメッセージの項目（宛先がない、解釈できないアドレス、このルートの上限を超える宛先数）を直してから送り直してください。接続する前に検査したため、何も送信していません。',
  },
  'QUOTA_EXCEEDED:budget': {
    en: "Nothing was sent: this mailbox's sending budget is used up for now, which keeps the account under Google's daily limits (passing them stops the account from sending for up to 24 hours). Retry after retryAfterMs, add a failover route, or set budget.messagesPerDay if the account's limit differs.",
    ja: '何も送信していません。このメールボックスの送信バジェットを現在使い切っています（Google の 1 日の上限を超えると、そのアカウントは最長 24 時間送信できなくなるため、手前で止めています）。retryAfterMs の後に再試行するか、failover で別の経路を追加するか、アカウントの上限が異なる場合は budget.messagesPerDay を設定してください。',
  },
  MESSAGE_REJECTED: {
    en: 'The server rejected the message itself (size over the limit, or content flagged). Sending it again unchanged will fail again: shrink attachments (Gmail allows 25 MB over SMTP) or change the content.',
    ja: 'メッセージ自体が拒否されました（サイズ超過または内容の問題）。そのまま再送しても失敗します。添付ファイルを小さくするか（SMTP では 25 MB まで）、内容を変えてください。',
  },
  POLICY_REJECTED: {
    en: "A sending policy rejected the message: SPF/DKIM/DMARC for the sender's domain, the sending IP's reputation, or too many recipients. Fix the domain's DNS records or split the recipients.",
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
    en: "The connection was lost after the whole message was sent, before the server confirmed it: it may or may not have been delivered. It was not retried, to avoid a duplicate; check the recipient's mailbox or your Sent folder by messageId before sending again.",
    ja: 'メッセージ全体を送った後、サーバーの確認前に接続が切れたため、配信されたかどうか不明です。重複を避けるため再送していません。再送する前に messageId で送信済みフォルダーなどを確認してください。',
  },
  'DELIVERY_UNCERTAIN:aborted': {
    en: "The send was aborted by its AbortSignal after the whole message was handed to the server, before it confirmed: it may or may not have been delivered. Check the recipient's mailbox or your Sent folder by messageId before sending again.",
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
});

let hints: HintTable | undefined;

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
  const table = (hints ??= hintTable());
  const entry = table[key] ?? table[key.split(':')[0] as ErrorCode] ?? table.UNKNOWN;
  return entry[locale] ?? entry.en;
}

/** Every hint key that exists, for tests and docs. */
export function hintKeys(): HintKey[] {
  return Object.keys((hints ??= hintTable())) as HintKey[];
}
