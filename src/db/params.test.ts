import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Params } from './params.ts';

describe('Params', () => {
  it('numbers values in order and writes only the conditions present', () => {
    const p = new Params('user');
    p.where('ended', () => `status = ${p.add('ended')}`)
      .where(null, () => `call_type = ${p.add('x')}`)
      .where({ c: 't', i: 'id' }, () => `(created_at, id) < (${p.add('t')}, ${p.add('id')})`);
    const limit = p.add(21);
    assert.equal(p.and(), ' AND status = $2 AND (created_at, id) < ($3, $4)');
    assert.equal(limit, '$5');
    assert.deepEqual(p.values, ['user', 'ended', 't', 'id', 21]);
  });

  it('writes nothing when no filter is present', () => {
    const p = new Params(1);
    p.where(undefined, () => 'x').where(false, () => 'y');
    assert.equal(p.and(), '');
    assert.deepEqual(p.values, [1]);
  });
});
