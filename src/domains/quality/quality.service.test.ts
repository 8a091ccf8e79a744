import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseBucket } from './quality.service.ts';

describe('series bucket choice', () => {
  it('keeps a plot to about 120 points', () => {
    assert.equal(chooseBucket(0), 10);
    assert.equal(chooseBucket(20 * 60_000), 10);
    assert.equal(chooseBucket(21 * 60_000), 30);
    assert.equal(chooseBucket(2 * 3_600_000), 60);
    assert.equal(chooseBucket(7 * 86_400_000), 21_600);
    assert.equal(chooseBucket(100 * 86_400_000), 86_400);
    assert.equal(chooseBucket(1000 * 86_400_000), 9 * 86_400);
  });
});
