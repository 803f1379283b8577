/** The errno code of a failed file read, for messages that must not quote anything else. */
export function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'read error';
}
