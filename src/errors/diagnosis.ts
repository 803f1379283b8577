import { isGmailTransportError, type GmailTransportError } from './error.js';

/** A failure as a program reports it (the CLI, the bridge console): a library error's public fields, or a program's own outcome. */
export interface Diagnosis {
  code: string;
  message: string;
  hint?: string;
  [field: string]: unknown;
}

/** The printable form of any failure; a GmailTransportError keeps its public fields, no cause. */
export function diagnosisOf(err: unknown): Diagnosis {
  if (isGmailTransportError(err)) return (err as GmailTransportError).toJSON() as Diagnosis;
  return {
    code: 'UNKNOWN',
    message: 'Unexpected error',
    hint: 'Run again; if it keeps happening, please report it with the command you ran (not its secrets).',
  };
}
