// The seat a token grant leaves behind: a grant that would write what the seat already
// holds writes nothing (same seat, same row version, still two round trips); any
// difference is written; fullness counts identities, not sessions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { roundTrips } from './helpers/round-trips.ts';

describe('token grants and their seat', () => {
  let t: TestApp;
  let callId: string;
  const grant = async (user: string, payload: object, key = callId) => {
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${key}/token`, headers: await t.auth(user), payload });
    return { status: res.statusCode, body: res.json() };
  };
  /** The seat's row as stored, with its row version (xmin changes with every write). */
  const seat = async (participantId: string) => {
    const { rows } = await t.ctx.db.privileged((sql) =>
      sql.query<{ version: string; display_name: string; role: string; metadata: unknown; status: string }>(
        `SELECT xmin::text AS version, display_name, role, metadata, status FROM call_participants WHERE participant_id = $1`,
        [participantId],
      ),
    );
    return rows[0]!;
  };
  const seats = async (identity: string) => {
    const { rows } = await t.ctx.db.privileged((sql) =>
      sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM call_participants WHERE call_id = $1 AND identity = $2`, [
        callId,
        identity,
      ]),
    );
    return rows[0]!.n;
  };

  before(async () => {
    t = await startTestApp();
    for (const u of ['alice', 'bob']) {
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: await t.auth(u) })).statusCode, 200);
    }
    const room = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms',
      headers: await t.auth('alice'),
      payload: { name: 'Seats', invitees: [t.userId('bob')] },
    });
    assert.equal(room.statusCode, 201, room.body);
    callId = room.json().call_id;
  });
  after(() => t?.close());

  it('a grant that changes nothing reuses the seat without writing it', async () => {
    const first = await grant('bob', {});
    assert.equal(first.status, 200);
    const id = first.body.participant_id;
    const stored = await seat(id);
    assert.equal(stored.display_name, first.body.display_name);
    assert.equal(stored.role, 'participant');

    const again = await grant('bob', {});
    assert.equal(again.status, 200);
    assert.equal(again.body.participant_id, id);
    assert.equal(again.body.display_name, first.body.display_name);
    assert.notEqual(again.body.token, '');
    assert.equal((await seat(id)).version, stored.version, 'no new row version');
    assert.equal(await seats(t.userId('bob')), 1);
  });

  it('a grant with another name, role or metadata writes it to the same seat', async () => {
    const id = (await grant('bob', {})).body.participant_id;
    let version = (await seat(id)).version;
    const steps: Array<[object, Partial<{ display_name: string; role: string; metadata: unknown }>]> = [
      [{ display_name: 'Bobby' }, { display_name: 'Bobby' }],
      [{ display_name: 'Bobby', role: 'viewer' }, { role: 'viewer' }],
      [{ display_name: 'Bobby', role: 'viewer', metadata: { hand: 'up' } }, { metadata: JSON.stringify({ hand: 'up' }) }],
      [{ display_name: 'Bobby', role: 'viewer', metadata: 'raw' }, { metadata: 'raw' }],
      [{ display_name: 'Bobby', role: 'viewer' }, { metadata: {} }],
    ];
    for (const [payload, want] of steps) {
      const res = await grant('bob', payload);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.participant_id, id);
      const stored = await seat(id);
      assert.notEqual(stored.version, version, `written: ${JSON.stringify(payload)}`);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(stored[k as keyof typeof stored], v, k);
      version = stored.version;
      // The same grant once more writes nothing.
      assert.equal((await grant('bob', payload)).body.participant_id, id);
      assert.equal((await seat(id)).version, version, `not written again: ${JSON.stringify(payload)}`);
    }
    assert.equal(await seats(t.userId('bob')), 1);
  });

  it('a grant that changes nothing is still two round trips (the second is COMMIT)', async (ctx) => {
    // Pipelining (and so the count) is PostgreSQL's; the embedded database is one backend
    // that takes one statement at a time. With CI=true PostgreSQL is there and this runs.
    if (t.database.engine !== 'postgres') return ctx.skip('needs PostgreSQL (pipelined connections); ran on PGlite');
    const headers = await t.auth('alice');
    // This process's app: the count is of this process's connections (and this app has
    // now seen alice, whose first request also writes her profile).
    const grantHere = () => t.local.inject({ method: 'POST', url: `/api/v1/rooms/${callId}/token`, headers, payload: {} });
    assert.equal((await grantHere()).statusCode, 200);
    let status = 0;
    const n = await roundTrips(async () => {
      status = (await grantHere()).statusCode;
    });
    assert.equal(status, 200);
    assert.equal(n, 2);
  });

  it('a taken seat is not reused: the next grant gets a new one', async () => {
    const id = (await grant('bob', {})).body.participant_id;
    await t.ctx.db.privileged((sql) =>
      sql.query(`UPDATE call_participants SET status = 'connected', participant_sid = 'PA_taken', joined_at = now() WHERE participant_id = $1`, [id]),
    );
    const next = await grant('bob', {});
    assert.equal(next.status, 200);
    assert.notEqual(next.body.participant_id, id);
    assert.equal((await seat(next.body.participant_id)).status, 'waiting');
  });

  it('a room is full by connected identities, not sessions', async () => {
    const room = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms',
      headers: await t.auth('alice'),
      payload: { name: 'Two seats', max_participants: 2, invitees: [t.userId('bob')] },
    });
    const small = room.json().call_id;
    // Alice connected twice (two sessions of one identity): two sessions, one identity.
    await t.ctx.db.privileged((sql) =>
      sql.query(
        `INSERT INTO call_participants (call_id, user_id, identity, participant_sid, status, joined_at)
         VALUES ($1, $2::uuid, $2::text, 'PA_a1', 'connected', now()), ($1, $2::uuid, $2::text, 'PA_a2', 'connected', now())`,
        [small, t.userId('alice')],
      ),
    );
    assert.equal((await grant('bob', {}, small)).status, 200, 'one identity of two is connected');
    await t.ctx.db.privileged((sql) =>
      sql.query(
        `INSERT INTO call_participants (call_id, user_id, identity, participant_sid, status, joined_at)
         VALUES ($1, NULL, 'guest-x', 'PA_g', 'connected', now())`,
        [small],
      ),
    );
    const full = await grant('bob', {}, small);
    assert.equal(full.status, 403);
    assert.equal(full.body.error.code, 'ROOM_FULL');
  });
});
