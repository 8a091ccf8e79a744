import assert from 'node:assert/strict';
import { test } from 'node:test';
import { downloadUrl, signDownload, verifyDownload } from './url-signing.ts';

const SECRET = 'x'.repeat(40);
const FILE = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

test('a fresh URL verifies; the signature binds file id and expiry', () => {
  const now = 1_700_000_000_000;
  const u = new URL(downloadUrl('https://api.example', SECRET, FILE, 60, now));
  assert.equal(u.pathname, `/api/v1/files/${FILE}/content`);
  const expires = u.searchParams.get('expires')!;
  const sig = u.searchParams.get('sig')!;
  assert.equal(expires, String(now / 1000 + 60));
  assert.equal(verifyDownload(SECRET, FILE, expires, sig, now), 'ok');
  assert.equal(verifyDownload(SECRET, OTHER, expires, sig, now), 'invalid');
  assert.equal(verifyDownload(SECRET, FILE, String(Number(expires) + 3600), sig, now), 'invalid');
  assert.equal(verifyDownload('y'.repeat(40), FILE, expires, sig, now), 'invalid');
});

test('expired only after a valid MAC; malformed input is invalid', () => {
  const expires = 1000;
  const sig = signDownload(SECRET, FILE, expires);
  assert.equal(verifyDownload(SECRET, FILE, '1000', sig, 1_000_001), 'expired');
  assert.equal(verifyDownload(SECRET, FILE, '1000', sig, 999_999), 'ok');
  const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  assert.equal(verifyDownload(SECRET, FILE, '1000', flipped, 0), 'invalid');
  // The last character holds 2 spare bits: a different spelling of the same bytes is still refused.
  const last = sig.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const twin = sig.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
  assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(sig, 'base64url'));
  assert.equal(verifyDownload(SECRET, FILE, '1000', twin, 0), 'invalid');
  for (const [e, s] of [[undefined, sig], ['1000', undefined], ['-1', sig], ['1e3', sig], ['1000', `${sig}=`], [['1000'], sig]]) {
    assert.equal(verifyDownload(SECRET, FILE, e, s, 0), 'invalid');
  }
});
