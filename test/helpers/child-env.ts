/** What a test's child process (see child-run.ts) reads from the environment its parent set. */
export function need(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

/** The oauth2 credentials and token endpoint the parent passed (CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, TOKEN_URL). */
export function oauth2FromEnv() {
  return {
    strategy: 'oauth2' as const,
    user: 'me@gmail.com',
    clientId: need('CLIENT_ID'),
    clientSecret: need('CLIENT_SECRET'),
    refreshToken: need('REFRESH_TOKEN'),
    endpoints: { token: need('TOKEN_URL') },
  };
}

/** The `smtp` override for the parent's implicit-TLS server (SMTP_PORT, SMTP_CA). */
export function localSmtpFromEnv() {
  return { host: '127.0.0.1', port: Number(need('SMTP_PORT')), secure: true, tls: { ca: [need('SMTP_CA')] } };
}
