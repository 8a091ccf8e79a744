import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '@auralink/client';
import { classifyJoinError, formatWait } from './guest.ts';

const err = (status: number, code: string, message: string, details?: unknown) => new ApiError(status, code, message, 'req-1', details);

describe('classifyJoinError', () => {
  it('tells a wrong password, a missing one, and the wait after too many attempts', () => {
    assert.equal(classifyJoinError(err(403, 'INVALID_PASSWORD', 'Wrong password')).kind, 'wrong_password');
    assert.equal(
      (classifyJoinError(err(403, 'INVALID_PASSWORD', 'This link needs a password')) as { message: string }).message,
      'This link needs a password',
    );
    const limited = classifyJoinError(err(429, 'RATE_LIMITED', 'Too many requests', { retry_after_seconds: 95 }));
    assert.deepEqual(limited, { kind: 'too_many_attempts', retryAfter: 95, message: 'Too many attempts. Try again in 1 min 35 s.' });
  });

  it('tells a gone link from an expired waiting-room request and an unknown link', () => {
    assert.match((classifyJoinError(err(410, 'LINK_GONE', 'x', { reason: 'expired' })) as { message: string }).message, /expired, been used up/);
    assert.match((classifyJoinError(err(410, 'LINK_GONE', 'x', { reason: 'request_expired' })) as { message: string }).message, /request to join expired/);
    assert.equal(classifyJoinError(err(404, 'NOT_FOUND', 'x')).kind, 'not_found');
    assert.equal(classifyJoinError(new TypeError('fetch failed')).kind, 'other');
  });

  it('formats waits', () => {
    assert.equal(formatWait(5), '5 s');
    assert.equal(formatWait(120), '2 min');
  });
});
