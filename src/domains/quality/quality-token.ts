// The quality token: how a guest (who has no user and so no Bearer token) reports the
// quality of its own connection. Handed out with every join token. It is narrow: one
// purpose, one call, one seat, a few hours; an HMAC with URL_SIGNING_SECRET over the
// purpose, the call, the seat and the expiry, checked in one function with a
// constant-time comparison. The call is not in the token: it comes from the URL and
// is bound by the MAC, so a token presented for another call simply does not verify.
import crypto from 'node:crypto';

const PURPOSE = 'auralink-quality-report:v1';
/** Long enough for a long call; a seat's samples after that come from a new join. */
export const QUALITY_TOKEN_TTL_SECONDS = 8 * 3600;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const SHAPE = new RegExp(`^(${UUID})\\.(\\d{1,12})\\.([A-Za-z0-9_-]{43})$`);

function mac(secret: string, callId: string, participantId: string, expires: number): string {
  return crypto
    .createHmac('sha256', secret)
    .update(`${PURPOSE}\n${callId.toLowerCase()}\n${participantId}\n${expires}`)
    .digest('base64url');
}

/** `<participant_id>.<expires, unix seconds>.<mac>` for this seat of this call. */
export function signQualityToken(
  secret: string,
  callId: string,
  participantId: string,
  ttlSeconds = QUALITY_TOKEN_TTL_SECONDS,
  now = Date.now(),
): string {
  const expires = Math.floor(now / 1000) + ttlSeconds;
  const pid = participantId.toLowerCase();
  return `${pid}.${expires}.${mac(secret, callId, pid, expires)}`;
}

export type QualityGrant = { ok: true; participantId: string } | { ok: false; reason: 'invalid' | 'expired' };

/**
 * The one place a quality token is verified, for the call named in the request's URL.
 * Expiry is checked after the MAC, so it cannot be forged.
 */
export function verifyQualityToken(secret: string, callId: string, token: unknown, now = Date.now()): QualityGrant {
  if (typeof token !== 'string' || token.length > 200) return { ok: false, reason: 'invalid' };
  const m = SHAPE.exec(token);
  if (!m) return { ok: false, reason: 'invalid' };
  const [, participantId, expiresText, sig] = m as unknown as [string, string, string, string];
  const expires = Number(expiresText);
  const expected = Buffer.from(mac(secret, callId, participantId, expires));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
  if (expires * 1000 <= now) return { ok: false, reason: 'expired' };
  return { ok: true, participantId };
}
