// HMAC-signed download URLs for the disk backend: the signature is the only
// credential of the download route, so it binds purpose, file id and expiry, and
// is checked in one function with a constant-time comparison.
import crypto from 'node:crypto';

const PURPOSE = 'auralink-file-download:v1';

function mac(secret: string, fileId: string, expires: number): Buffer {
  return crypto.createHmac('sha256', secret).update(`${PURPOSE}\n${fileId}\n${expires}`).digest();
}

export function signDownload(secret: string, fileId: string, expires: number): string {
  return mac(secret, fileId, expires).toString('base64url');
}

export function downloadUrl(baseUrl: string, secret: string, fileId: string, expiresInSeconds: number, now = Date.now()) {
  const expires = Math.floor(now / 1000) + expiresInSeconds;
  const sig = signDownload(secret, fileId, expires);
  return `${baseUrl}/api/v1/files/${encodeURIComponent(fileId)}/content?expires=${expires}&sig=${sig}`;
}

export type Verdict = 'ok' | 'invalid' | 'expired';

/** The one place a download signature is verified. Expiry is checked after the MAC, so it cannot be forged. */
export function verifyDownload(
  secret: string,
  fileId: string,
  expiresRaw: unknown,
  sigRaw: unknown,
  now = Date.now(),
): Verdict {
  if (typeof expiresRaw !== 'string' || !/^\d{1,12}$/.test(expiresRaw)) return 'invalid';
  if (typeof sigRaw !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(sigRaw)) return 'invalid';
  const expires = Number(expiresRaw);
  // Compare the encoded text, not decoded bytes: the last base64 character carries
  // spare bits, so several spellings decode to the same MAC.
  const expected = Buffer.from(mac(secret, fileId, expires).toString('base64url'));
  const given = Buffer.from(sigRaw);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return 'invalid';
  return expires * 1000 > now ? 'ok' : 'expired';
}
