// Guests report quality too: a guest who joined by an invite link has no user, so the
// join token payload carries a quality_token (this seat of this call, a few hours),
// presented in x-quality-token instead of a Bearer token.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signQualityToken } from '../src/domains/quality/quality-token.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';

interface Joined {
  call_id: string;
  participant_id: string;
  identity: string;
  quality_token: string;
}

describe('quality reports by quality token (guests)', () => {
  let t: TestApp;
  let room: { call_id: string };
  let other: { call_id: string };
  let guest: Joined;
  let elsewhere: Joined; // a guest of alice's other call
  let host: Joined;

  async function req(name: string | null, method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) {
    const res = await t.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { ...(name ? await t.auth(name) : {}), ...headers },
      payload: payload as object,
    });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  }
  const samples = [{ latency_ms: 80, jitter_ms: 4, packet_loss_percent: 1 }, { latency_ms: 120, quality_score: 3.5 }];
  const asGuest = (token: string, call = room.call_id, body: unknown = { samples }) =>
    req(null, 'POST', `/calls/${call}/quality`, body, { 'x-quality-token': token });
  const secret = () => t.config.storage.urlSigningSecret;

  async function joinAsGuest(callId: string, name: string): Promise<Joined> {
    const link = await req('alice', 'POST', '/links', { call_id: callId });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const res = await req(null, 'POST', `/join/${link.body.short_code}`, { display_name: name });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  before(async () => {
    t = await startTestApp();
    await req('alice', 'GET', '/users/me');
    room = (await req('alice', 'POST', '/rooms', { name: 'Guests report' })).body;
    other = (await req('alice', 'POST', '/rooms', { name: 'Another call' })).body;
    guest = await joinAsGuest(room.call_id, 'Guest Gia');
    elsewhere = await joinAsGuest(other.call_id, 'Guest Gus');
    host = (await req('alice', 'POST', `/rooms/${room.call_id}/token`, {})).body;
  });
  after(() => t?.close());

  it('hands every join a quality token for its own seat', () => {
    assert.match(guest.identity, /^guest-/);
    assert.equal(typeof guest.quality_token, 'string');
    assert.ok(guest.quality_token.startsWith(`${guest.participant_id}.`), 'names the seat');
    assert.equal(typeof host.quality_token, 'string', 'users get one too');
  });

  it('a guest reports with it; the host sees the samples', async () => {
    const res = await asGuest(guest.quality_token);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(res.body, { accepted: 2 });

    const q = await req('alice', 'GET', `/calls/${room.call_id}/quality`);
    assert.equal(q.status, 200, JSON.stringify(q.body));
    const seat = q.body.participants.find((p: { participant_id: string }) => p.participant_id === guest.participant_id);
    assert.ok(seat, 'the guest is in the host’s report');
    assert.equal(seat.samples, 2);
    assert.equal(seat.user_id, null);
    assert.equal(seat.display_name, 'Guest Gia');
    assert.equal(seat.max_latency_ms, 120);
    assert.equal(q.body.summary.samples, 2);
    const { rows } = await t.ctx.db.privileged((sql) =>
      sql.query('SELECT DISTINCT participant_id, call_id FROM quality_metrics'),
    );
    assert.deepEqual(rows, [{ participant_id: guest.participant_id, call_id: room.call_id }], 'written for that seat only');
  });

  it('refuses a token for another call, another seat, expired, tampered or malformed', async () => {
    const [pid, exp, sig] = guest.quality_token.split('.') as [string, string, string];
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const cases: Array<[string, string, string, number]> = [
      ['another call’s token at this call', elsewhere.quality_token, room.call_id, 401],
      ['this call’s token at another call', guest.quality_token, other.call_id, 401],
      ['the seat swapped for the host’s', `${host.participant_id}.${exp}.${sig}`, room.call_id, 401],
      ['a later expiry', `${pid}.${Number(exp) + 3600}.${sig}`, room.call_id, 401],
      ['a flipped signature', `${pid}.${exp}.${flip(sig)}`, room.call_id, 401],
      ['expired', signQualityToken(secret(), room.call_id, guest.participant_id, -60), room.call_id, 401],
      ['signed with another secret', signQualityToken(`${secret()}x`, room.call_id, guest.participant_id), room.call_id, 401],
      ['garbage', 'not-a-token', room.call_id, 401],
      ['empty', '', room.call_id, 401],
      ['too long', 'a'.repeat(5000), room.call_id, 401],
      // Correctly signed, but for a seat that is not in this call: nothing to write to.
      ['a seat of another call', signQualityToken(secret(), room.call_id, elsewhere.participant_id), room.call_id, 404],
      ['a call that does not exist', signQualityToken(secret(), '00000000-0000-4000-8000-000000000000', guest.participant_id),
        '00000000-0000-4000-8000-000000000000', 404],
    ];
    for (const [what, token, call, status] of cases) {
      const res = await asGuest(token, call);
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(typeof res.body.error.code, 'string', what);
      assert.equal(typeof res.body.error.message, 'string', what);
    }
    assert.equal((await asGuest(guest.quality_token, room.call_id, { samples: [{ latency_ms: -1 }] })).status, 400);
    assert.equal((await req(null, 'POST', `/calls/${room.call_id}/quality`, { samples })).status, 401, 'no credential');
    assert.equal(
      (await req(null, 'GET', `/calls/${room.call_id}/quality`, undefined, { 'x-quality-token': guest.quality_token })).status,
      401,
      'the token reports; it does not read',
    );
    const { rows } = await t.ctx.db.privileged((sql) => sql.query('SELECT count(*)::int AS n FROM quality_metrics'));
    assert.equal(rows[0].n, 2, 'nothing written by a refused token');
  });

  it('a signed-in user still reports with its Bearer token, which wins over a quality token', async () => {
    const res = await req('alice', 'POST', `/calls/${room.call_id}/quality`, { samples }, { 'x-quality-token': guest.quality_token });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const { rows } = await t.ctx.db.privileged((sql) =>
      sql.query('SELECT participant_id, count(*)::int AS n FROM quality_metrics GROUP BY 1 ORDER BY 2, 1'),
    );
    assert.deepEqual(
      rows.map((r) => r.participant_id).sort(),
      [guest.participant_id, host.participant_id].sort(),
      'alice’s samples went to her own seat',
    );
    assert.equal((await req('bob', 'POST', `/calls/${room.call_id}/quality`, { samples })).status, 404, 'a stranger');
  });
});
