import { isGmailTransportError, type GmailTransportError } from '../../src/index.js';

/** The GmailTransportError a send rejected with; throws when it resolved or rejected with anything else. */
export async function sendFailure(promise: Promise<unknown>): Promise<GmailTransportError> {
  try {
    await promise;
  } catch (err) {
    if (isGmailTransportError(err)) return err;
    throw err;
  }
  throw new Error('expected the send to fail');
}
