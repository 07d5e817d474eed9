/**
 * Session ids and their signed cookie form.
 *
 * An id is 144 random bits from the CSPRNG (OWASP asks for at least 64 bits
 * of entropy; 128+ leaves no doubt), base64url without padding: 24 characters,
 * safe in cookies and URLs. The cookie value is `id.mac`, mac being
 * HMAC-SHA256(secret, id) in base64url, as cookie-signature does, so a
 * client cannot forge an id and a store lookup only happens for ids we issued.
 *
 * Secrets rotate: the first one signs, every one in the list verifies, so a
 * new secret can be rolled out before the old one is dropped.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ShoalError } from '../errors.js';

export const SESSION_ID_BYTES = 18;
export const MIN_SECRET_LENGTH = 32;

// 16 bytes at least (128 bits); up to 64 so a future longer id still verifies.
const ID_RE = /^[A-Za-z0-9_-]{22,86}$/;
// A SHA-256 MAC is 32 bytes: 43 base64url characters. Checking the text
// (not only the decoded bytes) refuses the non-canonical spellings that
// Buffer.from(…, 'base64url') would silently accept.
const MAC_RE = /^[A-Za-z0-9_-]{43}$/;

export const newSessionId = (): string => randomBytes(SESSION_ID_BYTES).toString('base64url');

export const isSessionId = (id: string): boolean => ID_RE.test(id);

/** Throws SHOAL_ERR_SESSION_SECRET unless `secrets` is a non-empty list of strings of at least MIN_SECRET_LENGTH characters. */
export function validateSecrets(secrets: readonly unknown[]): readonly string[] {
  if (!Array.isArray(secrets) || secrets.length === 0) throw new ShoalError('SHOAL_ERR_SESSION_SECRET', 'no secret given');
  secrets.forEach((s, i) => {
    const where = secrets.length > 1 ? ` (secret #${i + 1})` : '';
    if (typeof s !== 'string') throw new ShoalError('SHOAL_ERR_SESSION_SECRET', `expected a string, got ${typeof s}${where}`);
    if (s.length < MIN_SECRET_LENGTH) {
      throw new ShoalError('SHOAL_ERR_SESSION_SECRET', `it has ${s.length} characters, fewer than ${MIN_SECRET_LENGTH}${where}`);
    }
  });
  return secrets as readonly string[];
}

const mac = (id: string, secret: string): string => createHmac('sha256', secret).update(id).digest('base64url');

/** The cookie value for `id`: `id.mac`. */
export function sign(id: string, secret: string): string {
  validateSecrets([secret]);
  if (!isSessionId(id)) throw new RangeError('not a session id (expected base64url from newSessionId())');
  return `${id}.${mac(id, secret)}`;
}

/**
 * The id in a cookie value if one of `secrets` signed it; undefined when the
 * value is missing, malformed or forged (never an exception for bad input:
 * it comes from clients). Throws only for invalid secrets, a configuration bug.
 */
export function unsign(value: string | undefined | null, secrets: readonly string[]): string | undefined {
  validateSecrets(secrets);
  if (typeof value !== 'string') return undefined;
  const dot = value.indexOf('.');
  if (dot < 0) return undefined;
  const id = value.slice(0, dot);
  const given = value.slice(dot + 1);
  if (!isSessionId(id) || !MAC_RE.test(given)) return undefined;
  const givenBuf = Buffer.from(given);
  let ok = false;
  // Check every secret, not only until a match: the time taken then does
  // not tell which secret (or whether an old one) matched.
  for (const secret of secrets) {
    if (timingSafeEqual(Buffer.from(mac(id, secret)), givenBuf)) ok = true;
  }
  return ok ? id : undefined;
}

/** For logs: enough of the id to correlate lines, never enough to hijack the session. */
export function redactId(id: string): string {
  return id.length <= 6 ? '…' : `${id.slice(0, 6)}…`;
}
