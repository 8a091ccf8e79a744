import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runQualityRetention } from '../src/jobs/quality-retention.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';

describe('call quality', () => {
  let t: TestApp;
  const id = (n: string) => t.userId(n);
  let callId: string;
  let publicCallId: string;
  const seat: Record<string, string> = {};

  async function req(name: string | null, method: 'GET' | 'POST', url: string, payload?: unknown) {
    const headers = name ? await t.auth(name) : {};
    return t.app.inject({ method, url: `/api/v1${url}`, headers, payload: payload as object });
  }
  const report = (name: string | null, samples: unknown[], call = callId) =>
    req(name, 'POST', `/calls/${call}/quality`, { samples });

  before(async () => {
    t = await startTestApp();
    for (const n of ['alice', 'bob', 'carol', 'dave']) await req(n, 'GET', '/users/me');
    await t.ctx.db.privileged(async (sql) => {
      const c = await sql.query(
        `INSERT INTO calls (room_name, name, created_by, status) VALUES ('q-room', 'Q', $1, 'active'),
           ('q-public', 'P', $1, 'active') RETURNING call_id`,
        [id('alice')],
      );
      callId = c.rows[0].call_id;
      await sql.query(`UPDATE calls SET privacy = 'public' WHERE call_id = $1`, [c.rows[1].call_id]);
      publicCallId = c.rows[1].call_id;
      for (const n of ['alice', 'bob']) {
        const p = await sql.query(
          `INSERT INTO call_participants (call_id, user_id, identity, display_name, status)
           VALUES ($1, $2, $3, $4, 'connected') RETURNING participant_id`,
          [callId, id(n), id(n), n],
        );
        seat[n] = p.rows[0].participant_id;
      }
      await sql.query('INSERT INTO call_invitees (call_id, user_id, invited_by) VALUES ($1, $2, $3)', [
        callId,
        id('dave'),
        id('alice'),
      ]);
    });
  });
  after(() => t.close());

  it('validates ranges and batch size (400)', async () => {
    const bad: unknown[][] = [
      [],
      Array(101).fill({ latency_ms: 1 }),
      [{ packet_loss_percent: 101 }],
      [{ packet_loss_percent: -1 }],
      [{ latency_ms: -5 }],
      [{ jitter_ms: -0.1 }],
      [{ bandwidth_kbps: -1 }],
      [{ video_fps: -1 }],
      [{ quality_score: 5.5 }],
      [{ connection_type: 'pigeon' }],
      [{ recorded_at: 'yesterday' }],
      [{ recorded_at: new Date(Date.now() + 3_600_000).toISOString() }],
      [{ latency_ms: 1, extra: true }],
    ];
    for (const samples of bad) {
      const res = await report('alice', samples);
      assert.equal(res.statusCode, 400, `${JSON.stringify(samples).slice(0, 80)}: ${res.body}`);
    }
    assert.equal((await report('alice', Array(100).fill({ latency_ms: 1 }))).statusCode, 202);
  });

  it('scores samples without quality_score and keeps the averages current', async () => {
    await t.ctx.db.privileged((sql) => sql.query('DELETE FROM quality_metrics; DELETE FROM quality_rollups'));
    const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 12, 0, s)).toISOString();
    let res = await report('alice', [
      { recorded_at: at(5), latency_ms: 20, jitter_ms: 5, packet_loss_percent: 0 }, // MOS 4.39
      { recorded_at: at(15), latency_ms: 200, jitter_ms: 10, packet_loss_percent: 2 }, // MOS 3.91
    ]);
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { accepted: 2 });
    res = await report('bob', [{ recorded_at: at(125), quality_score: 2, latency_ms: 400, packet_loss_percent: 10 }]);
    assert.equal(res.statusCode, 202);

    const { rows } = await t.ctx.db.privileged((sql) =>
      sql.query(
        `SELECT p.identity, p.avg_quality_score, p.packet_loss_percent, p.avg_latency_ms, c.avg_quality_score AS call_avg
           FROM call_participants p JOIN calls c USING (call_id) WHERE p.call_id = $1 ORDER BY p.display_name`,
        [callId],
      ),
    );
    assert.deepEqual(
      rows.map((r) => [r.avg_quality_score, r.packet_loss_percent, r.avg_latency_ms]),
      [
        [4.15, 1, 110],
        [2, 10, 400],
      ],
    );
    assert.equal(rows[0].call_avg, 3.43, '(4.39 + 3.91 + 2) / 3, sample-weighted');

    const q = await req('alice', 'GET', `/calls/${callId}/quality?bucket_seconds=60`);
    assert.equal(q.statusCode, 200, q.body);
    const body = q.json();
    assert.equal(body.summary.samples, 3);
    assert.equal(body.summary.avg_quality_score, 3.43);
    assert.equal(body.summary.min_quality_score, 2);
    assert.equal(body.summary.max_latency_ms, 400);
    assert.equal(body.summary.max_packet_loss_percent, 10);
    const alice = body.participants.find((p: { participant_id: string }) => p.participant_id === seat.alice);
    assert.equal(alice.samples, 2);
    assert.equal(alice.avg_quality_score, 4.15);
    assert.equal(alice.min_quality_score, 3.91);
    assert.equal(alice.max_latency_ms, 200);
    // 12:00, 12:01 (empty, still plotted), 12:02
    assert.deepEqual(
      body.series.map((s: { bucket_start: string; samples: number; avg_quality_score: number | null }) => [
        s.bucket_start,
        s.samples,
        s.avg_quality_score,
      ]),
      [
        ['2024-01-01T12:00:00.000Z', 2, 4.15],
        ['2024-01-01T12:01:00.000Z', 0, null],
        ['2024-01-01T12:02:00.000Z', 1, 2],
      ],
    );
    const auto = (await req('bob', 'GET', `/calls/${callId}/quality`)).json();
    assert.equal(auto.summary.bucket_seconds, 10, 'two minutes of data: 10 s buckets');
    assert.equal((await req('alice', 'GET', `/calls/${callId}/quality?bucket_seconds=7`)).statusCode, 400);
    assert.equal(
      (await req('alice', 'GET', `/calls/${callId}/quality?bucket_seconds=10&from=2024-01-01T00:00:00Z&to=2024-01-31T00:00:00Z`))
        .statusCode,
      400,
      'too many buckets',
    );
  });

  it('authorization matrix: participant, member, outsider, anonymous', async () => {
    const sample = [{ latency_ms: 30 }];
    const cases: Array<[string | null, 'GET' | 'POST', string, number]> = [
      ['alice', 'POST', callId, 202],
      ['bob', 'POST', callId, 202],
      ['dave', 'POST', callId, 403], // invited, never joined: no seat to report about
      ['carol', 'POST', callId, 404],
      [null, 'POST', callId, 401],
      ['alice', 'GET', callId, 200],
      ['dave', 'GET', callId, 200],
      ['carol', 'GET', callId, 404],
      [null, 'GET', callId, 401],
      ['carol', 'GET', publicCallId, 403], // sees the public room, not its quality
      ['carol', 'POST', publicCallId, 403],
      ['alice', 'GET', '00000000-0000-4000-8000-000000000000', 404],
      ['alice', 'GET', 'nope', 400],
    ];
    for (const [who, method, call, status] of cases) {
      const res = method === 'POST' ? await report(who, sample, call) : await req(who, 'GET', `/calls/${call}/quality`);
      assert.equal(res.statusCode, status, `${who ?? 'anonymous'} ${method} ${call}: ${res.body}`);
    }
    assert.equal((await report(null, [{ latency_ms: -1 }])).statusCode, 401, 'anonymous is 401 before validation');
  });

  it('the retention job deletes old samples in batches and keeps the averages', async () => {
    const before = await t.ctx.db.privileged((sql) =>
      sql.query('SELECT avg_quality_score FROM calls WHERE call_id = $1', [callId]),
    );
    await t.ctx.db.privileged((sql) =>
      sql.query(
        `INSERT INTO quality_metrics (call_id, participant_id, recorded_at, latency_ms)
         SELECT $1, $2, now() - interval '100 days', 10 FROM generate_series(1, 12000)`,
        [callId, seat.alice],
      ),
    );
    const res = await runQualityRetention(t.ctx.db, 90);
    assert.equal(res.ran, true);
    assert.ok(res.deleted >= 12000, String(res.deleted));
    const { rows } = await t.ctx.db.privileged((sql) =>
      sql.query(
        `SELECT (SELECT count(*) FROM quality_metrics WHERE recorded_at < now() - interval '90 days')::int AS old,
                (SELECT count(*) FROM quality_metrics)::int AS kept,
                (SELECT avg_quality_score FROM calls WHERE call_id = $1) AS avg`,
        [callId],
      ),
    );
    assert.equal(rows[0].old, 0);
    assert.ok(rows[0].kept > 0, 'recent samples stay');
    assert.equal(rows[0].avg, before.rows[0].avg_quality_score);
  });

  it('skips a run while another instance holds the lock', { skip: false }, async (ctx) => {
    if (!t.database.url) return ctx.skip('needs a second connection (PostgreSQL)');
    const other = new pg.Client({ connectionString: t.database.url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock(727004)');
      assert.deepEqual(await runQualityRetention(t.ctx.db, 90), { ran: false, deleted: 0 });
    } finally {
      await other.end();
    }
  });
});
