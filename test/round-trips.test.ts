// Round trips to PostgreSQL per request, counted on the wire (test/helpers/round-trips.ts):
// a read is one (BEGIN with the RLS scope, the statement and COMMIT written together),
// a token grant two. RLS itself is proven by test/rls.test.ts, which runs through the
// same transaction code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postgresAvailable } from './helpers/db.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { roundTrips } from './helpers/round-trips.ts';
import { deliver, eventJson, uid } from './helpers/webhooks.ts';
import { serviceSkip } from './helpers/services.ts';

const skip = await serviceSkip('PostgreSQL', await postgresAvailable(), 'TEST_DATABASE_URL');

describe('round trips to PostgreSQL per request', { skip }, () => {
  let t: TestApp;
  let callId: string;
  let roomName: string;
  before(async () => {
    t = await startTestApp({ engine: 'postgres', inProcess: 'counts the round trips of this process’s connections' });
    const auth = await t.auth('alice');
    for (const u of ['alice', 'bob']) await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: await t.auth(u) });
    const room = await t.app.inject({ method: 'POST', url: '/api/v1/rooms', headers: auth, payload: { name: 'Trips', invitees: [] } });
    assert.equal(room.statusCode, 201, room.body);
    callId = room.json().call_id;
    roomName = room.json().room_name;
    const bob = await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: await t.auth('bob') });
    await t.app.inject({ method: 'POST', url: '/api/v1/contacts', headers: auth, payload: { contact_user_id: bob.json().user_id } });
  });
  after(() => t?.close());

  const count = async (method: 'GET' | 'POST', url: string, payload?: object, status = 200) => {
    const headers = await t.auth('alice');
    let res: Awaited<ReturnType<TestApp['app']['inject']>> | undefined;
    const n = await roundTrips(async () => {
      res = await t.app.inject({ method, url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) });
    });
    assert.equal(res!.statusCode, status, res!.body);
    return n;
  };

  for (const [name, url] of [
    ['GET /users/me', '/users/me'],
    ['GET /calls (list)', '/calls?limit=20'],
    ['GET /contacts (list)', '/contacts'],
    ['GET /contacts?q= (search)', '/contacts?q=bob'],
  ] as const) {
    it(`${name}: one round trip`, async () => assert.equal(await count('GET', url), 1));
  }
  it('GET /calls/{id}: one round trip', async () => assert.equal(await count('GET', `/calls/${callId}`), 1));

  it('POST /rooms/{id}/token: two round trips, also for a second grant that reuses the seat', async () => {
    assert.equal(await count('POST', `/rooms/${callId}/token`, {}), 2);
    assert.equal(await count('POST', `/rooms/${callId}/token`, { display_name: 'Al' }), 2);
  });

  it('a LiveKit join of a new session: five round trips; its redelivery two', async () => {
    const body = eventJson({
      event: 'participant_joined', createdAt: Math.floor(Date.now() / 1000), room: { name: roomName, sid: uid('RM') },
      participant: { sid: uid('PA'), identity: uid('guest'), joinedAtMs: Date.now() },
    });
    const send = async (status: string) => {
      let res: Awaited<ReturnType<typeof deliver>> | undefined;
      const n = await roundTrips(async () => {
        res = await deliver(t, body);
      });
      assert.equal(res!.status, 200);
      assert.equal(res!.body.status, status);
      return n;
    };
    // The event's record with the call's lock and state, the session's candidates, its
    // insert with the call's start, the event for clients, COMMIT.
    assert.equal(await send('applied'), 5);
    assert.equal(await send('duplicate'), 2);
  });

  it('a refused grant costs its lookup and a ROLLBACK, and leaves the connection clean', async () => {
    const missing = '00000000-0000-4000-8000-00000000dead';
    assert.equal(await count('POST', `/rooms/${missing}/token`, {}, 404), 2);
    assert.equal(await count('POST', `/rooms/${callId}/token`, { role: 'admin' }, 400), 0);
    // The connection the refusal used is clean: the next read is still one trip.
    assert.equal(await count('GET', '/users/me'), 1);
  });
});
