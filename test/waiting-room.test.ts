import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenVerifier } from 'livekit-server-sdk';
import { startTestApp, type TestApp } from './helpers/app.ts';

describe('waiting room', () => {
  let t: TestApp;
  let room: { call_id: string; room_name: string };
  let code: string;

  async function req(name: string | null, method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) {
    const res = await t.app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { ...(name ? await t.auth(name) : {}), ...headers },
      payload: payload as object,
    });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  }
  const ask = (who: string | null, name: string, c = code) => req(who, 'POST', `/join/${c}`, { display_name: name });
  const poll = (id: string, secret?: string, c = code) =>
    req(null, 'GET', `/join/${c}/requests/${id}`, undefined, secret ? { 'x-request-secret': secret } : {});
  const decide = (who: string | null, id: string, action: 'approve' | 'deny', roomKey = room.call_id) =>
    req(who, 'POST', `/rooms/${roomKey}/join-requests/${id}/${action}`);
  const sql = (text: string, params: unknown[] = []) => t.ctx.db.privileged(async (s) => (await s.query(text, params)).rows);

  before(async () => {
    t = await startTestApp();
    for (const n of ['alice', 'bob', 'carol']) await req(n, 'GET', '/users/me');
    room = (await req('alice', 'POST', '/rooms', { name: 'Lobby', invitees: ['@bob.aura'] })).body;
    code = (await req('alice', 'POST', '/links', { call_id: room.call_id, require_approval: true, default_role: 'viewer' }))
      .body.short_code;
  });
  after(() => t.close());

  it('a join becomes a pending request, announced to the creator only', async () => {
    const res = await ask(null, 'Guest Gwen');
    assert.equal(res.status, 202);
    assert.equal(res.body.status, 'pending');
    assert.match(res.body.request_id, /^[0-9a-f-]{36}$/);
    assert.ok(res.body.request_secret.length >= 32);
    const seen = (who: string) =>
      t.ctx.db.asUser(t.userId(who), async (s) =>
        (await s.query(`SELECT payload FROM call_events WHERE type = 'join_request.created'`)).rows,
      );
    const forAlice = await seen('alice');
    assert.equal(forAlice.length, 1);
    assert.equal(forAlice[0].payload.request_id, res.body.request_id);
    assert.equal(forAlice[0].payload.display_name, 'Guest Gwen');
    assert.deepEqual(await seen('bob'), [], 'other members do not see it');
    assert.equal((await sql('SELECT count(*)::int AS n FROM call_participants WHERE call_id = $1', [room.call_id]))[0].n, 0);
  });

  it('full flow: list, approve, poll gets the token exactly once', async () => {
    const { body: r } = await ask(null, 'Guest Gina');
    // A leaked request id alone gets nothing.
    assert.equal((await poll(r.request_id)).status, 404);
    assert.equal((await poll(r.request_id, 'x'.repeat(32))).status, 404);
    assert.equal((await poll(r.request_id, r.request_secret, 'AAAAAAAAAAAA')).status, 404, 'another link');
    const pending = await poll(r.request_id, r.request_secret);
    assert.equal(pending.status, 200);
    assert.equal(pending.body.status, 'pending');
    assert.equal(pending.body.token, undefined);

    const list = await req('alice', 'GET', `/rooms/${room.room_name}/join-requests`);
    assert.equal(list.status, 200);
    assert.ok(list.body.join_requests.some((j: { request_id: string }) => j.request_id === r.request_id));

    const ok = await decide('alice', r.request_id, 'approve', room.room_name);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.status, 'approved');
    assert.equal((await decide('alice', r.request_id, 'deny')).status, 409, 'decided once');

    const got = await req(null, 'GET', `/join/${code}/requests/${r.request_id}?secret=${r.request_secret}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.status, 'approved');
    assert.equal(got.body.role, 'viewer');
    assert.equal(got.body.display_name, 'Guest Gina');
    assert.match(got.body.identity, /^guest-/);
    const claims = await new TokenVerifier(t.config.livekit.apiKey, t.config.livekit.apiSecret).verify(got.body.token);
    assert.equal(claims.video?.room, room.room_name);
    assert.equal(claims.video?.canPublish, false);
    const [p] = await sql('SELECT identity FROM call_participants WHERE participant_id = $1', [got.body.participant_id]);
    assert.equal(p.identity, got.body.identity);

    const again = await poll(r.request_id, r.request_secret);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'approved');
    assert.equal(again.body.token, undefined, 'the token is handed out once');
    assert.ok(again.body.token_issued_at);
  });

  it('concurrent polls after approval: one token', async () => {
    const { body: r } = await ask(null, 'Racer');
    await decide('alice', r.request_id, 'approve');
    const polls = await Promise.all(Array.from({ length: 6 }, () => poll(r.request_id, r.request_secret)));
    assert.ok(polls.every((p) => p.status === 200));
    assert.equal(polls.filter((p) => p.body.token).length, 1);
  });

  it('deny: the requester learns it and gets no token', async () => {
    const { body: r } = await ask('carol', 'Carol');
    const denied = await decide('alice', r.request_id, 'deny');
    assert.equal(denied.status, 200, JSON.stringify(denied.body) + JSON.stringify(r));
    assert.equal(denied.body.status, 'denied');
    const res = await poll(r.request_id, r.request_secret);
    assert.deepEqual([res.body.status, res.body.token], ['denied', undefined]);
    assert.equal((await decide('alice', r.request_id, 'approve')).status, 409);
    const ev = await t.ctx.db.asUser(t.userId('carol'), async (s) =>
      (await s.query(`SELECT type FROM call_events WHERE type LIKE 'join_request.%'`)).rows,
    );
    assert.deepEqual(ev.map((e) => e.type), ['join_request.denied'], 'a signed-in requester is told on its stream');
  });

  it('requests expire after the TTL: poll 410, decisions 409, listed as expired', async () => {
    const { body: r } = await ask(null, 'Slowpoke');
    const [row] = await sql('SELECT expires_at - created_at AS ttl FROM join_requests WHERE request_id = $1', [r.request_id]);
    assert.equal(row.ttl.minutes * 60 + (row.ttl.seconds ?? 0), t.config.links.joinRequestTtlSeconds);
    await sql(`UPDATE join_requests SET expires_at = now() - interval '1 second' WHERE request_id = $1`, [r.request_id]);
    const res = await poll(r.request_id, r.request_secret);
    assert.equal(res.status, 410);
    assert.equal(res.body.error.code, 'LINK_GONE');
    assert.equal((await decide('alice', r.request_id, 'approve')).status, 409);
    const expired = await req('alice', 'GET', `/rooms/${room.call_id}/join-requests?status=expired`);
    assert.deepEqual(expired.body.join_requests.map((j: { request_id: string }) => j.request_id), [r.request_id]);
    const pending = await req('alice', 'GET', `/rooms/${room.call_id}/join-requests`);
    assert.ok(pending.body.join_requests.every((j: { request_id: string }) => j.request_id !== r.request_id));
  });

  it('approvals take uses: past max_uses an approval is 410', async () => {
    const one = (await req('alice', 'POST', '/links', { call_id: room.call_id, require_approval: true, max_uses: 1 })).body;
    const a = (await ask(null, 'A', one.short_code)).body;
    const b = (await ask(null, 'B', one.short_code)).body;
    assert.equal((await decide('alice', a.request_id, 'approve')).status, 200);
    const second = await decide('alice', b.request_id, 'approve');
    assert.equal(second.status, 410);
    assert.equal((await poll(b.request_id, b.request_secret, one.short_code)).body.status, 'pending', 'rolled back');
    assert.equal((await ask(null, 'C', one.short_code)).status, 410, 'no new requests on a used-up link');
  });

  it('authorization matrix over the creator endpoints', async () => {
    const { body: r } = await ask(null, 'Matrix');
    const list = `/rooms/${room.call_id}/join-requests`;
    const cases: Array<[string | null, 'GET' | 'POST', string, number]> = [
      ['bob', 'GET', list, 403], // invitee: sees the room, may not decide
      ['carol', 'GET', list, 404],
      [null, 'GET', list, 401],
      ['bob', 'POST', `${list}/${r.request_id}/approve`, 403],
      ['carol', 'POST', `${list}/${r.request_id}/approve`, 404],
      [null, 'POST', `${list}/${r.request_id}/deny`, 401],
      ['alice', 'POST', `${list}/00000000-0000-4000-8000-000000000000/approve`, 404],
      ['alice', 'GET', `${list}?status=bogus`, 400],
      ['alice', 'POST', `${list}/${r.request_id}/deny`, 200],
    ];
    for (const [who, method, path, status] of cases) {
      const res = await req(who, method, path);
      assert.equal(res.status, status, `${who ?? 'anonymous'} ${method} ${path}: ${JSON.stringify(res.body)}`);
    }
  });
});
