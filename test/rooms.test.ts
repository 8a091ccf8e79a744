// Rooms and join tokens with LiveKit not configured (the embedded default): rooms are
// records only, tokens are still minted and verifiable with the configured key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenVerifier } from 'livekit-server-sdk';
import { startTestApp, type TestApp } from './helpers/app.ts';

describe('rooms and tokens without LiveKit', () => {
  let t: TestApp;
  const req = async (user: string, method: string, url: string, payload?: unknown) => {
    const res = await t.app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: await t.auth(user),
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  };
  const verify = (token: string) => new TokenVerifier(t.config.livekit.apiKey, t.config.livekit.apiSecret).verify(token);

  before(async () => {
    t = await startTestApp();
    for (const u of ['alice', 'bob', 'carol', 'dave']) assert.equal((await req(u, 'GET', '/users/me')).status, 200);
  });
  after(() => t?.close());

  it('reports LiveKit as not configured', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readiness' });
    assert.equal(res.json().checks.livekit.status, 'not_configured');
  });

  it('creates a room record and reads it by call_id and room_name', async () => {
    const created = await req('alice', 'POST', '/rooms', { name: 'Standup', metadata: { topic: 'daily' } });
    assert.equal(created.status, 201);
    const room = created.body;
    assert.equal(room.status, 'waiting');
    assert.equal(room.privacy, 'private');
    assert.equal(room.call_type, 'group');
    assert.equal(room.max_participants, 50);
    assert.equal(room.participant_count, 0);
    assert.equal(room.room_id, null);
    assert.equal(room.created_by, t.userId('alice'));
    assert.deepEqual(room.metadata, { topic: 'daily' });
    assert.match(room.room_name, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual((await req('alice', 'GET', `/rooms/${room.call_id}`)).body, room);
    assert.deepEqual((await req('alice', 'GET', `/rooms/${room.room_name}`)).body, room);
    assert.equal((await req('bob', 'GET', `/rooms/${room.call_id}`)).status, 404);
    assert.equal((await req('bob', 'GET', `/rooms/${room.room_name}`)).status, 404);
    assert.equal((await req('bob', 'POST', `/rooms/${room.call_id}/token`, {})).status, 404);
  });

  it('validates input', async () => {
    assert.equal((await req('alice', 'POST', '/rooms', {})).status, 400);
    assert.equal((await req('alice', 'POST', '/rooms', { name: '' })).status, 400);
    assert.equal((await req('alice', 'POST', '/rooms', { name: 'x', max_participants: 0 })).status, 400);
    assert.equal((await req('alice', 'POST', '/rooms', { name: 'x', call_type: 'one_to_one', max_participants: 3 })).status, 400);
    assert.equal((await req('alice', 'POST', '/rooms', { name: 'x', metadata: { big: 'a'.repeat(17_000) } })).status, 400);
    assert.equal((await req('alice', 'POST', '/rooms', { name: 'x', invitees: ['not-an-id'] })).status, 400);
    const one = await req('alice', 'POST', '/rooms', { name: 'x', call_type: 'one_to_one' });
    assert.equal(one.body.max_participants, 2);
    assert.equal((await req('alice', 'GET', '/rooms/not-a-room')).status, 404);
  });

  it('public rooms are visible to any signed-in user; private ones to invitees', async () => {
    const pub = (await req('alice', 'POST', '/rooms', { name: 'Open', privacy: 'public' })).body;
    assert.equal((await req('carol', 'GET', `/rooms/${pub.call_id}`)).status, 200);
    const priv = (await req('alice', 'POST', '/rooms', { name: 'Private', invitees: ['@bob.aura', t.userId('dave')] }))
      .body;
    assert.equal((await req('bob', 'GET', `/rooms/${priv.call_id}`)).status, 200);
    assert.equal((await req('dave', 'GET', `/rooms/${priv.room_name}`)).status, 200);
    assert.equal((await req('carol', 'GET', `/rooms/${priv.call_id}`)).status, 404);
    const bobs = (await req('bob', 'GET', '/rooms')).body.rooms.map((r: { call_id: string }) => r.call_id);
    assert.ok(bobs.includes(priv.call_id));
    assert.ok(!bobs.includes(pub.call_id), 'a public room is not in the list of someone unrelated to it');
  });

  it('refuses unknown invitees (404) and invitees who blocked the creator (403)', async () => {
    const unknown = await req('alice', 'POST', '/rooms', { name: 'x', invitees: ['@nobody.aura'] });
    assert.equal(unknown.status, 404);
    await t.ctx.db.privileged((sql) =>
      sql.query('INSERT INTO contacts (user_id, contact_user_id, is_blocked) VALUES ($1, $2, true)', [
        t.userId('carol'),
        t.userId('alice'),
      ]),
    );
    const blocked = await req('alice', 'POST', '/rooms', { name: 'x', invitees: ['@carol.aura'] });
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body.error.code, 'FORBIDDEN');
  });

  it('mints tokens with grants by role', async () => {
    const room = (await req('alice', 'POST', '/rooms', { name: 'Tokens', invitees: ['@bob.aura', '@dave.aura'] })).body;
    const host = await req('alice', 'POST', `/rooms/${room.call_id}/token`, {});
    assert.equal(host.status, 200);
    assert.equal(host.body.role, 'host');
    assert.equal(host.body.identity, t.userId('alice'));
    assert.equal(host.body.display_name, 'Alice');
    assert.equal(host.body.room_name, room.room_name);
    assert.equal(host.body.ws_url, null);
    const hostClaims = await verify(host.body.token);
    assert.equal(hostClaims.sub, t.userId('alice'));
    assert.equal(hostClaims.name, 'Alice');
    assert.equal(hostClaims.video?.room, room.room_name);
    assert.equal(hostClaims.video?.roomAdmin, true);
    assert.equal(hostClaims.video?.canPublish, true);
    const ttl = (hostClaims.exp ?? 0) - Math.floor(Date.now() / 1000);
    assert.ok(ttl > 0 && ttl <= t.config.livekit.tokenTtlSeconds, `ttl ${ttl}`);

    const again = await req('alice', 'POST', `/rooms/${room.call_id}/token`, { display_name: 'Al' });
    assert.equal(again.body.participant_id, host.body.participant_id, 'an untaken seat is reused');

    const bob = await req('bob', 'POST', `/rooms/${room.room_name}/token`, { metadata: { hand: 'raised' } });
    assert.equal(bob.body.role, 'participant');
    const bobClaims = await verify(bob.body.token);
    assert.equal(bobClaims.video?.roomAdmin, false);
    assert.equal(bobClaims.video?.canPublish, true);
    assert.equal(bobClaims.metadata, JSON.stringify({ hand: 'raised' }));

    const viewer = await req('dave', 'POST', `/rooms/${room.call_id}/token`, { role: 'viewer' });
    const viewerClaims = await verify(viewer.body.token);
    assert.equal(viewerClaims.video?.canPublish, false);
    assert.equal(viewerClaims.video?.canSubscribe, true);
    assert.equal(viewerClaims.video?.canPublishData, true);

    for (const role of ['host', 'moderator']) {
      const r = await req('bob', 'POST', `/rooms/${room.call_id}/token`, { role });
      assert.equal(r.status, 403, role);
      assert.equal(r.body.error.code, 'FORBIDDEN');
    }
    const mod = await req('alice', 'POST', `/rooms/${room.call_id}/token`, { role: 'moderator' });
    assert.equal((await verify(mod.body.token)).video?.roomAdmin, true);
    assert.equal((await req('bob', 'POST', `/rooms/${room.call_id}/token`, { role: 'king' })).status, 400);

    const noBody = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room.call_id}/token`,
      headers: await t.auth('bob'),
    });
    assert.equal(noBody.statusCode, 200);
  });

  it('concurrent grants for one identity share one seat; other identities get their own', async () => {
    const room = (await req('alice', 'POST', '/rooms', { name: 'Rush', privacy: 'public' })).body;
    const grants = await Promise.all([
      ...Array.from({ length: 8 }, () => req('bob', 'POST', `/rooms/${room.call_id}/token`, {})),
      ...Array.from({ length: 4 }, () => req('carol', 'POST', `/rooms/${room.call_id}/token`, {})),
    ]);
    assert.deepEqual(grants.map((g) => g.status), Array(12).fill(200));
    const seatsOf = (name: string) => new Set(grants.filter((g) => g.body.identity === t.userId(name)).map((g) => g.body.participant_id));
    assert.equal(seatsOf('bob').size, 1);
    assert.equal(seatsOf('carol').size, 1);
    const { rows } = await t.database.db.privileged((sql) =>
      sql.query(`SELECT identity, count(*)::int AS n FROM call_participants WHERE call_id = $1 GROUP BY identity ORDER BY identity`, [room.call_id]),
    );
    assert.deepEqual(rows.map((r) => r.n), [1, 1]);
  });

  it('answers ROOM_FULL when max_participants others are connected', async () => {
    const room = (await req('alice', 'POST', '/rooms', { name: 'Small', max_participants: 1, privacy: 'public' })).body;
    const seat = await req('alice', 'POST', `/rooms/${room.call_id}/token`, {});
    await t.ctx.db.privileged((sql) =>
      sql.query(`UPDATE call_participants SET status = 'connected', participant_sid = 'PA_x', joined_at = now()
                  WHERE participant_id = $1`, [seat.body.participant_id]),
    );
    assert.equal((await req('alice', 'GET', `/rooms/${room.call_id}`)).body.participant_count, 1);
    const full = await req('bob', 'POST', `/rooms/${room.call_id}/token`, {});
    assert.equal(full.status, 403);
    assert.equal(full.body.error.code, 'ROOM_FULL');
    // The one connected may take a new token (a reconnect replaces the session).
    assert.equal((await req('alice', 'POST', `/rooms/${room.call_id}/token`, {})).status, 200);
  });

  it('only the creator closes a room; an ended call refuses tokens and stays in history', async () => {
    const room = (await req('alice', 'POST', '/rooms', { name: 'Close me', invitees: ['@bob.aura'] })).body;
    assert.equal((await req('bob', 'DELETE', `/rooms/${room.call_id}`)).status, 403);
    assert.equal((await req('carol', 'DELETE', `/rooms/${room.call_id}`)).status, 404);
    assert.equal((await req('alice', 'DELETE', `/rooms/${room.call_id}`)).status, 204);
    const ended = (await req('alice', 'GET', `/rooms/${room.call_id}`)).body;
    assert.equal(ended.status, 'ended');
    const token = await req('bob', 'POST', `/rooms/${room.call_id}/token`, {});
    assert.equal(token.status, 409);
    assert.equal(token.body.error.code, 'CALL_ENDED');
    assert.equal((await req('alice', 'DELETE', `/rooms/${room.call_id}`)).status, 204, 'closing twice is harmless');
    const list = (await req('alice', 'GET', '/rooms?status=ended')).body.rooms;
    assert.ok(list.some((r: { call_id: string }) => r.call_id === room.call_id));
    const open = (await req('alice', 'GET', '/rooms?status=waiting')).body.rooms;
    assert.ok(!open.some((r: { call_id: string }) => r.call_id === room.call_id));
  });

  it('pages through rooms with a stable keyset cursor', async () => {
    for (let i = 0; i < 5; i++) await req('dave', 'POST', '/rooms', { name: `Page ${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { body: { rooms: Array<{ call_id: string; name: string }>; next_cursor: string | null } } = await req(
        'dave',
        'GET',
        `/rooms?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...r.body.rooms.map((x) => x.name));
      cursor = r.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen.filter((n) => n.startsWith('Page')), ['Page 4', 'Page 3', 'Page 2', 'Page 1', 'Page 0']);
    assert.equal((await req('dave', 'GET', '/rooms?cursor=garbage')).status, 400);
  });
});
