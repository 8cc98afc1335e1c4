import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the secret is `whsec_` + base64
 * of the key bytes; the signature `v1,` + base64 HMAC-SHA256 over `${id}.${timestamp}.${body}`
 * with the decoded key. Receivers verify with the `standardwebhooks` library or a port of it.
 */
export const SECRET_PREFIX = 'whsec_';
/** 16 to 64 key bytes: at least 128 bits, at most an HMAC-SHA256 block. */
export const SECRET_PATTERN = /^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MIN_KEY_BYTES = 16;
const MAX_KEY_BYTES = 64;

/** Why a given secret cannot be used, or undefined. */
export function secretProblem(secret: string): string | undefined {
  if (!SECRET_PATTERN.test(secret)) return 'must be whsec_ followed by standard base64';
  const bytes = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64').length;
  if (bytes < MIN_KEY_BYTES || bytes > MAX_KEY_BYTES) {
    return `must encode ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes (it has ${bytes})`;
  }
  return undefined;
}

/** A new secret: 24 random bytes (as the Standard Webhooks reference implementations generate). */
export const generateSecret = () => SECRET_PREFIX + randomBytes(24).toString('base64');

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
}

/** The three headers of one attempt: the id is the event's (the same on every retry), the time is now. */
export function signatureHeaders(secret: string, id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign(secret, id, timestamp, body),
  };
}
