import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toAppError } from '../http/error-handler.ts';
import { isTransientConflict, retryOnConflict } from './retry.ts';

const pgError = (code: string) => Object.assign(new Error(code), { code });

describe('retryOnConflict', () => {
  it('runs a deadlock or serialization victim once more, and only once', async () => {
    for (const code of ['40P01', '40001']) {
      let runs = 0;
      assert.equal(await retryOnConflict(async () => (++runs === 1 ? Promise.reject(pgError(code)) : 'done')), 'done');
      assert.equal(runs, 2);
      runs = 0;
      await assert.rejects(retryOnConflict(async () => Promise.reject(pgError(code)).finally(() => runs++)), { code });
      assert.equal(runs, 2, 'a second failure is thrown');
    }
  });

  it('does not repeat other failures', async () => {
    let runs = 0;
    await assert.rejects(retryOnConflict(async () => Promise.reject(pgError('23505')).finally(() => runs++)), { code: '23505' });
    assert.equal(runs, 1);
    assert.equal(isTransientConflict(null), false);
    assert.equal(isTransientConflict('40P01'), false);
  });

  it('a victim that is not retried is 503 with Retry-After, not 500', () => {
    for (const code of ['40P01', '40001']) {
      const e = toAppError(pgError(code));
      assert.equal(e?.status, 503);
      assert.equal(e?.code, 'UPSTREAM_UNAVAILABLE');
      assert.deepEqual(e?.headers, { 'retry-after': '1' });
    }
  });
});
