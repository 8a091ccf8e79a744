// Usage rollups against a hand-computed fixture, written through the real webhook path
// (the triggers run in the webhook's transaction): a session across midnight, a
// reconnect that overlaps the session it replaces, a redelivered leave, a guest still
// connected, one person in two calls at once. Then the repair path: it finds nothing
// to change, rebuilds the same rows from nothing, and restores what a bulk load with
// triggers off skipped. On PostgreSQL and PGlite.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Sql } from '../src/db/database.ts';
import { AdminService } from '../src/domains/admin/admin.service.ts';
import { repairRollups } from '../src/jobs/rollup-repair.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { enginesUnderTest } from './helpers/db.ts';
import { deliver, eventJson } from './helpers/webhooks.ts';

const D1 = '2024-05-10';
const D2 = '2024-05-11';
const at = (s: string) => Date.parse(`${s}Z`);
const sec = (s: string) => Math.floor(at(s) / 1000);
const NOON_D2 = new Date(`${D2}T12:00:00Z`);

async function snapshot(sql: Sql) {
  const q = async (text: string) => (await sql.query(text)).rows;
  return {
    calls: await q('SELECT call_id, day::text, participant_ms, participations FROM usage_call_days ORDER BY 1, 2'),
    users: await q('SELECT user_id, day::text, participant_ms, calls FROM usage_user_days ORDER BY 1, 2'),
    days: await q('SELECT day::text, shard, participant_ms, participations, calls FROM usage_days ORDER BY 1, 2'),
    minutes: await q('SELECT minute, participants FROM usage_minutes ORDER BY 1'),
    peaks: await q('SELECT day::text, peak FROM usage_day_peaks ORDER BY 1'),
    open: await q('SELECT call_id, identity, user_id, since, covered::text, closed_days::text FROM usage_open_keys ORDER BY 1, 2'),
    quality: await q('SELECT call_id, day::text, samples, score_sum, loss_sum, latency_sum FROM quality_call_days ORDER BY 1, 2'),
  };
}

