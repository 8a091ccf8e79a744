import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, verifyPassword } from './password.ts';

describe('link passwords', () => {
  it('hashes with a random salt and verifies only the right password', async () => {
    const a = await hashPassword('open sesame');
    const b = await hashPassword('open sesame');
    assert.notEqual(a, b);
    assert.match(a, /^scrypt\$16384\$8\$1\$/);
    assert.ok(!a.includes('open sesame'));
    assert.equal(await verifyPassword('open sesame', a), true);
    assert.equal(await verifyPassword('open sesame!', a), false);
    assert.equal(await verifyPassword('x', 'plain'), false);
  });
});
