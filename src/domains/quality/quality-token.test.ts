import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signQualityToken, verifyQualityToken } from './quality-token.ts';

const SECRET = 'a-test-secret-of-enough-length-0123456789';
const CALL = '6f1c2a3e-8a7b-4c1d-9e2f-0a1b2c3d4e5f';
const SEAT = '0b7e4c1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d';
const NOW = Date.UTC(2025, 0, 1);

describe('quality token', () => {
  it('verifies for its call and seat until it expires', () => {
    const token = signQualityToken(SECRET, CALL, SEAT, 3600, NOW);
    assert.deepEqual(verifyQualityToken(SECRET, CALL, token, NOW + 3_599_000), { ok: true, participantId: SEAT });
    assert.deepEqual(verifyQualityToken(SECRET, CALL.toUpperCase(), token, NOW), { ok: true, participantId: SEAT });
    assert.deepEqual(verifyQualityToken(SECRET, CALL, token, NOW + 3_600_000), { ok: false, reason: 'expired' });
  });

  it('is bound to the call, the seat, the expiry and the secret', () => {
    const token = signQualityToken(SECRET, CALL, SEAT, 3600, NOW);
    const [, exp, sig] = token.split('.');
    const otherCall = CALL.replace('6f1c', '6f1d');
    const otherSeat = SEAT.replace('0b7e', '0b7f');
    for (const [what, secret, call, t] of [
      ['another call', SECRET, otherCall, token],
      ['another seat', SECRET, CALL, `${otherSeat}.${exp}.${sig}`],
      ['a later expiry', SECRET, CALL, `${SEAT}.${Number(exp) + 1}.${sig}`],
      ['another secret', `${SECRET}!`, CALL, token],
      ['no signature', SECRET, CALL, `${SEAT}.${exp}.`],
      ['not a string', SECRET, CALL, 42],
    ] as const) {
      assert.deepEqual(verifyQualityToken(secret, call, t, NOW), { ok: false, reason: 'invalid' }, what);
    }
  });
});
