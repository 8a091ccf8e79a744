// Several participants of one call reporting quality at the same moment, as browsers
// in one call do on the same stats timer: every batch must be accepted (no 500
// "deadlock detected" from the rollup triggers), and every rollup must equal what the
// raw samples say once the dust settles.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { deliver, eventJson } from './helpers/webhooks.ts';

const PEOPLE = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
const ROUNDS = 25;
const BATCH = 12;
const ENDINGS = 15;

describe('quality reports from one call in parallel', () => {
  let t: TestApp;
  const calls: string[] = [];

  before(async () => {
    // The test database's pool has 5 connections: up to 5 batches meet in PostgreSQL at once.
    t = await startTestApp();
    for (const n of PEOPLE) {
      await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: await t.auth(n) });
    }
    await t.ctx.db.privileged(async (sql) => {
      for (const room of ['qc-a', 'qc-b']) {
        const c = await sql.query(
          `INSERT INTO calls (room_name, name, created_by, status) VALUES ($1, $1, $2, 'active') RETURNING call_id`,
          [room, t.userId('p0')],
        );
        calls.push(c.rows[0].call_id);
        for (const n of PEOPLE) {
          await sql.query(
            `INSERT INTO call_participants (call_id, user_id, identity, display_name, status)
             VALUES ($1, $2, $3, $4, 'connected')`,
            [c.rows[0].call_id, t.userId(n), t.userId(n), n],
          );
        }
      }
    });
  });
  after(() => t?.close());

  const auth: Record<string, { authorization: string }> = {};
  const failures: string[] = [];
  let accepted = 0;
  const post = (call: string, who: number, samples: unknown[]) =>
    t.app
      .inject({ method: 'POST', url: `/api/v1/calls/${call}/quality`, headers: auth[PEOPLE[who]!], payload: { samples } })
      .then((res) => {
        if (res.statusCode === 202) accepted += res.json().accepted;
        else failures.push(`quality ${res.statusCode} ${res.body}`);
      });
  // Samples from today and yesterday (a browser that reconnects after midnight), so
  // every batch touches two day rows of the call as well as the call itself.
  const batch = (round: number, who: number) =>
    Array.from({ length: BATCH }, (_, i) => ({
      recorded_at: new Date(Date.now() - ((i % 2) * 86_400_000 + (round * BATCH + i) * 10)).toISOString(),
      latency_ms: 20 + ((round + who + i) % 7) * 30,
      jitter_ms: (who + i) % 5,
      packet_loss_percent: ((round * who + i) % 4) * 0.5,
      ...(i % 3 === 0 ? { quality_score: 1 + ((who + i) % 4) } : {}),
    }));

  it('accepts every batch of the participants of a call posting at once', async (ctx) => {
    if (t.database.engine !== 'postgres') return ctx.skip('needs concurrent connections (PostgreSQL)');
    for (const n of PEOPLE) auth[n] = await t.auth(n);
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(calls.flatMap((call) => PEOPLE.map((_, who) => post(call, who, batch(round, who)))));
    }
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${ROUNDS * PEOPLE.length * 2} batches failed`);
    assert.equal(accepted, ROUNDS * PEOPLE.length * 2 * BATCH);
  });

  // What a real call adds: LiveKit's webhooks for the same seats (joins, tracks,
  // leaves) and the host ending the call while the browsers flush their last batch.
  it('accepts every batch while webhooks apply and the host ends the call', async (ctx) => {
    if (t.database.engine !== 'postgres') return ctx.skip('needs concurrent connections (PostgreSQL)');
    for (let round = 0; round < ENDINGS; round++) {
      const room = `qc-end-${round}`;
      const call = await t.ctx.db.privileged(async (sql) => {
        const c = await sql.query(
          `INSERT INTO calls (room_name, name, created_by, status) VALUES ($1, $1, $2, 'active') RETURNING call_id`,
          [room, t.userId('p0')],
        );
        for (const n of PEOPLE) {
          await sql.query(
            `INSERT INTO call_participants (call_id, user_id, identity, display_name, status, participant_sid, joined_at)
             VALUES ($1, $2, $3, $4, 'connected', $5, now())`,
            [c.rows[0].call_id, t.userId(n), t.userId(n), n, `PA_${round}_${n}`],
          );
        }
        return c.rows[0].call_id as string;
      });
      const webhook = async (event: string, who: number) => {
        const n = PEOPLE[who]!;
        const res = await deliver(
          t,
          eventJson({
            event,
            createdAt: Math.floor(Date.now() / 1000),
            room: { name: room },
            participant: { sid: `PA_${round}_${n}`, identity: t.userId(n), joinedAtMs: Date.now() - 60_000 },
            ...(event.startsWith('track') ? { track: { sid: `TR_${round}_${n}`, source: 2 } } : {}),
          }),
        );
        if (res.status !== 200) failures.push(`${event} ${res.status} ${JSON.stringify(res.body)}`);
      };
      await Promise.all([
        ...PEOPLE.map((_, who) => post(call, who, batch(round, who))),
        ...PEOPLE.map((_, who) => webhook(who % 2 ? 'track_published' : 'participant_joined', who)),
      ]);
      await Promise.all([
        ...PEOPLE.map((_, who) => post(call, who, batch(round + 1, who))),
        webhook('participant_left', 1),
        t.app
          .inject({ method: 'DELETE', url: `/api/v1/rooms/${call}`, headers: auth.p0 })
          .then((res) => void (res.statusCode !== 204 && failures.push(`end ${res.statusCode} ${res.body}`))),
      ]);
    }
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} requests failed`);
  });

  it('keeps every rollup equal to a recomputation from the samples', async (ctx) => {
    if (t.database.engine !== 'postgres') return ctx.skip('needs concurrent connections (PostgreSQL)');
    const check = (sql: string) => t.ctx.db.privileged((q) => q.query(sql)).then((r) => r.rows);
    // Each query lists the rows where a rollup and a recomputation from raw samples differ.
    const drift = {
      participants: await check(`
        WITH raw AS (SELECT participant_id, count(*) AS samples, count(quality_score) AS score_n,
                            coalesce(sum(quality_score), 0) AS score_sum, min(quality_score) AS score_min,
                            count(latency_ms) AS latency_n, coalesce(sum(latency_ms), 0) AS latency_sum,
                            max(latency_ms) AS latency_max, coalesce(sum(packet_loss_percent), 0) AS loss_sum,
                            coalesce(sum(jitter_ms), 0) AS jitter_sum, min(recorded_at) AS first_at,
                            max(recorded_at) AS last_at
                       FROM quality_metrics GROUP BY 1)
        SELECT * FROM raw FULL JOIN quality_rollups r USING (participant_id)
         WHERE (raw.samples, raw.score_n, raw.score_sum, raw.score_min, raw.latency_n, raw.latency_sum,
                raw.latency_max, raw.loss_sum, raw.jitter_sum, raw.first_at, raw.last_at)
               IS DISTINCT FROM (r.samples, r.score_n, r.score_sum, r.score_min, r.latency_n, r.latency_sum,
                r.latency_max, r.loss_sum, r.jitter_sum, r.first_at, r.last_at)`),
      seats: await check(`
        SELECT p.participant_id FROM call_participants p
          LEFT JOIN (SELECT participant_id, round(avg(quality_score), 2) AS score,
                            round(avg(packet_loss_percent), 2) AS loss, round(avg(latency_ms))::integer AS latency
                       FROM quality_metrics GROUP BY 1) m USING (participant_id)
         WHERE (p.avg_quality_score, p.packet_loss_percent, p.avg_latency_ms)
               IS DISTINCT FROM (m.score, m.loss, m.latency)`),
      calls: await check(`
        SELECT c.call_id FROM calls c
          LEFT JOIN (SELECT call_id, round(avg(quality_score), 2) AS score FROM quality_metrics GROUP BY 1) m USING (call_id)
         WHERE c.avg_quality_score IS DISTINCT FROM m.score`),
      callDays: await check(`
        WITH raw AS (SELECT call_id, (recorded_at AT TIME ZONE 'UTC')::date AS day, count(*) AS samples,
                            coalesce(sum(quality_score), 0) AS score_sum, count(quality_score) AS score_n,
                            coalesce(sum(latency_ms), 0) AS latency_sum, max(packet_loss_percent) AS loss_max
                       FROM quality_metrics GROUP BY 1, 2)
        SELECT * FROM raw FULL JOIN quality_call_days d USING (call_id, day)
         WHERE (raw.samples, raw.score_sum, raw.score_n, raw.latency_sum, raw.loss_max)
               IS DISTINCT FROM (d.samples, d.score_sum, d.score_n, d.latency_sum, d.loss_max)`),
      participantDays: await check(`
        WITH raw AS (SELECT participant_id, (recorded_at AT TIME ZONE 'UTC')::date AS day, count(*) AS samples,
                            coalesce(sum(quality_score), 0) AS score_sum, coalesce(sum(jitter_ms), 0) AS jitter_sum
                       FROM quality_metrics GROUP BY 1, 2)
        SELECT * FROM raw FULL JOIN quality_participant_days d USING (participant_id, day)
         WHERE (raw.samples, raw.score_sum, raw.jitter_sum) IS DISTINCT FROM (d.samples, d.score_sum, d.jitter_sum)`),
    };
    assert.deepEqual(drift, { participants: [], seats: [], calls: [], callDays: [], participantDays: [] });
    const [{ n }] = await check('SELECT count(*)::int AS n FROM quality_metrics');
    assert.equal(n, accepted, 'every accepted sample is stored once');
  });
});