for (const engine of await enginesUnderTest()) {
  describe(`usage rollups on ${engine}`, () => {
    let t: TestApp;
    let admin: AdminService;
    const id = (n: string) => t.userId(n);
    const calls: Record<string, string> = {};

    const send = async (event: string, room: string, createdAt: string, p: { sid: string; identity: string; joined: string; reason?: number }) => {
      const body = eventJson({
        event,
        createdAt: sec(createdAt),
        room: { name: room },
        participant: { sid: p.sid, identity: p.identity, joinedAtMs: at(p.joined), disconnectReason: p.reason ?? 0 },
      });
      const res = await deliver(t, body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.status;
    };

    before(async () => {
      t = await startTestApp({ engine });
      admin = new AdminService(t.ctx.db, { livekitConfigured: false, clock: () => NOON_D2 });
      for (const n of ['alice', 'bob', 'opal']) await t.app.inject({ url: '/api/v1/users/me', headers: await t.auth(n) });
      await t.ctx.db.privileged(async (sql) => {
        for (const [room, owner] of [['use-r1', 'alice'], ['use-r2', 'bob']] as const) {
          const { rows } = await sql.query(`INSERT INTO calls (room_name, name, created_by) VALUES ($1, $1, $2) RETURNING call_id`, [room, id(owner)]);
          calls[room] = rows[0].call_id;
        }
      });
      const alice = id('alice');
      const bob = id('bob');
      // alice: 23:30 -> 00:45 (replaced by a reconnect), reconnect 00:44 -> 01:00
      await send('participant_joined', 'use-r1', `${D1}T23:30:00`, { sid: 'PA_a1', identity: alice, joined: `${D1}T23:30:00` });
      await send('participant_joined', 'use-r1', `${D2}T00:10:00`, { sid: 'PA_b1', identity: bob, joined: `${D2}T00:10:00` });
      await send('participant_joined', 'use-r2', `${D2}T00:15:00`, { sid: 'PA_b2', identity: bob, joined: `${D2}T00:15:00` });
      await send('participant_joined', 'use-r1', `${D2}T00:44:00`, { sid: 'PA_a2', identity: alice, joined: `${D2}T00:44:00` });
      await send('participant_left', 'use-r1', `${D2}T00:45:00`, { sid: 'PA_a1', identity: alice, joined: `${D1}T23:30:00`, reason: 2 });
      // The same leave again under a new id, later: the earliest end stands.
      await send('participant_left', 'use-r1', `${D2}T00:50:00`, { sid: 'PA_a1', identity: alice, joined: `${D1}T23:30:00`, reason: 2 });
      await send('participant_left', 'use-r2', `${D2}T00:35:00`, { sid: 'PA_b2', identity: bob, joined: `${D2}T00:15:00` });
      await send('participant_left', 'use-r1', `${D2}T00:40:00`, { sid: 'PA_b1', identity: bob, joined: `${D2}T00:10:00` });
      await send('participant_left', 'use-r1', `${D2}T01:00:00`, { sid: 'PA_a2', identity: alice, joined: `${D2}T00:44:00` });
      // A guest still connected at noon (the clock of `admin`).
      await send('participant_joined', 'use-r1', `${D2}T11:00:00`, { sid: 'PA_g1', identity: 'guest-carol', joined: `${D2}T11:00:00` });
    });
    after(() => t.close());

    it('counts participant-minutes, calls and peaks as computed by hand', async () => {
      const u = await admin.usage(id('opal'), { from: D1, to: D2 });
      assert.deepEqual(u.days, [
        // alice 23:30-24:00
        { day: D1, participant_minutes: 30, calls: 1, participations: 1, peak_concurrent: 1 },
        // r1: alice 00:00-01:00 (the reconnect's overlap counted once) + bob 30 + guest 11:00-12:00 (open) = 150;
        // r2: bob 20. Peak 3 at 00:15-00:34 (alice, bob in r1, bob in r2).
        { day: D2, participant_minutes: 170, calls: 2, participations: 4, peak_concurrent: 3 },
      ]);
      assert.deepEqual(u.totals, { participant_minutes: 200, participations: 5, call_days: 3, peak_concurrent: 3 });
      assert.deepEqual(u.now, { participants: 1, calls: 1 });

      const r1 = await admin.usage(id('opal'), { from: D1, to: D2, room: 'use-r1' });
      assert.deepEqual(r1.days.map((d) => [d.day, d.participant_minutes, d.participations]), [[D1, 30, 1], [D2, 150, 3]]);
      const bob = await admin.usage(id('opal'), { from: D1, to: D2, user_id: id('bob') });
      assert.deepEqual(bob.days.map((d) => [d.day, d.participant_minutes, d.calls]), [[D1, 0, 0], [D2, 50, 2]]);

      const rooms = await admin.usageRooms(id('opal'), { from: D1, to: D2 });
      assert.deepEqual(rooms.rooms.map((r) => [r.room_name, r.participant_minutes, r.days_active]), [['use-r1', 180, 2], ['use-r2', 20, 1]]);
      const users = await admin.usageUsers(id('opal'), { from: D1, to: D2 });
      assert.deepEqual(users.users.map((r) => [r.user_id, r.participant_minutes, r.call_days]), [[id('alice'), 90, 2], [id('bob'), 50, 2]]);
    });

    it('the HTTP API counts an open session up to the real now', async () => {
      const res = await t.app.inject({
        url: `/api/v1/admin/usage?from=${D1}&to=${D2}`,
        headers: { authorization: `Bearer ${await tokenFor(t, 'opal')}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      // The guest's session is still open, so all of D2 from 11:00 counts: 780 minutes.
      assert.equal(res.json().days[1].participant_minutes, 60 + 30 + 780 + 20);
    });

    it('closing the open session writes what the query had added', async () => {
      await send('participant_left', 'use-r1', `${D2}T12:00:00`, { sid: 'PA_g1', identity: 'guest-carol', joined: `${D2}T11:00:00` });
      const u = await admin.usage(id('opal'), { from: D1, to: D2 });
      assert.equal(u.days[1]!.participant_minutes, 170);
      assert.equal(u.days[1]!.participations, 4);
      assert.deepEqual(u.now, { participants: 0, calls: 0 });
    });

    it('repair: nothing to change, the same rows from nothing, and what a bulk load skipped', async () => {
      await t.ctx.db.privileged((sql) =>
        sql.query(`INSERT INTO quality_metrics (call_id, participant_id, recorded_at, quality_score, latency_ms)
                   SELECT call_id, participant_id, joined_at + interval '1 minute', 3.5, 120 FROM call_participants`),
      );
      const range = { from: D1, to: '2024-05-12', retentionDays: 3650 };
      const first = await repairRollups(t.ctx.db, range);
      assert.deepEqual([first.usageRows, first.qualityRows], [0, 0], 'incremental rollups equal the rebuilt ones');
      const incremental = await t.ctx.db.privileged(snapshot);
      await t.ctx.db.privileged((sql) =>
        sql.query('DELETE FROM usage_call_days; DELETE FROM usage_user_days; DELETE FROM usage_days; DELETE FROM usage_minutes; DELETE FROM usage_day_peaks; DELETE FROM usage_open_keys; DELETE FROM quality_call_days; DELETE FROM quality_participant_days'),
      );
      const rebuilt = await repairRollups(t.ctx.db, range);
      assert.ok(rebuilt.usageRows > 0 && rebuilt.qualityRows > 0);
      assert.deepEqual(await t.ctx.db.privileged(snapshot), incremental);

      // A bulk load with triggers off (as bench/dataset.ts loads): the rollups miss it.
      await t.ctx.db.privileged(async (sql) => {
        await sql.query(`SET LOCAL session_replication_role = replica`);
        await sql.query(
          `INSERT INTO call_participants (call_id, user_id, identity, participant_sid, status, joined_at, left_at)
           VALUES ($1, $2::uuid, $2::text, 'PA_bulk', 'left', '${D2}T20:00:00Z', '${D2}T20:30:00Z')`,
          [calls['use-r2'], id('alice')],
        );
      });
      assert.equal((await admin.usage(id('opal'), { from: D2, to: D2 })).days[0]!.participant_minutes, 170);
      const repaired = await repairRollups(t.ctx.db, range);
      assert.ok(repaired.usageRows > 0);
      const after = await admin.usage(id('opal'), { from: D2, to: D2 });
      assert.equal(after.days[0]!.participant_minutes, 200);
      assert.equal((await repairRollups(t.ctx.db, range)).usageRows, 0, 'idempotent');

      // An open session loaded with triggers off: the people connected now are repaired too.
      await t.ctx.db.privileged(async (sql) => {
        await sql.query(`SET LOCAL session_replication_role = replica`);
        await sql.query(
          `INSERT INTO call_participants (call_id, user_id, identity, participant_sid, status, joined_at)
           VALUES ($1, NULL, 'guest-bulk', 'PA_bulk_open', 'connected', '${D2}T11:30:00Z')`,
          [calls['use-r2']],
        );
      });
      assert.deepEqual((await admin.usage(id('opal'), { from: D2, to: D2 })).now, { participants: 0, calls: 0 });
      assert.equal((await repairRollups(t.ctx.db, range)).usageRows, 1);
      const open = await admin.usage(id('opal'), { from: D2, to: D2 });
      assert.deepEqual(open.now, { participants: 1, calls: 1 });
      assert.equal(open.days[0]!.participant_minutes, 200 + 30);
      await send('participant_left', 'use-r2', `${D2}T12:00:00`, { sid: 'PA_bulk_open', identity: 'guest-bulk', joined: `${D2}T11:30:00` });
    });

    // People connected now whose time the query adds with more than arithmetic: a
    // reconnect that overlaps the open session, a person back after leaving the same
    // day, a person open since the day before. What the query adds at T must be what
    // closing every session at T writes into the rollups.
    it('open sessions after a reconnect add what closing them at that instant writes', async () => {
      const D3 = '2024-06-01';
      const D4 = '2024-06-02';
      const T = new Date(`${D4}T02:00:00Z`);
      const atT = new AdminService(t.ctx.db, { livekitConfigured: false, clock: () => T });
      await t.ctx.db.privileged(async (sql) => {
        for (const room of ['use-r3', 'use-r4']) await sql.query(`INSERT INTO calls (room_name, name, created_by) VALUES ($1, $1, $2)`, [room, id('alice')]);
      });
      const alice = id('alice');
      const bob = id('bob');
      // alice: D3 23:00 -> D4 00:40, reconnected at 00:30 and still connected.
      await send('participant_joined', 'use-r3', `${D3}T23:00:00`, { sid: 'PA_r1', identity: alice, joined: `${D3}T23:00:00` });
      await send('participant_joined', 'use-r3', `${D4}T00:30:00`, { sid: 'PA_r2', identity: alice, joined: `${D4}T00:30:00` });
      await send('participant_left', 'use-r3', `${D4}T00:40:00`, { sid: 'PA_r1', identity: alice, joined: `${D3}T23:00:00`, reason: 2 });
      // bob, in another room: connected since D3 22:00.
      await send('participant_joined', 'use-r4', `${D3}T22:00:00`, { sid: 'PA_r3', identity: bob, joined: `${D3}T22:00:00` });
      // A guest: 01:00 -> 01:10, back at 01:30 and still connected.
      await send('participant_joined', 'use-r3', `${D4}T01:00:00`, { sid: 'PA_r4', identity: 'guest-dan', joined: `${D4}T01:00:00` });
      await send('participant_left', 'use-r3', `${D4}T01:10:00`, { sid: 'PA_r4', identity: 'guest-dan', joined: `${D4}T01:00:00` });
      await send('participant_joined', 'use-r3', `${D4}T01:30:00`, { sid: 'PA_r5', identity: 'guest-dan', joined: `${D4}T01:30:00` });

      const range = { from: D3, to: D4 };
      const open = await atT.usage(id('opal'), range);
      assert.deepEqual(open.days, [
        // alice 60 + bob 120; both connected 23:00-23:59.
        { day: D3, participant_minutes: 180, calls: 2, participations: 2, peak_concurrent: 2 },
        // alice 120 (00:30-00:40 once), bob 120, dan 10 + 30; all three at 01:00-01:09 and from 01:30.
        { day: D4, participant_minutes: 280, calls: 2, participations: 3, peak_concurrent: 3 },
      ]);
      assert.deepEqual(open.now, { participants: 3, calls: 2 });
      const openRooms = await atT.usageRooms(id('opal'), range);
      const openUsers = await atT.usageUsers(id('opal'), range);
      const openR3 = await atT.usage(id('opal'), { ...range, room: 'use-r3' });
      const openAlice = await atT.usage(id('opal'), { ...range, user_id: alice });

      await send('participant_left', 'use-r3', `${D4}T02:00:00`, { sid: 'PA_r2', identity: alice, joined: `${D4}T00:30:00` });
      await send('participant_left', 'use-r4', `${D4}T02:00:00`, { sid: 'PA_r3', identity: bob, joined: `${D3}T22:00:00` });
      await send('participant_left', 'use-r3', `${D4}T02:00:00`, { sid: 'PA_r5', identity: 'guest-dan', joined: `${D4}T01:30:00` });
      const closed = await atT.usage(id('opal'), range);
      assert.deepEqual(closed.now, { participants: 0, calls: 0 });
      assert.deepEqual(closed.days, open.days);
      assert.deepEqual(await atT.usageRooms(id('opal'), range), openRooms);
      assert.deepEqual(await atT.usageUsers(id('opal'), range), openUsers);
      assert.deepEqual(await atT.usage(id('opal'), { ...range, room: 'use-r3' }), openR3);
      assert.deepEqual(await atT.usage(id('opal'), { ...range, user_id: alice }), openAlice);

      // Day peaks (migration 018): closing raised them; a session deleted from the peak
      // clears the day's (read from its marks meanwhile), and the repair sets it again.
      const peaks = async () => Object.fromEntries(
        (await t.ctx.db.privileged((sql) => sql.query(`SELECT day::text, peak FROM usage_day_peaks WHERE day BETWEEN $1 AND $2`, [D3, D4])))
          .rows.map((r) => [r.day, r.peak]));
      assert.deepEqual(await peaks(), { [D3]: 2, [D4]: 3 });
      await t.ctx.db.privileged((sql) => sql.query(`DELETE FROM call_participants WHERE identity = 'guest-dan'`));
      assert.deepEqual(await peaks(), { [D3]: 2, [D4]: null });
      assert.deepEqual((await atT.usage(id('opal'), range)).days.map((d) => d.peak_concurrent), [2, 2]);
      const repaired = await repairRollups(t.ctx.db, { from: D3, to: '2024-06-03', retentionDays: 3650 });
      assert.equal(repaired.usageRows, 1);
      assert.deepEqual(await peaks(), { [D3]: 2, [D4]: 2 });
      assert.deepEqual((await atT.usage(id('opal'), range)).days.map((d) => d.peak_concurrent), [2, 2]);
    });

    // A webinar room ending closes every session in one statement: more people than a
    // lock each would fit in the server's lock table (the statement takes the rollups'
    // exclusive lock instead). What it writes is what the rebuild computes.
    it('a statement that closes 500 sessions at once keeps the rollups exact', async () => {
      const D5 = '2024-07-01';
      await t.ctx.db.privileged(async (sql) => {
        const { rows } = await sql.query(`INSERT INTO calls (room_name, name, created_by) VALUES ('use-webinar', 'W', $1) RETURNING call_id`, [id('alice')]);
        await sql.query(
          `INSERT INTO call_participants (call_id, identity, participant_sid, status, joined_at)
           SELECT $1, 'web-guest-' || i, 'PW_' || i, 'connected', '${D5}T10:00:00Z'::timestamptz + make_interval(secs => i)
             FROM generate_series(1, 500) i`,
          [rows[0].call_id],
        );
        assert.equal((await sql.query(`SELECT count(*)::int AS n FROM usage_open_keys WHERE identity LIKE 'web-guest-%'`)).rows[0].n, 500);
        await sql.query(`UPDATE call_participants SET status = 'left', left_at = '${D5}T11:00:00Z' WHERE call_id = $1`, [rows[0].call_id]);
        assert.equal((await sql.query(`SELECT count(*)::int AS n FROM usage_open_keys WHERE identity LIKE 'web-guest-%'`)).rows[0].n, 0);
      });
      const at = new AdminService(t.ctx.db, { livekitConfigured: false, clock: () => new Date(`${D5}T12:00:00Z`) });
      const day = (await at.usage(id('opal'), { from: D5, to: D5 })).days[0]!;
      // 500 people from 10:00:0i to 11:00: 500 hours less 1+2+...+500 seconds.
      assert.equal(day.participant_minutes, 27_912.5);
      assert.equal(day.peak_concurrent, 500);
      assert.equal((await repairRollups(t.ctx.db, { from: D5, to: '2024-07-02', retentionDays: 3650 })).usageRows, 0);
    });
  });
}

async function tokenFor(t: TestApp, name: string) {
  const { signToken } = await import('./helpers/operators.ts');
  return signToken({ secret: t.config.auth.jwtSecret, name, appMetadata: { role: 'operator' } });
}
